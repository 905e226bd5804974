"""Calibration against microdata: grouped space, objective, truth recovery, CLI, real ledger."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.adapters import load_reference
from calibration.battery import BatteryConfig
from calibration.battery_loss import BatteryLoss, battery_loss
from calibration.loop import calibrate
from calibration.objectives.reference import ReferenceObjective
from calibration.simulator import Simulator
from calibration.space import GroupedSpace, persona_field_groups
from monilab.cli.main import main
from monilab.contracts.errors import MonilabError
from monilab.contracts.vocabulary import CATEGORIES
from sim.agents.personas import default_persona_path, default_personas

FAST = BatteryConfig(c2st_max_per_class=1500, gbm_max_iter=40)
COFFEE = "*.categories.coffee.median"
TXN = "*.spending.txn_per_day"


def test_grouped_space_moves_every_member_together() -> None:
    space = GroupedSpace.from_personas(default_personas())
    bands = ["00-06", "06-11", "14-17", "17-21", "21-24"]  # 11-14 is the fixed reference band
    shared = [f"profiles.ticket_hours.coffee.{band}" for band in bands]
    assert space.names[-5:] == shared  # shared profile parameters: one group each, no "*"
    fields = persona_field_groups(default_personas())
    assert fields == space.names[: len(fields)]
    assert COFFEE in fields and all(n.startswith("*.") for n in fields)
    assert "*.spending.day_shape" in fields  # the realism parameters are free too
    origin = space.expand(space.defaults())
    assert origin == {p.name: p.value for p in default_personas().free_parameters()}
    shifted = space.expand(space.defaults() | {COFFEE: 0.1})
    factor = (15000 / 2000) ** 0.1
    for name, value in shifted.items():
        expected = origin[name] * factor if ".coffee.median" in name else origin[name]
        assert value == pytest.approx(expected)
    top = space.expand(space.defaults() | {TXN: 0.5})  # clipped at the bounds, never beyond
    assert all(v <= 8.0 for k, v in top.items() if k.endswith("txn_per_day"))
    point = space.defaults() | {COFFEE: 0.2, TXN: -0.3}
    assert space.from_unit(space.to_unit(point)) == pytest.approx(point)
    with pytest.raises(MonilabError, match="no free parameters match"):
        GroupedSpace.from_personas(default_personas(), ["nothing.*"])


def test_objective_is_zero_on_itself_and_fixes_its_metric_set() -> None:
    simulator = Simulator(default_personas(), users=60, days=20)
    transactions, users = simulator({}, seed=4)
    objective = pickle.loads(
        pickle.dumps(BatteryLoss.build(transactions, amount_scale_assumed=False))
    )
    assert objective(transactions, users) == pytest.approx(0.0, abs=1e-12)
    assert ("amount_ks", "absolute") in objective.metrics
    assert not any(m.startswith("c2st") for m, _ in objective.metrics)
    other, _ = simulator({COFFEE: 12000.0}, seed=4)
    assert objective(other, users) > 0.0
    frame = objective.battery(other)
    frame.loc[frame["metric"] == "amount_ks", "score"] = np.nan
    # An objective metric that becomes undefined scores the worst loss, 1.
    assert battery_loss(frame, objective.metrics) > battery_loss(
        objective.battery(other), objective.metrics
    )


def test_truth_recovery_mechanics_gap_shrinks_on_held_out_users(tmp_path: Path) -> None:
    personas = default_personas()
    space = GroupedSpace.from_personas(personas, [COFFEE, TXN])
    truth = {COFFEE: 0.25, TXN: 0.1}
    reference, _ = Simulator(personas, users=300, days=30)(space.expand(truth), seed=2024)
    simulator = Simulator(personas, users=150, days=30)
    result = calibrate(
        simulator,
        ReferenceObjective(reference, battery=FAST),
        out_dir=tmp_path,
        budget=12,
        sampler="tpe",
        space=space,
        seed=5,
    )
    held = result.parts["held_out"]
    assert result.split["by"] == "user" and result.split["held_out_users"] == 90
    assert len(held.losses_final) == 3 and held.floor_kind == "synthetic"
    assert held.loss_final < held.loss_default
    assert held.gap_closed > 0.3
    assert abs(result.params[COFFEE] - truth[COFFEE]) < abs(0.0 - truth[COFFEE])
    for model in ("logistic", "gbm"):
        auc = held.auc(model)
        assert all(0.0 <= v <= 1.0 for v in auc.values())
    summary = json.loads(json.dumps(result.to_dict()))
    assert summary["parts"]["held_out"]["c2st_auc"]["gbm"]["final"] is not None
    assert isinstance(summary["parts"]["held_out"]["worse_beyond_floor"], list)
    assert {"metric", "default", "final", "floor_synthetic", "tolerance"} <= set(
        summary["parts"]["held_out"]["metrics"][0]
    )
    assert summary["params"]["young_saver.categories.coffee.median"]["default"] == 5800.0


BANK_MAPPING = """
[source]
name = "toy_bank"
currency = "KRW"

[columns]
ts = "ts"
amount = "amount"
category = "category"
method = "method"
user_id = "user_id"

[dates]
formats = ["%Y-%m-%d %H:%M:%S"]

[declared_missing]
transactions = ["merchant", "is_anomaly", "anomaly_kind"]
users = ["spending_type", "age", "gender", "occupation", "region", "monthly_income", "signup_at"]

[methods]
card = "card"
transfer = "transfer"
auto_debit = "auto_debit"
cash = "cash"

[kinds."*"]
direction = "out"
"""


def write_bank(tmp_path: Path) -> tuple[Path, Path]:
    """A multi-user microdata CSV (a small simulation) and its mapping."""
    transactions, _ = Simulator(default_personas(), users=40, days=21)({}, seed=77)
    out = transactions[transactions["direction"] == "out"]
    csv = tmp_path / "bank.csv"
    frame = out[["ts", "amount", "category", "method", "user_id"]].assign(
        ts=pd.to_datetime(out["ts"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    )
    frame.to_csv(csv, index=False)
    categories = "\n".join(f'{c} = "{c}"' for c in CATEGORIES)
    mapping = tmp_path / "bank.toml"
    mapping.write_text(BANK_MAPPING + '[kinds."*".categories]\n' + categories + "\n")
    return csv, mapping


def test_cli_microdata_writes_outputs_with_held_out_scores(tmp_path: Path, capsys) -> None:
    csv, mapping = write_bank(tmp_path)
    out = tmp_path / "out"
    argv = ["calibrate", "--personas", str(default_persona_path()), "--reference", str(csv)]
    argv += ["--mapping", str(mapping), "--budget", "3", "--sampler", "tpe", "--users", "20"]
    argv += ["--days", "21", "--params", COFFEE, "--out", str(out)]
    assert main(argv) == 0
    assert "held-out part (split by user) loss" in capsys.readouterr().out
    summary = json.loads((out / "calibration.json").read_text())
    assert summary["split"]["by"] == "user" and summary["space"] == "grouped"
    missing = {"merchant", "is_anomaly", "anomaly_kind", "spending_type", "age", "gender"}
    missing |= {"occupation", "region", "monthly_income", "signup_at"}
    assert summary["inputs"]["declared_missing"] == sorted(missing)
    held = summary["parts"]["held_out"]
    assert len(held["losses_final"]) == 3 and held["noise_floor"] is not None
    report = (out / "report.html").read_text()
    assert report.count("data:image/png;base64,") == 3  # convergence, distributions, profiles
    assert (out / "default.calibrated.toml").is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--reference", "x.csv"], "go together"),
        (["--reference", "x.csv", "--mapping", "m.toml", "--targets", "t.csv"], "not both"),
        (["--reference", "x.csv", "--mapping", "m.toml", "--sigma0", "2"], "sigma0"),
    ],
)
def test_cli_microdata_bad_input_is_one_line(tmp_path: Path, capsys, extra, message) -> None:
    argv = ["calibrate", "--personas", str(default_persona_path()), "--budget", "3"]
    argv += ["--out", str(tmp_path / "o"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_real_ledger_one_user_split_by_months(ledger_path: Path, tmp_path: Path) -> None:
    reference = load_reference("household_ledger", ledger_path)
    simulator = Simulator(default_personas(), users=60, days=60)
    result = calibrate(
        simulator,
        ReferenceObjective(reference, battery=FAST),
        out_dir=tmp_path,
        budget=4,
        sampler="tpe",
        params=[TXN, COFFEE],
        seed=1,
    )
    assert result.split["by"] == "time" and result.split["amount_scale_assumed"]
    held = result.parts["held_out"]
    assert held.floor_kind == "reference" and math.isfinite(held.noise_floor)
    assert all(b == "relative" for m, b in result.objective_metrics if "amount" in m)
    assert result.loss_best_fit <= result.loss_default_fit
    assert all(math.isfinite(x) for x in held.losses_default + held.losses_final)
