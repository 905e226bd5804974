"""``monilab calibrate``: outputs, untouched input, one-line errors."""

from __future__ import annotations

import json
import shutil

import pytest

from calibration.paths import bundled_targets
from monilab.cli.main import main
from sim.agents.personas import default_persona_path, load_personas


def test_cli_writes_three_outputs_and_leaves_input(tmp_path, capsys) -> None:
    personas = tmp_path / "personas.toml"
    shutil.copy(default_persona_path(), personas)
    before = personas.read_bytes()
    out = tmp_path / "out"
    targets = str(bundled_targets("seoul_coffee_2024"))
    argv = ["calibrate", "--personas", str(personas), "--targets", targets]
    argv += ["--validate", targets, "--budget", "3", "--sampler", "tpe"]
    argv += ["--params", "*.coffee.median", "--users", "20", "--days", "3", "--out", str(out)]
    assert main(argv) == 0
    assert personas.read_bytes() == before
    summary = json.loads((out / "calibration.json").read_text())
    assert summary["calls"] == {"search": 3, "held_out": 7}
    assert set(summary["held_out"]) == {"fit", "validate"}
    assert "noise_floor" in summary["held_out"]["fit"]
    assert "data:image/png;base64," in (out / "report.html").read_text()
    calibrated = load_personas(out / "personas.calibrated.toml").free_parameters()
    values = {p.name: p.value for p in calibrated}
    for name, entry in summary["params"].items():
        assert values[name] == pytest.approx(entry["final"])
    assert len(json.loads((out / "trials.json").read_text())["trials"]) == 3


@pytest.mark.parametrize(
    "extra",
    [
        ["--targets", "missing.csv"],
        ["--reference", "x", "--mapping", "y"],
        ["--targets", "{targets}", "--budget", "0"],
        ["--targets", "{targets}", "--params", "nothing.*"],
    ],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys, extra) -> None:
    targets = str(bundled_targets("seoul_coffee_2024"))
    extra = [e.format(targets=targets) for e in extra]
    argv = ["calibrate", "--personas", str(default_persona_path()), "--budget", "3"]
    argv += ["--users", "20", "--days", "3", "--out", str(tmp_path / "o"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("monilab calibrate: error:") and "\n" not in err
