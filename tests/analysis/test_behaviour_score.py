"""Tests for analysis.behaviour_score: bounds, additivity, monotonicity."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from analysis import behaviour_score as bs
from analysis.features import user_features


@pytest.fixture(scope="module")
def feats(transactions: pd.DataFrame) -> pd.DataFrame:
    return user_features(transactions)


@pytest.fixture(scope="module")
def scorer(feats: pd.DataFrame) -> bs.BehaviourScore:
    return bs.BehaviourScore().fit(feats)


def test_weights_sum_to_one() -> None:
    assert sum(w for _, w in bs.SCORE_FEATURES.values()) == pytest.approx(1.0)


def test_score_is_bounded_and_contributions_add_up(
    scorer: bs.BehaviourScore, feats: pd.DataFrame
) -> None:
    score = scorer.score(feats)
    assert score.between(300, 850).all()
    np.testing.assert_allclose(scorer.contributions(feats).sum(axis=1), score - 300)
    explained = bs.explain(scorer, feats.head(3))
    assert [e["score"] for e in explained] == [round(s) for s in score.head(3)]
    points = [c["points"] for c in explained[0]["contributions"]]
    assert points == sorted(points, reverse=True)


def _sweep(scorer: bs.BehaviourScore, base: pd.DataFrame, feature: str) -> np.ndarray:
    """Scores of ``base`` users as one input feature sweeps past both ends of its range."""
    grid = np.linspace(float(scorer.lo_[feature]) - 1, float(scorer.hi_[feature]) + 1, 25)
    column = "savings_rate" if feature == "saving_rate" else feature
    rows = pd.concat([base.assign(**{column: v}) for v in grid], ignore_index=True)
    if feature == "saving_rate":
        rows["investment_rate"] = 0.0
    return scorer.score(rows).to_numpy().reshape(len(grid), len(base))


@pytest.mark.parametrize("feature", list(bs.SCORE_FEATURES))
def test_score_is_monotone_in_every_feature(
    scorer: bs.BehaviourScore, feats: pd.DataFrame, feature: str
) -> None:
    direction, _ = bs.SCORE_FEATURES[feature]
    sweep = _sweep(scorer, feats.head(20), feature)
    steps = np.diff(sweep, axis=0) * direction
    assert (steps >= -1e-9).all()
    assert ((sweep[-1] - sweep[0]) * direction > 0).all()


def test_extremes_reach_the_ends(scorer: bs.BehaviourScore, feats: pd.DataFrame) -> None:
    best = feats.head(1).copy()
    worst = feats.head(1).copy()
    for name, (direction, _) in bs.SCORE_FEATURES.items():
        column = "savings_rate" if name == "saving_rate" else name
        high, low = scorer.hi_[name] + 1, scorer.lo_[name] - 1
        best[column], worst[column] = (high, low) if direction > 0 else (low, high)
    best["investment_rate"] = worst["investment_rate"] = 0.0
    assert scorer.score(best).iloc[0] == pytest.approx(850)
    assert scorer.score(worst).iloc[0] == pytest.approx(300)


def test_savers_outscore_yolo_and_round_trip(
    scorer: bs.BehaviourScore, feats: pd.DataFrame, users: pd.DataFrame, tmp_path: Path
) -> None:
    types = users.set_index("user_id")["spending_type"]
    summary = bs.summary(scorer, feats, types)
    assert summary["mean_by_type"]["saver"] > summary["mean_by_type"]["yolo"]
    joblib.dump(scorer, tmp_path / "score.joblib")
    again = joblib.load(tmp_path / "score.joblib")
    np.testing.assert_allclose(again.score(feats), scorer.score(feats))
