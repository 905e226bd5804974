"""The perturbed persona file: seeded, within bounds, the same bytes for any workers."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from monilab.lab.commands.generate import GenerateOptions, generate
from sim.agents.parameters import FreeParameter
from sim.agents.personas import PersonaError, default_personas
from sim.agents.perturb import perturb_personas, perturbed_values, shifted_value


def _values(amount: float, seed: int) -> dict[str, float]:
    return {
        p.name: p.value
        for p in perturb_personas(default_personas(), amount, seed).free_parameters()
    }


def test_same_arguments_give_the_same_persona_file() -> None:
    first = perturb_personas(default_personas(), 0.25, 3)
    second = perturb_personas(default_personas(), 0.25, 3)
    assert first.to_toml() == second.to_toml()
    assert first.sha256 == second.sha256 != default_personas().sha256
    assert "perturbed ±0.25 seed 3" in first.source


def test_another_perturb_seed_moves_the_values_differently() -> None:
    assert _values(0.25, 3) != _values(0.25, 4)


def test_values_stay_within_bounds_and_within_the_relative_amount() -> None:
    base = {p.name: p for p in default_personas().free_parameters()}
    moved = 0
    for name, value in _values(0.3, 5).items():
        p = base[name]
        assert p.low <= value <= p.high
        if p.log:
            assert p.value / 1.3 - 1e-9 <= value <= p.value * 1.3 + 1e-9
        elif p.value:
            assert abs(value - p.value) <= 0.3 * abs(p.value) + 1e-9
        moved += value != p.value
    assert moved > len(base) / 2


def test_shift_is_clipped_to_the_bounds() -> None:
    p = FreeParameter("x", value=0.95, low=0.0, high=1.0)
    assert shifted_value(p, 0.5, 1.0) == 1.0
    assert shifted_value(FreeParameter("y", 0.0, 0.0, 2.0), 0.5, -1.0) == 0.0
    assert shifted_value(FreeParameter("z", 0.0, 0.0, 2.0), 0.5, 1.0) == 1.0


def test_zero_returns_the_set_and_too_much_is_refused() -> None:
    assert perturb_personas(default_personas(), 0.0, 1) is default_personas()
    with pytest.raises(PersonaError):
        perturbed_values(default_personas(), 1.5, 1)


def _digest(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*.parquet"))
    }


def test_perturbed_dataset_is_the_same_bytes_for_any_workers(tmp_path: Path) -> None:
    common = dict(users=40, days=15, seed=2, perturb=0.25, perturb_seed=9, shard_size=20)
    manifests = {}
    for workers in (1, 2):
        options = GenerateOptions(
            **common, workers=workers, out=tmp_path / str(workers), no_progress=True
        )
        manifests[workers] = generate(options)
    assert _digest(tmp_path / "1") == _digest(tmp_path / "2")
    for manifest in manifests.values():
        assert manifest["perturb"] == 0.25 and manifest["perturb_seed"] == 9
    shifted = perturb_personas(default_personas(), 0.25, 9)
    recorded = json.loads((tmp_path / "1" / "manifest.json").read_text())
    assert recorded["persona_file_sha256"] == shifted.sha256
    assert (tmp_path / "1" / "personas.toml").read_text() == shifted.to_toml()


def test_savings_and_investment_rates_move_too() -> None:
    """They are fixed in the file yet separate the personas most; a perturbed population
    that kept them would test the classifiers on the same savers."""
    base = default_personas().document["personas"]
    shifted = perturb_personas(default_personas(), 0.25, 3).document["personas"]
    moved = 0
    for name, persona in base.items():
        for field in ("savings_rate", "investment_rate"):
            before, after = persona["saving"][field], shifted[name]["saving"][field]
            assert 0.0 <= after <= 0.9
            assert abs(after - before) <= 0.25 * before + 1e-9 or before == 0.0
            moved += after != before
    assert moved >= len(base)
