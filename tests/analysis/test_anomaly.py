"""Tests for analysis.anomaly."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from analysis import anomaly, metrics


@pytest.fixture(scope="module")
def some(transactions: pd.DataFrame) -> pd.DataFrame:
    """A third of the users keeps these tests fast."""
    return transactions[transactions["user_id"] % 3 == 0]


@pytest.fixture(scope="module")
def scorer(some: pd.DataFrame) -> anomaly.AnomalyScorer:
    feats = anomaly.transaction_features(some)
    return anomaly.AnomalyScorer(n_estimators=50, random_state=0).fit(feats)


@pytest.fixture(scope="module")
def cells(some: pd.DataFrame, scorer: anomaly.AnomalyScorer) -> pd.DataFrame:
    return anomaly.cell_scores(some, scorer)


def test_iqr_fence_uses_only_the_past() -> None:
    days = pd.date_range("2024-01-01", periods=12)
    amounts = [1000] * 10 + [50_000, 1000]
    tx = pd.DataFrame(
        {
            "txn_id": range(12),
            "user_id": 1,
            "ts": days + pd.Timedelta(hours=12),
            "amount": amounts,
            "category": "food",
            "direction": "out",
            "merchant": "m",
        }
    )
    cells = anomaly.iqr_cells(tx, min_history=8)
    assert cells["upper_fence"].iloc[:8].isna().all()
    assert cells["is_alert"].tolist() == [False] * 10 + [True, False]
    assert cells["upper_fence"].iloc[10] == pytest.approx(1000 + 1.5 * 1)


def test_methods_score_and_metrics_in_range(cells: pd.DataFrame) -> None:
    y = cells["is_anomaly"].fillna(False).to_numpy()
    budget = int(cells["is_alert"].sum())
    assert budget > 0
    for method in anomaly.METHODS:
        result = metrics.ranking(y, cells[method].to_numpy(), budget)
        assert 0 <= result["pr_auc"] <= 1
        assert 0 <= result["precision_at_budget"] <= 1
    ens = metrics.ranking(y, cells["ensemble"].to_numpy(), budget)["pr_auc"]
    assert ens > metrics.ranking(y, cells["iqr"].to_numpy(), budget)["pr_auc"]


def test_notifications_never_duplicate(cells: pd.DataFrame) -> None:
    doubled = pd.concat([cells, cells])
    notes = anomaly.notifications(doubled)
    assert not notes.duplicated(["user_id", "notify_on", "kind"]).any()
    over = notes[notes["kind"] != "calm"]
    assert over["message"].str.startswith("어제 ").all()
    assert (notes.loc[notes["kind"] == "calm", "message"] == anomaly.CALM_MESSAGE).all()
    calm = notes[notes["kind"] == "calm"]
    calm_days = set(zip(calm["user_id"], calm["notify_on"], strict=True))
    assert not calm_days & set(zip(over["user_id"], over["notify_on"], strict=True))


def test_messages_follow_the_seed() -> None:
    assert (
        anomaly.overspend_message("food", 81_462)
        == "어제 food에서 81,462원만큼 과소비가 발생했어요 T.T"
    )
    assert anomaly.overspend_message("food", 100) == "어제 food에서 평소보다 소비가 높았어요"


def test_monthly_top_ten_and_round_trip(
    some: pd.DataFrame, scorer: anomaly.AnomalyScorer, tmp_path: Path
) -> None:
    report = anomaly.monthly_top_risky(anomaly.score_transactions(some, scorer))
    assert report.groupby(["user_id", "month"]).size().max() <= 10
    joblib.dump(scorer, tmp_path / "a.joblib")
    feats = anomaly.transaction_features(some.head(500))
    np.testing.assert_allclose(
        joblib.load(tmp_path / "a.joblib").score_samples(feats), scorer.score_samples(feats)
    )


def _expanding_iqr_reference(tx: pd.DataFrame, min_history: int) -> pd.DataFrame:
    """The seed rule as first written: a per-group expanding quantile of the shifted sums."""
    from analysis.features import OUTGOING, daily_category

    cells = daily_category(tx, OUTGOING).sort_values(["user_id", "category", "day"])
    past = cells.groupby(["user_id", "category"], observed=True)["amount"].shift()
    grouped = past.groupby([cells["user_id"], cells["category"]], observed=True)
    q1 = grouped.expanding(min_periods=min_history).quantile(0.25)
    q3 = grouped.expanding(min_periods=min_history).quantile(0.75)
    q1 = q1.reset_index(level=[0, 1], drop=True).reindex(cells.index)
    q3 = q3.reset_index(level=[0, 1], drop=True).reindex(cells.index)
    seen = cells.groupby(["user_id", "category"], observed=True).cumcount()
    q1, q3 = q1.where(seen >= min_history), q3.where(seen >= min_history)
    iqr = (q3 - q1).clip(lower=1.0)
    cells = cells.assign(upper_fence=q3 + 1.5 * iqr)
    cells["excess"] = cells["amount"] - cells["upper_fence"]
    cells["is_alert"] = cells["excess"] > 0
    cells["iqr_score"] = (cells["amount"] - q3) / iqr
    return cells.reset_index(drop=True)


@pytest.mark.parametrize("min_history", [1, 8])
def test_vectorised_iqr_equals_expanding_reference(some: pd.DataFrame, min_history: int) -> None:
    fast = anomaly.iqr_cells(some, min_history=min_history)
    slow = _expanding_iqr_reference(some, min_history)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)


def test_ensemble_is_batch_independent(some: pd.DataFrame, scorer: anomaly.AnomalyScorer) -> None:
    feats = anomaly.transaction_features(some)
    whole = scorer.score_samples(feats)
    part = scorer.score_samples(feats.iloc[:300])
    np.testing.assert_array_equal(part["ensemble"], whole["ensemble"].iloc[:300])
    fit = anomaly.AnomalyScorer(n_estimators=20, random_state=0).fit(feats)
    ranks = fit.score_samples(feats)
    expected = (
        ranks["isolation_forest"].rank(pct=True) + ranks["kmeans"].rank(pct=True)
    ).to_numpy() / 2
    np.testing.assert_allclose(ranks["ensemble"], expected, rtol=0, atol=1e-12)
