"""Fidelity report: shape, noise floors, reproducibility, and the real ledger when present."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from calibration.adapters import load_reference
from calibration.battery import BatteryConfig
from calibration.fidelity import REPORT_COLUMNS, fidelity_report, noise_floor

FAST = BatteryConfig(c2st_max_per_class=1000, gbm_max_iter=60)


def test_report_shape_and_noise_floors(population) -> None:
    reference, _ = population(1, n_users=30, months=3)
    synthetic, _ = population(2, n_users=30, months=3, hour_shift=3.0)
    again, _ = population(3, n_users=30, months=3, hour_shift=3.0)

    report = fidelity_report(reference, synthetic, seed=5, noise_floor_sample=again, config=FAST)
    metrics = report.metrics.set_index(["metric", "basis"])

    assert list(report.metrics.columns) == list(REPORT_COLUMNS)
    assert report.seed == 5 and report.config_hash == FAST.digest() and report.duration_s > 0
    assert report.details["floor_split"] == "user"
    assert report.metrics["noise_floor"].notna().all()
    assert report.metrics["noise_floor_synthetic"].notna().all()
    scores = report.metrics["score"]
    assert ((scores >= 0) & (scores <= 1)).all()
    # The hour shift stands out above both floors; the amount distribution does not.
    hour = metrics.loc[("hour_band_tv", "")]
    assert hour["value"] > 3 * max(hour["noise_floor"], hour["noise_floor_synthetic"])
    amount = metrics.loc[("amount_ks", "absolute")]
    assert amount["value"] < 2 * amount["noise_floor"] + 0.02
    assert set(report.properties().index) == {
        "amounts",
        "timing",
        "composition",
        "per_user",
        "detectability",
    }
    assert 0 < report.objective_loss() < 1


def test_report_is_reproducible(population) -> None:
    reference, _ = population(1, n_users=12, months=3)
    synthetic, _ = population(2, n_users=12, months=3)
    first = fidelity_report(reference, synthetic, seed=8, config=FAST).metrics
    second = fidelity_report(reference, synthetic, seed=8, config=FAST).metrics
    assert first.equals(second)
    assert first["noise_floor_synthetic"].isna().all()


def test_simulator_noise_floor_takes_two_samples(population) -> None:
    a, _ = population(1, n_users=20, months=2)
    b, _ = population(2, n_users=20, months=2)
    floor = noise_floor(a, b, seed=1, config=FAST).set_index(["metric", "basis"])
    assert floor.loc[("category_tv", ""), "value"] < 0.05
    assert floor.loc[("c2st_auc_logistic", ""), "value"] < 0.6


def test_single_month_reference_has_no_floor(population) -> None:
    reference, _ = population(1, n_users=1, months=1)
    report = fidelity_report(reference, reference, seed=1, config=FAST)
    assert report.metrics["noise_floor"].isna().all()
    assert report.details["floor_split"].startswith("not possible")


def test_real_ledger_against_itself_and_a_toy(ledger_path: Path, population) -> None:
    ledger = load_reference("household_ledger", ledger_path)
    synthetic, _ = population(1, n_users=30, months=6, start="2017-01-01")
    report = fidelity_report(ledger, synthetic, seed=2, config=FAST)
    metrics = report.metrics.set_index(["metric", "basis"])

    assert report.details["floor_split"] == "time" and report.details["amount_scale_assumed"]
    assert report.metrics["noise_floor"].notna().all()
    objective = report.metrics.loc[report.metrics["in_objective"]]
    assert set(objective["basis"]) == {"", "relative"}  # INR levels are not evidence
    # One person's ledger and a toy population differ by more than the ledger from itself.
    assert (
        metrics.loc[("category_tv", ""), "value"] > metrics.loc[("category_tv", ""), "noise_floor"]
    )
    assert np.isfinite(metrics.loc[("hour_ks", ""), "value"])
