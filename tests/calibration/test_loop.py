"""The calibration loop: simulator purity, truth recovery, checkpoint and resume."""

from __future__ import annotations

import json
import math
import pickle

import pytest

from calibration.loop import calibrate
from calibration.objectives.targets import TargetsObjective
from calibration.simulator import Simulator, simulate, targets_from_simulation
from calibration.targets import default_targets
from monilab.contracts.errors import MonilabError
from sim.agents.personas import default_personas

COFFEE = "*.categories.coffee.median"


@pytest.fixture(scope="module")
def small() -> Simulator:
    return Simulator(default_personas(), users=300, days=30)


def test_simulate_is_deterministic_and_picklable(small: Simulator) -> None:
    copy = pickle.loads(pickle.dumps(small))
    a_tx, a_users = copy({COFFEE: 9000.0}, seed=5)
    b_tx, b_users = simulate(
        {COFFEE: 9000.0}, seed=5, users=300, days=30, personas=default_personas()
    )
    assert a_tx.equals(b_tx) and a_users.equals(b_users)
    c_tx, _ = small({}, seed=5)
    assert c_tx["amount"].sum() != a_tx["amount"].sum()


def test_calibration_recovers_a_hidden_truth(small: Simulator, tmp_path) -> None:
    truth = 9500.0
    transactions, users = small({COFFEE: truth}, seed=12345)
    targets = targets_from_simulation(default_targets(), transactions, users)
    result = calibrate(
        small,
        TargetsObjective(targets),
        out_dir=tmp_path,
        budget=16,
        seed=1,
        sampler="tpe",
        params=[COFFEE],
    )
    fit = result.held_out["fit"]
    assert len(fit.losses_final) == 3
    assert fit.loss_final < 0.7 * fit.loss_default
    assert fit.gap_closed > 0.3

    # Only the population's coffee ticket is identifiable from the targets (many per-persona
    # medians give the same mean), so judge recovery by what the parameters produce, on a
    # seed the loop never saw.
    def coffee_ticket(params: dict) -> float:
        tx, _ = small(params, seed=777)
        coffee = tx[(tx["category"] == "coffee") & (tx["direction"] == "out")]
        return float(coffee["amount"].mean())

    truth_ticket = coffee_ticket({COFFEE: truth})
    default_error = abs(math.log(coffee_ticket(result.defaults) / truth_ticket))
    final_error = abs(math.log(coffee_ticket(result.params) / truth_ticket))
    assert final_error < 0.5 * default_error


def test_resume_replays_the_same_trials(tmp_path) -> None:
    tiny = Simulator(default_personas(), users=40, days=7)
    targets = TargetsObjective(default_targets())
    kwargs = {"budget": 6, "seed": 3, "sampler": "tpe", "params": [COFFEE], "held_out_seeds": 0}
    full = calibrate(tiny, targets, out_dir=tmp_path / "full", **kwargs)
    calibrate(tiny, targets, out_dir=tmp_path / "part", **(kwargs | {"budget": 4}))
    resumed = calibrate(tiny, targets, out_dir=tmp_path / "part", **kwargs)
    assert [t.params for t in resumed.trials] == [t.params for t in full.trials]
    assert [t.loss for t in resumed.trials] == [t.loss for t in full.trials]
    saved = json.loads((tmp_path / "part" / "trials.json").read_text())
    assert len(saved["trials"]) == 6
    with pytest.raises(MonilabError, match="different calibration run"):
        calibrate(tiny, targets, out_dir=tmp_path / "part", **(kwargs | {"seed": 4}))


def test_nelder_mead_baseline_resumes(tmp_path) -> None:
    tiny = Simulator(default_personas(), users=40, days=7)
    kwargs = {
        "budget": 5,
        "seed": 3,
        "sampler": "nelder-mead",
        "params": ["young_saver.*"],
        "held_out_seeds": 0,
    }
    targets = TargetsObjective(default_targets())
    first = calibrate(tiny, targets, out_dir=tmp_path, **kwargs)
    again = calibrate(tiny, targets, out_dir=tmp_path, **(kwargs | {"budget": 6}))
    assert len(first.trials) == 5 and len(again.trials) == 6
    assert [t.params for t in again.trials[:5]] == [t.params for t in first.trials]


def test_parallel_batches_run_in_worker_processes(tmp_path) -> None:
    tiny = Simulator(default_personas(), users=20, days=3)
    result = calibrate(
        tiny,
        TargetsObjective(default_targets()),
        out_dir=tmp_path,
        budget=4,
        jobs=2,
        sampler="tpe",
        params=[COFFEE],
        held_out_seeds=0,
    )
    assert [t.batch for t in result.trials] == [0, 0, 1, 1]
