"""Tests for analysis.recommend: holdings, user-based CF, the YOLO rule, evaluation."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from analysis import recommend
from analysis.features import user_features


@pytest.fixture(scope="module")
def parts(
    users: pd.DataFrame, transactions: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    feats = user_features(transactions)
    held = recommend.holdings(transactions, feats.index)
    types = users.set_index("user_id")["spending_type"].reindex(feats.index)
    return feats, held, recommend.catalog(transactions), types


def test_holdings_come_from_savings_investment_and_insurance(
    transactions: pd.DataFrame, parts: tuple
) -> None:
    _, held, kinds, _ = parts
    assert set(kinds.unique()) <= {"savings", "investment", "insurance"}
    savings = transactions[
        (transactions["category"] == "savings") & (transactions["direction"] == "out")
    ]
    some = savings.iloc[0]
    assert held.loc[some["user_id"], some["merchant"]]
    assert kinds[some["merchant"]] == "savings"
    food = transactions[transactions["category"] == "food"]["merchant"].unique()
    assert not set(food) & set(held.columns)


def test_never_recommends_what_the_user_holds(parts: tuple) -> None:
    feats, held, kinds, types = parts
    model = recommend.ProductRecommender(top_k=5).fit(feats, held, kinds)
    for user, recs in zip(feats.index, model.recommend(feats, held, types), strict=True):
        assert recs and not any(held.at[user, p] for p in recs)
    for user, recs in zip(feats.index, model.popular(held), strict=True):
        assert not any(held.at[user, p] for p in recs)


def test_yolo_users_get_savings_products(parts: tuple) -> None:
    feats, held, kinds, types = parts
    model = recommend.ProductRecommender(top_k=3).fit(feats, held, kinds)
    yolo = types[types == "yolo"].index
    assert len(yolo) > 0
    for recs in model.recommend(feats.loc[yolo], held.loc[yolo], types):
        assert recs and all(kinds[p] == "savings" for p in recs)
    off = recommend.ProductRecommender(top_k=3, yolo_policy=False).fit(feats, held, kinds)
    recs = off.recommend(feats.loc[yolo], held.loc[yolo], types)
    assert any(kinds[p] != "savings" for r in recs for p in r)


def test_evaluation_reports_cf_against_popularity(parts: tuple) -> None:
    feats, held, kinds, types = parts
    out, _ = recommend.evaluate(feats, held, kinds, types, ks=(1, 3))
    for k in ("at_1", "at_3"):
        for method in ("collaborative_filtering", "cf_with_yolo_policy", "popularity"):
            scores = out[k][method]
            assert 0 <= scores["precision"] <= scores["hit_rate"] <= 1
            assert scores["users"] > 0
    assert out["at_3"]["popularity"]["hit_rate"] >= out["at_1"]["popularity"]["hit_rate"]
    assert out["yolo_recommendations_savings_share"] == 1.0
    again, _ = recommend.evaluate(feats, held, kinds, types, ks=(1, 3))
    assert again == out


def test_app_artifact_round_trips(parts: tuple, transactions: pd.DataFrame, tmp_path: Path) -> None:
    feats, held, kinds, _ = parts
    path = tmp_path / "recommendations.joblib"
    joblib.dump(
        recommend.RecommenderArtifact(recommend.ProductRecommender().fit(feats, held, kinds)), path
    )
    artifact = joblib.load(path)
    one = transactions[transactions["user_id"] == feats.index[0]].drop(columns=["is_anomaly"])
    recs = artifact.recommend_user(one, "yolo")
    assert recs and {r["kind"] for r in recs} == {"savings"}
    assert all(r["reason"] == "savings_for_yolo" and 0 <= r["score"] <= 1 for r in recs)
    mine = set(recommend.holdings(one).columns)
    assert not mine & {r["product"] for r in artifact.recommend_user(one, "investor")}
    assert np.isfinite([r["score"] for r in recs]).all()
