"""Metrics shared by the models: classification, clustering, ranking and forecast errors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    adjusted_rand_score,
    confusion_matrix,
    f1_score,
    normalized_mutual_info_score,
    precision_recall_curve,
)


def classification(y_true: Sequence, y_pred: Sequence, labels: Sequence[str]) -> dict:
    """Macro-F1, accuracy and the confusion matrix (rows true, columns predicted)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return {
        "macro_f1": float(f1_score(y_true, y_pred, labels=list(labels), average="macro")),
        "accuracy": float(np.mean(y_true == y_pred)),
        "labels": list(labels),
        "confusion": confusion_matrix(y_true, y_pred, labels=list(labels)).tolist(),
        "n": len(y_true),
    }


def clustering(y_true: Sequence, clusters: Sequence) -> dict:
    """Adjusted Rand index and normalised mutual information against ground truth."""
    return {
        "ari": float(adjusted_rand_score(y_true, clusters)),
        "nmi": float(normalized_mutual_info_score(y_true, clusters)),
    }


def _top_hits(y_true: np.ndarray, score: np.ndarray, budget: int) -> tuple[int, int]:
    """Positives among the ``budget`` highest scores (ties taken in row order, as a stable
    sort would) and how many rows that is; linear time (a partition, not a sort)."""
    k = min(max(int(budget), 0), len(score))
    if k == 0:
        return 0, 0
    if k == len(score):
        return int(y_true.sum()), k
    neg = -score
    kth = np.partition(neg, k - 1)[k - 1]
    better = neg < kth
    ties = np.flatnonzero(neg == kth)[: k - int(better.sum())]
    return int(y_true[better].sum()) + int(y_true[ties].sum()), k


def ranking_with_curve(
    y_true: np.ndarray, score: np.ndarray, budget: int, points: int = 2_000
) -> tuple[dict, tuple[np.ndarray, np.ndarray]]:
    """:func:`ranking` and the precision-recall curve (at most ``points`` points, for plots),
    from one sort of the scores.

    The training evaluation ranks tens of millions of cells, so this keeps a few copies of
    the score column at most (scikit-learn's curve holds about ten): the curve is built from
    integer true-positive counts at each distinct score, exactly as
    :func:`sklearn.metrics.precision_recall_curve` builds it, and the PR-AUC is
    :func:`sklearn.metrics.average_precision_score`'s formula on it (equal to the bit).
    """
    y_true = np.asarray(y_true, dtype=bool)
    score = np.nan_to_num(np.asarray(score, dtype=float), nan=-np.inf, neginf=-1e300)
    positives = int(y_true.sum())
    hits, k = _top_hits(y_true, score, budget)
    pr_auc, curve = 0.0, (np.array([1.0]), np.array([0.0]))
    if positives:
        # descending; the order within ties does not matter (the curve has one point per
        # distinct score), so the fast unstable sort serves
        order = np.argsort(-score, kind="quicksort")
        ordered, hit = score[order], y_true[order]
        del order, score
        last = np.ones(len(ordered), dtype=bool)  # the last row of each distinct score
        np.not_equal(ordered[1:], ordered[:-1], out=last[:-1])
        del ordered
        ends = np.flatnonzero(last)
        del last
        tps = np.cumsum(hit, dtype=np.int64)[ends].astype(float)
        del hit
        full = int(tps.searchsorted(tps[-1]))  # stop at full recall, as scikit-learn does
        tps, ends = tps[: full + 1], ends[: full + 1]
        # reversed, with the (precision 1, recall 0) end point; tp + fp = rows ranked so far
        precision = np.hstack(((tps / (ends + 1.0))[::-1], 1.0))
        del ends
        recall = np.hstack(((tps / tps[-1])[::-1], 0.0))
        del tps
        pr_auc = float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))
        step = max(1, len(precision) // points)
        curve = (precision[::step].copy(), recall[::step].copy())  # not views of the whole
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


def pr_curve(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall arrays for plotting."""
    score = np.nan_to_num(np.asarray(score, dtype=float), nan=-1e300, neginf=-1e300)
    precision, recall, _ = precision_recall_curve(np.asarray(y_true, dtype=bool), score)
    return precision, recall


def errors(actual: np.ndarray, predicted: np.ndarray) -> dict:
    """MAE and WAPE (sum of absolute errors over the sum of actuals)."""
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    total = np.abs(actual).sum()
    return {
        "mae": float(np.abs(actual - predicted).mean()),
        "wape": float(np.abs(actual - predicted).sum() / total) if total else float("nan"),
    }
