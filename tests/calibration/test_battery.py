"""Microdata metric battery: elementary metrics, identical / same-source / different samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration.battery import BatteryConfig, run_battery
from calibration.battery_metrics import BATTERY_METRICS
from calibration.c2st import c2st_auc, c2st_features
from calibration.distances import js_distance, ks_complement, tv_complement, wasserstein_sd
from calibration.frames import HAS_TIME

FAST = BatteryConfig(c2st_max_per_class=1500, gbm_max_iter=60)


def by_metric(frame: pd.DataFrame, column: str = "value") -> dict[tuple[str, str], float]:
    return {
        (m, b): v for m, b, v in zip(frame["metric"], frame["basis"], frame[column], strict=True)
    }


def test_elementary_metrics_by_hand() -> None:
    assert ks_complement(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == (1.0, 0.0)
    tv, score = tv_complement(pd.Series(list("aabb")), pd.Series(list("aaaa")))
    assert (tv, score) == (0.5, 0.5)
    assert wasserstein_sd(np.array([0.0, 2.0]), np.array([1.0, 3.0])) == pytest.approx(1.0)
    assert js_distance(np.array([0, 1, 1]), np.array([0, 1, 1]), 3) == 0.0
    assert js_distance(np.array([0, 0]), np.array([1, 1]), 2) == pytest.approx(1.0)
    assert np.isnan(ks_complement(np.array([]), np.array([1.0]))[0])


def test_identical_samples_score_one(population) -> None:
    tx, _ = population(1, n_users=20, months=2)
    result = run_battery(tx, tx, seed=3, config=FAST)
    distances = result.loc[~result["metric"].str.startswith("c2st")]
    assert (distances["score"] == 1.0).all()
    aucs = result.loc[result["metric"].str.startswith("c2st"), "value"]
    assert aucs.tolist() == pytest.approx([0.5, 0.5], abs=0.02)


def test_same_source_is_hard_to_detect(population) -> None:
    a, _ = population(1, n_users=40, months=2)
    b, _ = population(2, n_users=40, months=2)
    values = by_metric(run_battery(a, b, seed=3, config=FAST))
    assert values[("c2st_auc_logistic", "")] < 0.58
    assert values[("c2st_auc_gbm", "")] < 0.58
    assert values[("amount_ks", "absolute")] < 0.05


def test_different_samples_are_detected(population) -> None:
    a, _ = population(1, n_users=40, months=2)
    b, _ = population(2, n_users=40, months=2, hour_shift=7.0, amount_factor=4.0)
    values = by_metric(run_battery(a, b, seed=3, config=FAST))
    assert values[("c2st_auc_logistic", "")] > 0.9
    assert values[("c2st_auc_gbm", "")] > 0.95
    assert values[("hour_band_tv", "")] > 0.3
    assert values[("log_amount_wasserstein", "absolute")] > 1.0
    # A pure change of scale vanishes in the relative basis.
    assert values[("log_amount_wasserstein", "relative")] < 0.1


def test_battery_is_deterministic(population) -> None:
    a, _ = population(1, n_users=15, months=2)
    b, _ = population(2, n_users=15, months=2, hour_shift=2.0)
    first = run_battery(a, b, seed=9, config=FAST)
    pd.testing.assert_frame_equal(first, run_battery(a, b, seed=9, config=FAST))


def test_unknown_times_are_skipped(population) -> None:
    a, _ = population(1, n_users=15, months=2)
    b, _ = population(2, n_users=15, months=2)
    unknown = a.assign(**{HAS_TIME: False})
    values = by_metric(run_battery(unknown, b, seed=1, config=FAST))
    assert np.isnan(values[("hour_ks", "")]) and np.isnan(values[("hour_band_tv", "")])
    assert not np.isnan(values[("weekday_tv", "")])
    features, _ = c2st_features(unknown, b, relative_amounts=False)
    assert "hour" not in features and "day_of_month" in features
    half = a.assign(**{HAS_TIME: np.arange(len(a)) % 2 == 0})
    hour_ks = by_metric(run_battery(half, a, seed=1, config=FAST))[("hour_ks", "")]
    assert hour_ks < 0.05  # the known half is a fair sample of the same hours


def test_objective_basis_follows_the_currency_assumption(population) -> None:
    a, _ = population(1, n_users=10, months=2)
    for assumed, basis in ((True, "relative"), (False, "absolute")):
        result = run_battery(a, a, seed=1, amount_scale_assumed=assumed, config=FAST)
        in_objective = set(result.loc[result["in_objective"], "basis"]) - {""}
        assert in_objective == {basis}
        assert not result.loc[result["metric"].str.startswith("c2st"), "in_objective"].any()


def test_c2st_needs_enough_rows(population) -> None:
    a, _ = population(1, n_users=2, months=1)
    aucs = c2st_auc(a.head(5), a, seed=1, config=FAST)
    assert np.isnan(aucs["logistic"]) and np.isnan(aucs["gbm"])


def test_registry_is_the_battery_in_order(population) -> None:
    keys = [(m.name, m.basis) for m in BATTERY_METRICS]
    assert len(set(keys)) == len(keys)
    assert {m.prop for m in BATTERY_METRICS} == {
        "amounts",
        "timing",
        "composition",
        "per_user",
        "detectability",
    }
    a, _ = population(1, n_users=10, months=2)
    frame = run_battery(a, a, seed=1, config=FAST, classifiers=False)
    expected = [(m.name, m.basis) for m in BATTERY_METRICS if not m.classifier]
    assert list(zip(frame["metric"], frame["basis"], strict=True)) == expected
