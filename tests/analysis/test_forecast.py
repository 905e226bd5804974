"""Tests for analysis.forecast."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from analysis import forecast


@pytest.fixture(scope="module")
def rows(transactions: pd.DataFrame) -> pd.DataFrame:
    return forecast.weekly_rows(transactions[transactions["user_id"] % 2 == 0])


@pytest.fixture(scope="module")
def split(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return forecast.time_split(rows, test_weeks=3)


def test_lags_come_from_earlier_weeks(rows: pd.DataFrame) -> None:
    one = rows[(rows["user_id"] == rows["user_id"].iloc[0]) & (rows["category"] == "food")]
    np.testing.assert_allclose(one["lag1"].iloc[1:], one["amount"].iloc[:-1])
    np.testing.assert_allclose(one["mean4"].iloc[4:6], one["amount"].rolling(4).mean().iloc[3:5])
    assert one["lag1"].isna().iloc[0]


def test_time_split_never_leaks_the_future(split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, test = split
    first_test = test["week"].min()
    assert not (train["week"] >= first_test).any()
    assert test["week"].nunique() == 3
    history = test["history_days"] - (test["week"] - first_test).dt.days
    assert (history >= forecast.MIN_HISTORY_DAYS).all()


def test_incomplete_last_week_is_dropped(transactions: pd.DataFrame, rows: pd.DataFrame) -> None:
    end = transactions["ts"].max().normalize() + pd.Timedelta(days=1)
    assert (rows["week"] + pd.Timedelta(days=7) <= end).all()


@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_two_stage_fits_predicts_round_trips(
    backend: str, split: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    train, test = split
    model = forecast.TwoStageForecaster(backend, n_estimators=20).fit(train, train["amount"])
    point = model.predict(test)
    assert (point >= 0).all() and np.isfinite(point).all()
    p, _ = model.components(test)
    assert ((p >= 0) & (p <= 1)).all()
    assert (model.predict_mean(test) >= 0).all()
    joblib.dump(model, tmp_path / "f.joblib")
    np.testing.assert_allclose(joblib.load(tmp_path / "f.joblib").predict(test), point)


def test_overrun_and_next_week(
    split: tuple[pd.DataFrame, pd.DataFrame], transactions: pd.DataFrame
) -> None:
    train, test = split
    budget = forecast.weekly_budget(train)
    weeks = forecast.user_weeks(train, budget)
    clf = forecast.OverrunClassifier(n_estimators=20).fit(weeks, weeks["overrun"])
    prob = clf.predict_proba(forecast.user_weeks(test, budget))
    assert ((prob >= 0) & (prob <= 1)).all()
    model = forecast.TwoStageForecaster(n_estimators=10).fit(train, train["amount"])
    some = transactions[transactions["user_id"].isin([2, 4])]
    late = some["ts"].min() + pd.Timedelta(days=100)
    short = some[(some["user_id"] == 4) & (some["ts"] >= late)]
    frame = pd.concat([some[some["user_id"] == 2], short])
    out = forecast.next_week(model, frame)
    status = out.groupby("user_id")["status"].first()
    assert status[2] == "ok" and status[4] == "not_enough_data"
    assert out.loc[out["status"] == "not_enough_data", "forecast"].isna().all()
    assert out.loc[out["status"] == "ok", "forecast"].notna().all()
