"""Tests for analysis.hourly."""

from __future__ import annotations

import pandas as pd

from analysis.features import hourly_slots
from analysis.hourly import evaluate_slots, split_slots


def test_split_is_by_time_and_rates_from_training(transactions: pd.DataFrame) -> None:
    slots = hourly_slots(transactions, max_users=15, seed=2)
    train, test = split_slots(slots, test_days=7)
    assert train["slot"].max() < test["slot"].min()
    assert test["slot"].dt.normalize().nunique() == 7
    rates = train.groupby("user_id")["spend"].mean()
    assert (test.groupby("user_id")["user_rate"].first() - rates).abs().max() < 1e-12


def test_models_beat_nothing_worse_than_chance(transactions: pd.DataFrame) -> None:
    result = evaluate_slots(hourly_slots(transactions, max_users=15, seed=2), n_estimators=10)
    for name in ("logistic", "lightgbm"):
        assert 0.5 < result[name]["auc"] <= 1
        assert 0 <= result[name]["brier"] <= 1
