"""Type evaluation that cannot flatter: grouped folds, intervals, label history, the section."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from analysis import type_eval
from analysis.type_model import ESTIMATORS, TypeClusterer, UserClassifier
from monilab.contracts.vocabulary import SPENDING_TYPES

TYPES = {"a1": "saver", "a2": "saver", "b1": "yolo", "b2": "yolo", "b3": "yolo", "c1": "stable"}


def test_persona_folds_never_put_a_persona_on_both_sides() -> None:
    persona = pd.Series(np.repeat(list(TYPES), 5))
    folds, single = type_eval.persona_folds(persona, TYPES)
    assert single == {"stable": ["c1"]}
    held = []
    for train, test in folds:
        test_personas = set(persona.iloc[test])
        assert len(test_personas) == 1
        assert not test_personas & set(persona.iloc[train])
        assert set(train) | set(test) == set(range(len(persona)))
        held += test_personas
    assert sorted(held) == ["a1", "a2", "b1", "b2", "b3"]


def test_macro_f1_is_sklearns_over_the_types_present_with_an_interval() -> None:
    rng = np.random.default_rng(0)
    truth = rng.choice(SPENDING_TYPES[:3], 400)
    predicted = np.where(rng.random(400) < 0.7, truth, rng.choice(SPENDING_TYPES, 400))
    score = type_eval.macro_f1_interval(truth, predicted, SPENDING_TYPES, seed=1)
    expected = f1_score(truth, predicted, labels=sorted(set(truth)), average="macro")
    assert score["macro_f1"] == pytest.approx(expected)
    low, high = score["ci95"]
    assert low < score["macro_f1"] < high
    assert score == type_eval.macro_f1_interval(truth, predicted, SPENDING_TYPES, seed=1)


def test_label_history_takes_the_weight_majority_type() -> None:
    month = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])
    labels = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2, 2],
            "month": list(month) * 2,
            "persona": ["a1", "b1", "b1", "a1", "a1", "a1"],
            "spending_type": ["saver", "yolo", "yolo", "saver", "saver", "saver"],
            "secondary_persona": ["b1", "a1", "a1", "b1", "b1", "b1"],
            "secondary_weight": [0.2, 0.2, 0.2, 0.45, 0.45, 0.45],
        }
    )
    history = type_eval.label_history(labels, TYPES)
    assert history.loc[1, "truth"] == "yolo" and history.loc[1, "changed"]
    assert history.loc[2, "truth"] == "saver" and not history.loc[2, "changed"]


@pytest.fixture(scope="module")
def section(dataset_dir: Path, other_dataset_dir: Path) -> dict:
    features, users = type_eval.dataset_features(dataset_dir)
    feats = features.join(users.set_index("user_id")[["spending_type", "style"]])
    models = {
        n: UserClassifier(n, n_estimators=10).fit(feats, feats["spending_type"]) for n in ESTIMATORS
    }
    models["kmeans"] = TypeClusterer().fit(feats)
    style = UserClassifier(n_estimators=10).fit(feats, feats["style"])
    return type_eval.evaluate_generalisation(
        dataset_dir,
        feats,
        users,
        models,
        style,
        app_model="lightgbm",
        perturbed_data=other_dataset_dir,
        other_seed=(other_dataset_dir, type_eval.dataset_features(other_dataset_dir)[0]),
        n_estimators=10,
    )


def test_every_evaluation_has_intervals_kmeans_and_chance(section: dict) -> None:
    for name in type_eval.EVALUATIONS:
        ev = section[name]
        assert ev["available"] and ev["truth"] == "label_history"
        assert ev["changed_type_users"] >= 0 and ev["users"] > 0
        for model in (*ESTIMATORS, "kmeans", "chance"):
            score = ev["models"][model]
            assert 0.0 <= score["ci95"][0] <= score["macro_f1"] <= score["ci95"][1] <= 1.0
        assert {"ari", "nmi"} <= set(ev["models"]["kmeans"])
        assert "signup_macro_f1" in ev["models"]["lightgbm"]
    assert section["held_out_personas"]["single_persona_types"] == {"goal_setter": ["goal_planner"]}
    assert {f["persona"] for f in section["held_out_personas"]["folds"]}.isdisjoint(
        {"goal_planner"}
    )


def test_headline_is_the_worst_evaluation(section: dict) -> None:
    head = section["headline"]
    scores = {n: section[n]["models"]["lightgbm"]["macro_f1"] for n in type_eval.EVALUATIONS}
    assert head["evaluation"] == min(scores, key=lambda n: scores[n])
    assert head["macro_f1"] == min(scores.values()) and head["of"] == scores
    assert head["ci95"] == section[head["evaluation"]]["models"]["lightgbm"]["ci95"]


def test_missing_data_is_reported_not_run(dataset_dir: Path) -> None:
    head = type_eval.headline({"perturbed": {"available": False}}, "lightgbm")
    assert head["evaluation"] is None and head["macro_f1"] is None
