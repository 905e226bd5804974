"""Tests for analysis.segments: weighted z-score ranking and co-used categories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import segments
from analysis.features import CONSUMPTION


@pytest.fixture(scope="module")
def view(users: pd.DataFrame, transactions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return segments.segment_view(users, transactions, min_users=5)


def test_age_bands() -> None:
    bands = segments.age_band(pd.Series([20, 29, 30, 67, None]))
    assert bands.iloc[:4].tolist() == ["20-29", "20-29", "30-39", "60-69"]
    assert pd.isna(bands.iloc[4])


def test_every_segment_ranks_every_category(view: tuple) -> None:
    ranking, _ = view
    assert (ranking["users"] >= 5).all()
    for _, group in ranking.groupby(segments.SEGMENT):
        assert sorted(group["rank"]) == list(range(1, len(CONSUMPTION) + 1))
        ordered = group.sort_values("rank")["weighted_z"].to_numpy()
        assert (np.diff(ordered) <= 1e-12).all()
    np.testing.assert_allclose(ranking["weighted_z"], ranking["z"] * ranking["weight"])


def test_z_scores_are_across_segments(view: tuple) -> None:
    ranking, _ = view
    by_cat = ranking.groupby("category")["z"]
    np.testing.assert_allclose(by_cat.mean().fillna(0), 0, atol=1e-9)


def test_use_is_days_per_month(users: pd.DataFrame, transactions: pd.DataFrame) -> None:
    use = segments.monthly_use(transactions)
    assert use.to_numpy().max() <= 31 and use.to_numpy().min() >= 0
    one = transactions[(transactions["user_id"] == 1) & (transactions["category"] == "food")]
    month = one["ts"].dt.to_period("M").iloc[0]
    days = one[one["ts"].dt.to_period("M") == month]["ts"].dt.normalize().nunique()
    assert use.loc[(1, month), "food"] == days


def test_co_used_partners_are_the_most_correlated(view: tuple) -> None:
    _, co_use = view
    assert co_use["correlation"].between(-1, 1).all()
    assert (co_use["category"] != co_use["partner"]).all()
    first = co_use.groupby([*segments.SEGMENT, "category"])["correlation"]
    assert (first.apply(lambda s: (np.diff(s.to_numpy()) <= 1e-12).all())).all()


def test_summary(view: tuple) -> None:
    summary = segments.summary(*view)
    assert summary["segments"] > 0 and summary["largest"]
    assert len(summary["largest"][0]["top_categories"]) == 3
