"""Tests for analysis.type_model."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from analysis import metrics
from analysis.features import user_features
from analysis.type_model import TypeClusterer, UserClassifier, name_clusters
from monilab.contracts.vocabulary import SPENDING_TYPES


@pytest.fixture(scope="module")
def labelled(transactions: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    f = user_features(transactions)
    return f.join(users.set_index("user_id")[["spending_type", "style"]])


def test_cluster_names_cover_every_type(labelled: pd.DataFrame) -> None:
    model = TypeClusterer(random_state=0).fit(labelled)
    assert sorted(model.names_.values()) == sorted(SPENDING_TYPES)
    scores = metrics.clustering(labelled["spending_type"], model.predict_cluster(labelled))
    assert 0 <= scores["nmi"] <= 1 and -1 <= scores["ari"] <= 1


def test_naming_rule_on_synthetic_centroids() -> None:
    cols = ["savings_share", "investment_share", "spend_rate", "discretionary_share"]
    centroids = pd.DataFrame(
        [
            [0.05, 0.70, 0.30, 0.35],  # investor
            [0.45, 0.03, 0.40, 0.25],  # saver
            [0.40, 0.20, 0.25, 0.30],  # goal_setter
            [0.03, 0.03, 0.95, 0.60],  # yolo
            [0.25, 0.07, 0.45, 0.35],  # stable
        ],
        columns=cols,
    )
    names = name_clusters(centroids)
    assert names == {0: "investor", 1: "saver", 2: "goal_setter", 3: "yolo", 4: "stable"}


@pytest.mark.parametrize("estimator", ["random_forest", "xgboost", "lightgbm"])
def test_classifier_fits_predicts_and_round_trips(
    estimator: str, labelled: pd.DataFrame, transactions: pd.DataFrame, tmp_path: Path
) -> None:
    train, test = labelled.iloc[::2], labelled.iloc[1::2]
    model = UserClassifier(estimator, n_estimators=40, random_state=0)
    model.fit(train, train["spending_type"])
    result = metrics.classification(test["spending_type"], model.predict(test), SPENDING_TYPES)
    assert result["macro_f1"] > 0.5  # five types that overlap (issue 14); chance is about 0.2
    joblib.dump(model, tmp_path / "m.joblib")
    loaded = joblib.load(tmp_path / "m.joblib")
    np.testing.assert_array_equal(loaded.predict(test), model.predict(test))
    one = transactions[transactions["user_id"] == test.index[0]]
    assert loaded.predict_user(one) in SPENDING_TYPES


def test_predict_user_without_direction(labelled: pd.DataFrame, transactions: pd.DataFrame) -> None:
    model = UserClassifier(n_estimators=20).fit(labelled, labelled["style"])
    one = transactions[transactions["user_id"] == labelled.index[0]].drop(columns="direction")
    assert model.predict_user(one) in set(labelled["style"])
