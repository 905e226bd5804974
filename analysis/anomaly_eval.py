"""Anomaly detection measured so it cannot flatter: per kind, rules beside models, intervals.

Units are transactions of held-out users (never used to fit anything supervised). For each
method and each injected kind, the positives are that kind's rows and the negatives the
normal rows (other kinds left out), so a kind's PR-AUC is compared with its base rate.
Recall at the alert budget: the app may alert on :data:`ALERT_BUDGET` of the transactions
(the top-scored share of all rows); a kind's recall is the share of its rows alerted.
Intervals: 95 % percentile bootstrap over users (:data:`BOOTSTRAP` resamples).

Methods:

- models (unsupervised, :class:`analysis.anomaly.AnomalyScorer`): ``isolation_forest``,
  ``kmeans``, ``ensemble``;
- rules (:mod:`analysis.anomaly_rules`): the seed's ``iqr``, ``median_k``, ``repeat``,
  ``new_merchant``, ``night``, ``takeover``;
- combinations: ``stacked`` (a small gradient-boosted model on the past-only features, the
  rule scores and the models' scores, fitted on the training users' labelled sample) and
  ``max_rank`` (the larger percentile rank of the best model and the best rule).

The best model, the best rule (overall and per kind) are chosen on the training users'
sample, then reported on the held-out users; ``headline`` says plainly when the rule
matches the model (the model's interval does not clear the rule's point estimate).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score

from analysis import anomaly, anomaly_rules
from analysis.features import check_transactions
from monilab.contracts.vocabulary import ANOMALY_KINDS

ALERT_BUDGET = 0.01
"""Share of transactions the app may alert on."""
BOOTSTRAP = 100
MODELS: tuple[str, ...] = ("isolation_forest", "kmeans", "ensemble")
COMBINATIONS: tuple[str, ...] = ("stacked", "max_rank")
RULES = anomaly_rules.RULES
TRAINING_RULES = tuple(r for r in RULES if r != "iqr")
"""Rules scored on the training sample (the IQR rule needs whole days of cells)."""
NORMAL = -1


def kind_codes(feats: pd.DataFrame) -> np.ndarray:
    """Index of each row's anomaly kind in ``ANOMALY_KINDS``, -1 for normal rows."""
    if "anomaly_kind" not in feats.columns:
        return np.full(len(feats), NORMAL)
    kind = feats["anomaly_kind"].astype(object).to_numpy()
    index = {name: i for i, name in enumerate(ANOMALY_KINDS)}
    return np.array([index.get(k, NORMAL) if isinstance(k, str) else NORMAL for k in kind])


def _ap(score: np.ndarray, y: np.ndarray) -> float:
    return float(average_precision_score(y, score)) if 0 < y.sum() < len(y) else float("nan")


class StackedDetector(BaseEstimator):
    """Rules plus models: gradient boosting on features, rule scores and model scores.

    ``fit`` also chooses, on the same (training) rows, the best rule and the best model
    overall and per kind by PR-AUC (``choice_``).

    Args:
        max_iter: Boosting iterations.
        random_state: Seed.
    """

    def __init__(self, max_iter: int = 150, random_state: int | None = 0) -> None:
        self.max_iter = max_iter
        self.random_state = random_state

    def _inputs(self, feats: pd.DataFrame, models: pd.DataFrame) -> np.ndarray:
        rules = anomaly_rules.rule_scores(feats)[list(TRAINING_RULES)]
        parts = [feats[list(anomaly.TXN_FEATURES)], rules, models[list(MODELS)]]
        return np.column_stack([p.to_numpy(float) for p in parts])

    def fit(self, feats: pd.DataFrame, scorer: anomaly.AnomalyScorer) -> StackedDetector:
        """Fit on labelled transaction features (``anomaly_kind``) of training users."""
        kinds = kind_codes(feats)
        models = scorer.score_samples(feats)
        self.model_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=0.1, random_state=self.random_state
        ).fit(self._inputs(feats, models), kinds != NORMAL)
        rules = anomaly_rules.rule_scores(feats)
        self.choice_ = _choose(kinds, models, rules)
        return self

    def predict_score(self, feats: pd.DataFrame, models: pd.DataFrame) -> np.ndarray:
        """Probability that each transaction is an injected anomaly."""
        return self.model_.predict_proba(self._inputs(feats, models))[:, 1]


def _choose(kinds: np.ndarray, models: pd.DataFrame, rules: pd.DataFrame) -> dict[str, Any]:
    """The best model and rule overall and per kind (PR-AUC on these rows)."""

    def best(frame: pd.DataFrame, names: tuple[str, ...], keep: np.ndarray, y: np.ndarray) -> str:
        scores = {n: _ap(frame[n].to_numpy()[keep], y) for n in names}
        return max(names, key=lambda n: np.nan_to_num(scores[n], nan=-1.0))

    every = np.ones(len(kinds), dtype=bool)
    out: dict[str, Any] = {
        "model": best(models, MODELS, every, kinds != NORMAL),
        "rule": best(rules, TRAINING_RULES, every, kinds != NORMAL),
        "rule_per_kind": {},
    }
    for code, name in enumerate(ANOMALY_KINDS):
        keep = (kinds == code) | (kinds == NORMAL)
        if (kinds == code).any():
            y = kinds[keep] == code
            out["rule_per_kind"][name] = best(rules, TRAINING_RULES, keep, y)
    return out


class TxnEvaluator:
    """Scores every method on the transactions of the evaluation users (part by part).

    Args:
        scorer: The fitted unsupervised models.
        stacked: The fitted rules-plus-models combination.
        users: The held-out users evaluated.
    """

    def __init__(
        self, scorer: anomaly.AnomalyScorer, stacked: StackedDetector, users: np.ndarray
    ) -> None:
        self.scorer = scorer
        self.stacked = stacked
        self.users = np.asarray(users)

    def frame(self, tx: pd.DataFrame) -> pd.DataFrame:
        """``user_id``, ``kind`` and every method's score per outgoing transaction of the
        evaluation users in ``tx`` (empty when there are none)."""
        tx = tx[tx["user_id"].isin(self.users).to_numpy()]
        if tx.empty:
            return pd.DataFrame()
        tx = check_transactions(tx)
        feats = anomaly.transaction_features(tx)
        if feats.empty:
            return pd.DataFrame()
        models = self.scorer.score_samples(feats)
        rules = anomaly_rules.rule_scores(feats, _iqr_per_transaction(tx, feats))
        out = pd.DataFrame({"user_id": feats["user_id"].to_numpy(), "kind": kind_codes(feats)})
        for name in MODELS:
            out[name] = models[name].to_numpy()
        for name in RULES:
            out[name] = rules[name].to_numpy()
        out["stacked"] = self.stacked.predict_score(feats, models)
        return out


def _iqr_per_transaction(tx: pd.DataFrame, feats: pd.DataFrame) -> np.ndarray:
    """Each transaction's IQR cell score (-inf where the rule has no history)."""
    cells = anomaly.iqr_cells(tx)[[*anomaly.CELL_KEYS, "iqr_score"]]
    cells = cells.astype({"category": str})
    keys = feats[anomaly.CELL_KEYS].astype({"category": str})
    merged = keys.merge(cells, on=anomaly.CELL_KEYS, how="left")
    return merged["iqr_score"].fillna(-np.inf).to_numpy()


def _percentile(score: np.ndarray) -> np.ndarray:
    return pd.Series(score).rank(pct=True).to_numpy()


def _weighted_ap(order: np.ndarray, tie_end: np.ndarray, pos: np.ndarray, w: np.ndarray) -> float:
    """Average precision (scikit-learn's step definition) with row weights ``w``.

    ``order`` sorts the rows by descending score; ``tie_end`` marks the last sorted row of
    each run of equal scores (a threshold). A reference for :func:`_method_metrics`.
    """
    wp = (w * pos)[order]
    tp = np.cumsum(wp)[tie_end]
    fp = np.cumsum(w[order] - wp)[tie_end]
    total = tp[-1] if len(tp) else 0.0
    if total <= 0 or fp[-1] <= 0:
        return float("nan")
    precision = tp / np.maximum(tp + fp, 1e-12)
    recall = tp / total
    return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))


def _interval(values: np.ndarray) -> list[float]:
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return [float("nan"), float("nan")]
    low, high = np.quantile(finite, [0.025, 0.975])
    return [round(float(low), 4), round(float(high), 4)]


POSITIVE_BLOCK = 2_000
"""Positives handled at a time by :func:`_upto` (bounds its positives × users tables)."""


def _method_metrics(
    score: np.ndarray, kinds: np.ndarray, user: np.ndarray, weights: np.ndarray, budget: float
) -> dict[str, Any]:
    """PR-AUC and recall at the budget of one method, overall and per kind, with intervals.

    ``weights`` is resamples × users, its first row all ones (the point estimate). Average
    precision is the weighted mean over positives of the precision at their score (ties
    included), so each resample is a product of per-user counts with its user weights.
    """
    alerted = score >= np.quantile(score, 1 - budget, method="higher")
    _, rank = np.unique(-score, return_inverse=True)  # 0 = highest score
    span = int(rank.max()) + 2
    users = weights.shape[1]
    normal = kinds == NORMAL
    negatives = np.sort(user[normal] * span + rank[normal])
    groups: dict[str, np.ndarray] = {"all": ~normal}
    for code, name in enumerate(ANOMALY_KINDS):
        if (kinds == code).any():
            groups[name] = kinds == code
    out: dict[str, Any] = {}
    for name, pos in groups.items():
        positives = np.sort(user[pos] * span + rank[pos])
        p_user, p_rank, p_alert = user[pos], rank[pos], alerted[pos]
        weighted = np.zeros(len(weights))
        hits = np.zeros(len(weights))
        for start in range(0, len(p_rank), POSITIVE_BLOCK):
            block = slice(start, start + POSITIVE_BLOCK)
            # higher score = lower rank: rows at or above a threshold have rank <= it
            tp = (_upto(positives, p_rank[block], users, span)) @ weights.T
            fp = (_upto(negatives, p_rank[block], users, span)) @ weights.T
            w = weights[:, p_user[block]].T
            weighted += (w * tp / np.maximum(tp + fp, 1e-12)).sum(axis=0)
            hits += (w * p_alert[block, None]).sum(axis=0)
        total = weights[:, p_user].sum(axis=1)
        ap = np.where(total > 0, weighted / np.maximum(total, 1e-12), np.nan)
        recall = np.where(total > 0, hits / np.maximum(total, 1e-12), np.nan)
        out[name] = {
            "pr_auc": round(float(ap[0]), 4),
            "pr_auc_ci": _interval(ap[1:]),
            "recall_at_budget": round(float(recall[0]), 4),
            "recall_ci": _interval(recall[1:]),
            "base_rate": round(float(pos.sum() / (pos | normal).sum()), 5),
            "positives": int(pos.sum()),
        }
    return out


def _upto(keys: np.ndarray, rank: np.ndarray, users: int, span: int) -> np.ndarray:
    """Per positive (``rank``) and user: rows in ``keys`` (``user × span + rank``, sorted) of
    that user with rank at most the positive's (score at or above it)."""
    base = np.arange(users, dtype=np.int64) * span
    first = np.searchsorted(keys, base)
    return np.searchsorted(keys, base[None, :] + rank[:, None], side="right") - first[None, :]


def evaluate(
    frame: pd.DataFrame,
    choice: dict[str, Any],
    *,
    budget: float = ALERT_BUDGET,
    resamples: int = BOOTSTRAP,
    seed: int = 0,
) -> dict[str, Any]:
    """Per-kind PR-AUC and recall at the budget of every method, with bootstrap intervals.

    Args:
        frame: :meth:`TxnEvaluator.frame` rows of the held-out users.
        choice: The best model and rules chosen on the training users
            (:attr:`StackedDetector.choice_`).
        budget: Share of transactions the app may alert on.
        resamples: Bootstrap resamples of users.
        seed: Seed of the resampling.
    """
    kinds = frame["kind"].to_numpy()
    frame = frame.assign(
        max_rank=np.maximum(
            _percentile(frame[choice["model"]].to_numpy()),
            _percentile(frame[choice["rule"]].to_numpy()),
        )
    )
    users, user_code = np.unique(frame["user_id"].to_numpy(), return_inverse=True)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(users), np.full(len(users), 1 / len(users)), size=resamples)
    weights = np.vstack([np.ones(len(users)), draws.astype(float)])
    methods: dict[str, Any] = {}
    for group, names in (("model", MODELS), ("rule", RULES), ("combination", COMBINATIONS)):
        for name in names:
            score = frame[name].to_numpy(float)
            metrics = _method_metrics(score, kinds, user_code, weights, budget)
            methods[name] = {"family": group, **metrics}
    out: dict[str, Any] = {
        "unit": "transactions of held-out users (features from each user's past only)",
        "alert_budget": {"share": budget, "transactions": int(np.ceil(budget * len(frame)))},
        "users": len(users),
        "transactions": len(frame),
        "resamples": resamples,
        "chosen_on_training_users": choice,
        "methods": methods,
    }
    out["per_kind"] = _per_kind_table(methods, choice)
    out["headline"] = headline(methods, choice)
    return out


def _per_kind_table(methods: dict[str, Any], choice: dict[str, Any]) -> dict[str, Any]:
    """Per kind: the best model, the kind's best rule (chosen on training users) and the
    stacked combination, side by side."""
    table: dict[str, Any] = {}
    for kind in ANOMALY_KINDS:
        if kind not in methods["stacked"]:
            continue
        rule = choice["rule_per_kind"].get(kind, choice["rule"])
        table[kind] = {
            "base_rate": methods["stacked"][kind]["base_rate"],
            "best_model": {"method": choice["model"], **methods[choice["model"]][kind]},
            "best_rule": {"method": rule, **methods[rule][kind]},
            "stacked": methods["stacked"][kind],
            "iqr": methods["iqr"][kind],
        }
    return table


def headline(methods: dict[str, Any], choice: dict[str, Any]) -> dict[str, Any]:
    """The best model against the best rule (both chosen on training users), and whether the
    rule matches the model: it does unless the model's lower bound clears the rule's PR-AUC."""
    model, rule = choice["model"], choice["rule"]
    m, r, c = methods[model]["all"], methods[rule]["all"], methods["stacked"]["all"]
    matches = not (m["pr_auc_ci"][0] > r["pr_auc"])
    if matches:
        verdict = (
            f"the {rule} rule matches the best model ({model}): PR-AUC {r['pr_auc']:.3f} vs "
            f"{m['pr_auc']:.3f} [{m['pr_auc_ci'][0]:.3f}, {m['pr_auc_ci'][1]:.3f}]"
        )
    else:
        verdict = (
            f"the best model ({model}) beats the best rule ({rule}): PR-AUC {m['pr_auc']:.3f} "
            f"[{m['pr_auc_ci'][0]:.3f}, {m['pr_auc_ci'][1]:.3f}] vs {r['pr_auc']:.3f}"
        )
    return {
        "best_model": model,
        "best_model_pr_auc": m["pr_auc"],
        "best_model_pr_auc_ci": m["pr_auc_ci"],
        "best_rule": rule,
        "best_rule_pr_auc": r["pr_auc"],
        "best_rule_pr_auc_ci": r["pr_auc_ci"],
        "stacked_pr_auc": c["pr_auc"],
        "stacked_pr_auc_ci": c["pr_auc_ci"],
        "base_rate": m["base_rate"],
        "rule_matches_model": matches,
        "verdict": verdict
        + f"; rules plus models (stacked) {c['pr_auc']:.3f} "
        + f"[{c['pr_auc_ci'][0]:.3f}, {c['pr_auc_ci'][1]:.3f}]",
    }
