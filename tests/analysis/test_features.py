"""Tests for analysis.features."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import features
from monilab.contracts.errors import MonilabError


def test_user_features_one_row_per_user(transactions: pd.DataFrame) -> None:
    f = features.user_features(transactions)
    assert f.index.is_unique
    assert set(f.index) == set(transactions["user_id"])
    assert not f.isna().any().any()
    shares = f[[f"share_{c}" for c in features.CONSUMPTION]].sum(axis=1)
    assert ((shares - 1).abs() < 1e-9).all()
    assert f["night_share"].between(0, 1).all() and f["weekend_share"].between(0, 1).all()


def test_daily_category_sums_match(transactions: pd.DataFrame) -> None:
    daily = features.daily_category(transactions)
    spend = features.spendings(transactions)
    assert daily["amount"].sum() == pytest.approx(spend["amount"].sum())
    assert not daily.duplicated(["user_id", "day", "category"]).any()


def test_weekly_grid_is_complete(transactions: pd.DataFrame) -> None:
    weekly = features.weekly_category(transactions)
    assert weekly["amount"].sum() == pytest.approx(features.spendings(transactions)["amount"].sum())
    counts = weekly.groupby(["user_id", "week"]).size()
    assert (counts == len(features.CONSUMPTION)).all()
    assert (weekly["week"].dt.day_of_week == 0).all()


def test_hourly_slots_bounded_and_include_zeros(transactions: pd.DataFrame) -> None:
    slots = features.hourly_slots(transactions, max_users=20, seed=1)
    assert slots["user_id"].nunique() == 20
    assert len(slots) == 20 * slots["slot"].nunique()
    assert 0 < slots["spend"].mean() < 0.5


def test_missing_columns_raise() -> None:
    with pytest.raises(MonilabError):
        features.user_features(pd.DataFrame({"user_id": [1]}))
