"""Tests for analysis.metrics ranking helpers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, precision_recall_curve

from analysis import metrics


@pytest.mark.parametrize("budget", [0, 1, 37, 500, 2_000])
def test_ranking_matches_a_stable_sort(budget: int) -> None:
    rng = np.random.default_rng(3)
    score = np.round(rng.normal(size=1_000), 1)  # many ties
    score[:50] = -np.inf
    y = rng.random(1_000) < 0.1
    result = metrics.ranking(y, score, budget)
    top = np.argsort(-np.nan_to_num(score, neginf=-1e300), kind="stable")[:budget]
    hits = int(y[top].sum())
    assert result["precision_at_budget"] == (hits / len(top) if len(top) else 0.0)
    assert result["recall_at_budget"] == hits / y.sum()
    with_curve, (precision, recall) = metrics.ranking_with_curve(y, score, budget)
    assert with_curve == result
    assert result["pr_auc"] == average_precision_score(y, np.nan_to_num(score, neginf=-1e300))
    assert len(precision) == len(recall) > 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ranking_with_curve_equals_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 5_000
    score = np.round(rng.gamma(2.0, size=n), 2)  # ties
    score[rng.random(n) < 0.02] = -np.inf
    y = rng.random(n) < 0.05 + 0.1 * (score > 3)
    clean = np.nan_to_num(score, neginf=-1e300)
    result, (precision, recall) = metrics.ranking_with_curve(y, score, 100, points=n * 2)
    assert result["pr_auc"] == average_precision_score(y, clean)
    expected_precision, expected_recall, _ = precision_recall_curve(y, clean)
    np.testing.assert_array_equal(precision, expected_precision)
    np.testing.assert_array_equal(recall, expected_recall)
    assert result == metrics.ranking(y, score, 100)


@pytest.mark.parametrize("kind", ["nan", "clean", "one_value"])
def test_ranking_with_curve_leaves_its_input_alone_and_matches_scikit_learn(kind: str) -> None:
    rng = np.random.default_rng(7)
    score = np.round(rng.normal(size=400), 1)
    if kind == "nan":
        score[::9] = np.nan
    if kind == "one_value":
        score[:] = 2.5
    y = rng.random(400) < 0.2
    given = score.copy()
    result, (precision, recall) = metrics.ranking_with_curve(y, score, 40, points=1_000)
    np.testing.assert_array_equal(score, given)  # NaN compare equal here
    clean = np.nan_to_num(score, nan=-2e300)  # NaN ranks last
    expected_precision, expected_recall, _ = precision_recall_curve(y, clean)
    np.testing.assert_array_equal(precision, expected_precision)
    np.testing.assert_array_equal(recall, expected_recall)
    assert result["pr_auc"] == average_precision_score(y, clean)
