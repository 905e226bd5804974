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


def test_forecast_check_compares_on_the_same_test_weeks(
    transactions: pd.DataFrame, synthetic: tuple[dict[str, Any], pd.DataFrame]
) -> None:
    models, train = synthetic
    household = _one_household(transactions)
    out = real_data.forecast_check(household, models, train, test_weeks=4, n_estimators=15)
    assert out["test_weeks"] == 4
    weeks = np.sort(forecast.weekly_rows(household)["week"].unique())
    assert out["test_first_week"] == str(pd.Timestamp(weeks[-4]).date())
    assert out["train_weeks"] + out["test_weeks"] <= len(weeks)
    ratio = out["tstr_trtr"]
    assert ratio["ratio"] == pytest.approx(
        out[ratio["tstr"]]["cells"]["wape"] / out[ratio["trtr"]]["cells"]["wape"]
    )
    assert math.isfinite(ratio["ratio_level_matched"]) and ratio["ratio_level_matched"] > 0
    assert set(out["categories"]) | set(out["categories_not_forecast"]) == set(forecast.CONSUMPTION)


def test_rarely_used_categories_are_not_forecast(
    transactions: pd.DataFrame, synthetic: tuple[dict[str, Any], pd.DataFrame]
) -> None:
    models, train = synthetic
    household = _one_household(transactions)
    household = household[household["category"] != "travel"]
    out = real_data.forecast_check(household, models, train, test_weeks=4, n_estimators=15)
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
    out = real_data.real_check(real, models, train, n_estimators=20)
    assert out["source"] == "household_ledger" and out["users"] == 1
    assert "merchant" in out["missing"] and "is_anomaly" in out["missing"]
    fc = out["forecast"]
    assert fc["test_weeks"] == real_data.DEFAULT_TEST_WEEKS
    assert fc["test_first_week"] > "2018-01-01"
    assert 0 < fc["tstr_trtr"]["ratio"] < 10
    assert out["anomaly"]["iqr_alerts"] > 0
