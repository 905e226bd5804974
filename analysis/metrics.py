"""Metrics shared by the models: classification, clustering, ranking and forecast errors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import (
    adjusted_rand_score,
    confusion_matrix,
    f1_score,
    normalized_mutual_info_score,
)


def classification(y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence[str]) -> dict:
    """Macro-F1, accuracy and the confusion matrix (rows true, columns predicted)."""
    truth, predicted = np.asarray(y_true), np.asarray(y_pred)
    return {
        "macro_f1": float(f1_score(truth, predicted, labels=list(labels), average="macro")),
        "accuracy": float(np.mean(truth == predicted)),
        "labels": list(labels),
        "confusion": confusion_matrix(truth, predicted, labels=list(labels)).tolist(),
        "n": len(truth),
    }


def clustering(y_true: ArrayLike, clusters: ArrayLike) -> dict:
    """Adjusted Rand index and normalised mutual information against ground truth."""
    return {
        "ari": float(adjusted_rand_score(y_true, clusters)),
        "nmi": float(normalized_mutual_info_score(y_true, clusters)),
    }


def _top_hits(y_true: np.ndarray, score: np.ndarray, ascending: np.ndarray, k: int) -> int:
    """Positives among the ``k`` highest scores (0 <= k <= rows), ties taken in row order as
    a stable sort would; ``ascending`` is ``score`` sorted."""
    if k == 0:
        return 0
    kth = ascending[len(score) - k]
    better = score > kth
    ties = np.flatnonzero(score == kth)[: k - int(better.sum())]
    return int(y_true[better].sum()) + int(y_true[ties].sum())


def ranking_with_curve(
    y_true: np.ndarray, score: np.ndarray, budget: int, points: int = 2_000
) -> tuple[dict, tuple[np.ndarray, np.ndarray]]:
    """:func:`ranking` and the precision-recall curve (at most ``points`` points, for plots),
    from one sort of the score values.

    The training evaluation ranks tens of millions of cells, so this sorts values, not
    indices (a SIMD value sort is ten times faster than an argsort), and keeps a few copies
    of the score column at most (scikit-learn's curve holds about ten): at each distinct
    score, the rows ranked so far come from the sorted scores and the true positives among
    them from the sorted scores of the positives, exactly the counts
    :func:`sklearn.metrics.precision_recall_curve` builds, and the PR-AUC is
    :func:`sklearn.metrics.average_precision_score`'s formula on them (equal to the bit).
    """
    y_true = np.asarray(y_true, dtype=bool)
    score = np.asarray(score, dtype=float)
    if np.isnan(score).any() or np.isneginf(score).any():  # copy only when it must
        score = np.nan_to_num(score, nan=-np.inf, neginf=-1e300)
    positives = int(y_true.sum())
    k = min(max(int(budget), 0), len(score))
    hits, pr_auc, curve = 0, 0.0, (np.array([1.0]), np.array([0.0]))
    if positives:
        ascending = np.sort(score)
        hits = _top_hits(y_true, score, ascending, k)
        hit_scores = np.sort(score[y_true])
        del score
        first = np.ones(len(ascending), dtype=bool)  # the first row of each distinct score
        np.not_equal(ascending[1:], ascending[:-1], out=first[1:])
        ranked = np.flatnonzero(first)
        del first
        values = ascending[ranked]
        del ascending
        # at each distinct score (ascending): the rows ranked at or above it and the
        # positives among them, computed in place to keep the peak low
        tps = np.searchsorted(hit_scores, values, side="left")
        del values
        np.subtract(positives, tps, out=tps)
        np.subtract(len(y_true), ranked, out=ranked)
        # ascending score is descending recall, with the (precision 1, recall 0) end point
        precision = np.empty(len(tps) + 1)
        np.divide(tps, ranked, out=precision[:-1])
        precision[-1] = 1.0
        del ranked
        recall = np.empty(len(tps) + 1)
        np.divide(tps, positives, out=recall[:-1])
        recall[-1] = 0.0
        del tps
        step = max(1, len(precision) // points)
        curve = (precision[::step].copy(), recall[::step].copy())  # not views of the whole
        steps = np.diff(recall)
        del recall
        np.multiply(steps, precision[:-1], out=steps)
        pr_auc = float(max(0.0, -np.sum(steps)))
    return {
        "pr_auc": pr_auc,
        "precision_at_budget": hits / k if k else 0.0,
        "recall_at_budget": hits / positives if positives else 0.0,
        "budget": int(budget),
        "base_rate": float(y_true.mean()) if len(y_true) else 0.0,
    }, curve


def ranking(y_true: np.ndarray, score: np.ndarray, budget: int) -> dict:
    """PR-AUC (average precision), precision and recall of the top ``budget`` scores."""
    return ranking_with_curve(y_true, score, budget)[0]


def errors(actual: ArrayLike, predicted: ArrayLike) -> dict:
    """MAE and WAPE (sum of absolute errors over the sum of actuals)."""
    truth, guess = np.asarray(actual, float), np.asarray(predicted, float)
    total = np.abs(truth).sum()
    return {
        "mae": float(np.abs(truth - guess).mean()),
        "wape": float(np.abs(truth - guess).sum() / total) if total else float("nan"),
    }
