"""Tests for analysis.real_data: TSTR/TRTR on a real household ledger."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis import anomaly, forecast, real_data
from calibration.adapters import real_transactions
from calibration.paths import bundled_mapping, reference_dir
from monilab.contracts.errors import MonilabError

LEDGER = "household_ledger/daily_household_transactions.csv"


@pytest.fixture(scope="module")
def synthetic(transactions: pd.DataFrame) -> tuple[dict[str, Any], pd.DataFrame]:
    rows = forecast.weekly_rows(transactions[transactions["user_id"] <= 120])
    train, _ = forecast.time_split(rows, test_weeks=3)
    models = {
        b: forecast.TwoStageForecaster(b, n_estimators=15).fit(train, train["amount"])
        for b in ("lightgbm", "xgboost")
    }
    return models, train


def _one_household(transactions: pd.DataFrame) -> pd.DataFrame:
    """A long-history single user standing in for a real household: the most active of the
    users seen on the dataset's first and last days (quiet spells can leave a user's first or
    last days empty, and a household's own last day ends its weeks)."""
    days = transactions.groupby("user_id")["ts"].agg(["min", "max"])
    first, last = days["min"].dt.normalize(), days["max"].dt.normalize()
    whole = days.index[(first == first.min()) & (last == last.max())]
    active = transactions[transactions["user_id"].isin(whole)]
    user = active.groupby("user_id").size().idxmax()
    return transactions[transactions["user_id"] == user].drop(columns=["is_anomaly"])


SMALL = {"origins": 2, "horizon": 1, "validation_weeks": 1, "n_estimators": 15, "n_boot": 200}
"""Rolling origins that fit the fixture's 17 weeks."""


def test_origin_windows_are_consecutive_and_end_at_the_last_week() -> None:
    weeks = pd.date_range("2020-01-06", periods=80, freq="7D").to_numpy()
    windows = real_data.origin_windows(weeks, origins=3, horizon=13, validation=13)
    assert [w.test for w in windows[1:]] == [w.end for w in windows[:-1]]
    assert windows[-1].end == pd.Timestamp(weeks[-1]) + pd.Timedelta(days=7)
    for w in windows:
        assert w.validation == w.test - pd.Timedelta(weeks=13)
        assert w.end == w.test + pd.Timedelta(weeks=13)
    with pytest.raises(MonilabError, match="weeks"):
        real_data.origin_windows(weeks[:60], origins=3, horizon=13, validation=13)


def test_forecast_check_compares_on_the_same_test_weeks(
    transactions: pd.DataFrame, synthetic: tuple[dict[str, Any], pd.DataFrame]
) -> None:
    models, train = synthetic
    household = _one_household(transactions)
    out = real_data.forecast_check(household, models, train, **SMALL)
    weeks = np.sort(forecast.weekly_rows(household)["week"].unique())
    assert out["test_weeks"] == 2 and len(out["origins"]) == 2
    assert out["test_first_week"] == str(pd.Timestamp(weeks[-2]).date())
    methods = out["methods"]
    for name in ("trtr", "tstr", "tstr_level_matched", "zero", "median_13_weeks", "tsb"):
        cells = methods[name]["cells"]
        assert cells["wape_ci"][0] <= cells["wape"] <= cells["wape_ci"][1]
        assert len(cells["by_origin"]) == 2
        assert cells["origin_range"] == [min(cells["by_origin"]), max(cells["by_origin"])]
    assert methods["zero"]["cells"]["wape"] == pytest.approx(1.0)
    assert "seasonal_naive" not in methods  # under a year of history: n/a
    ratio = out["tstr_trtr"]
    assert ratio["ratio"] == pytest.approx(
        methods["tstr"]["cells"]["wape"] / methods["trtr"]["cells"]["wape"]
    )
    assert ratio["zero_over_trtr"] == pytest.approx(1 / methods["trtr"]["cells"]["wape"])
    assert math.isfinite(ratio["ratio_level_matched"]) and ratio["ratio_level_matched"] > 0
    head = out["headline"]["cells"]["trtr"]
    assert head["best_baseline"] in forecast.BASELINES or head["best_baseline"] == "zero"
    assert head["baseline_wape"] <= methods["zero"]["cells"]["wape"]
    assert set(out["categories"]) | set(out["categories_not_forecast"]) == set(forecast.CONSUMPTION)
    again = real_data.forecast_check(household, models, train, **SMALL)
    assert again["methods"] == out["methods"]  # seeded


def test_backends_are_chosen_without_reading_the_test_weeks(
    transactions: pd.DataFrame, synthetic: tuple[dict[str, Any], pd.DataFrame]
) -> None:
    models, train = synthetic
    household = _one_household(transactions)
    rows = forecast.weekly_rows(household)
    window = real_data.origin_windows(rows["week"].unique(), 1, 2, 2)[0]
    weekly = float(train.groupby(["user_id", "week"])["amount"].sum().median())
    args = (household, window, models, weekly)
    kw = {"n_estimators": 15, "random_state": 0}
    _, info = real_data.evaluate_origin(rows, *args, **kw)
    changed = rows.copy()
    later = changed["week"] >= window.test
    changed.loc[later, "amount"] = changed.loc[later, "amount"][::-1].to_numpy() * 7 + 1
    frame, other = real_data.evaluate_origin(changed, *args, **kw)
    for key in ("trtr_backend", "trtr_validation_wape", "tstr_backend", "tstr_validation_wape"):
        assert other[key] == info[key]
    assert (frame["week"] >= window.test).all()
    val = rows[(rows["week"] >= window.validation) & (rows["week"] < window.test)]
    val = val[val["category"].isin(info["categories"])]
    backend, scores = real_data.choose_backend(models, val)
    assert backend == info["tstr_backend"] == min(scores, key=scores.__getitem__)


def test_rarely_used_categories_are_not_forecast(
    transactions: pd.DataFrame, synthetic: tuple[dict[str, Any], pd.DataFrame]
) -> None:
    models, train = synthetic
    household = _one_household(transactions)
    household = household[household["category"] != "travel"]
    out = real_data.forecast_check(household, models, train, **SMALL)
    assert "travel" in out["categories_not_forecast"]
    assert out["cells"] == out["test_weeks"] * len(out["categories"])


def test_anomaly_check_without_labels_is_descriptive(transactions: pd.DataFrame) -> None:
    household = _one_household(transactions)
    scorer = anomaly.AnomalyScorer(n_estimators=20).fit(
        anomaly.transaction_features(transactions[transactions["user_id"] <= 50])
    )
    out = real_data.anomaly_check(household, scorer)
    assert out["iqr_alerts"] == out["notifications"].get("overspend", 0)
    assert -1 <= out["synthetic_scorer_spearman"] <= 1
    assert "precision" not in str(sorted(out))


@pytest.fixture(scope="module")
def ledger() -> None:
    if not (reference_dir() / LEDGER).is_file():
        pytest.skip(f"reference data absent: {reference_dir() / LEDGER} (see ../shared/reference)")


def test_real_ledger_tstr_trtr(
    ledger: None, synthetic: tuple[dict[str, Any], pd.DataFrame]
) -> None:
    models, train = synthetic
    real = real_transactions(None, bundled_mapping("household_ledger"))
    out = real_data.real_check(real, models, train, n_estimators=20, n_boot=200)
    assert out["source"] == "household_ledger" and out["users"] == 1
    assert "merchant" in out["missing"] and "is_anomaly" in out["missing"]
    fc = out["forecast"]
    assert fc["test_weeks"] == real_data.ORIGINS * real_data.HORIZON
    assert fc["test_first_week"] > "2017-06-01"
    assert 0 < fc["tstr_trtr"]["ratio"] < 10
    assert "seasonal_naive" in fc["methods"]  # the ledger has years of history
    assert {o["trtr_backend"] for o in fc["origins"]} <= set(real_data.BACKENDS)
    assert out["anomaly"]["iqr_alerts"] > 0
