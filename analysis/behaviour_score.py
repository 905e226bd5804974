"""A transparent 300–850 behaviour score with per-feature contributions (seed 004, 신용지수).

Formula (documented, no hidden model)::

    s_i   = clip((x_i - lo_i) / (hi_i - lo_i), 0, 1)      for a feature where more is better
    s_i   = 1 - clip((x_i - lo_i) / (hi_i - lo_i), 0, 1)  for a feature where less is better
    score = 300 + 550 * sum_i w_i * s_i                    (weights sum to 1)

Each feature's contribution is ``550 * w_i * s_i`` points, so the contributions add up to
``score - 300``. ``lo_i`` and ``hi_i`` are the 5th and 95th percentiles of the feature in the
population the scorer was fitted on (the only learned state). The score is monotone in every
feature: non-decreasing in the "more is better" ones, non-increasing in the others.

Features (:func:`analysis.features.user_features`), direction and weight:

=====================  =========  ======  ==========================================
feature                direction  weight  why
=====================  =========  ======  ==========================================
``saving_rate``        higher     0.30    savings + investment transfers / income
``spend_rate``         lower      0.20    consumption / income (or outflow)
``volatility``         lower      0.15    week-to-week swings of consumption
``discretionary_share`` lower     0.15    shopping, entertainment, travel, beauty, coffee
``night_share``        lower      0.10    spending at 22–06 h (impulse proxy)
``payday_effect``      lower      0.10    spending burst in the week after payday
=====================  =========  ======  ==========================================

It describes behaviour in the lab's data; it is not a credit score and uses no repayment data.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator

from monilab.contracts.vocabulary import SPENDING_TYPES

LOW, HIGH = 300, 850
SCORE_FEATURES: dict[str, tuple[int, float]] = {
    "saving_rate": (+1, 0.30),
    "spend_rate": (-1, 0.20),
    "volatility": (-1, 0.15),
    "discretionary_share": (-1, 0.15),
    "night_share": (-1, 0.10),
    "payday_effect": (-1, 0.10),
}
"""Feature → (direction: +1 more is better, -1 less is better; weight)."""


def score_inputs(features: pd.DataFrame) -> pd.DataFrame:
    """The score's input columns from :func:`user_features` (``saving_rate`` is derived)."""
    out = features.reindex(columns=[c for c in SCORE_FEATURES if c != "saving_rate"]).copy()
    out.insert(0, "saving_rate", features["savings_rate"] + features["investment_rate"])
    return out.astype(float).fillna(0.0)


class BehaviourScore(BaseEstimator):
    """The 300–850 score of the module docstring.

    Args:
        quantiles: Population quantiles that map to 0 and 1 of each feature's scale.
    """

    def __init__(self, quantiles: tuple[float, float] = (0.05, 0.95)) -> None:
        self.quantiles = quantiles

    def fit(self, features: pd.DataFrame, y: object = None) -> BehaviourScore:
        """Learn each feature's range from :func:`user_features` rows."""
        inputs = score_inputs(features)
        self.lo_ = inputs.quantile(self.quantiles[0])
        self.hi_ = inputs.quantile(self.quantiles[1])
        same = self.hi_ <= self.lo_
        self.hi_[same] = self.lo_[same] + 1e-9
        return self

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Points each feature adds above 300 (columns = features, rows = users)."""
        inputs = score_inputs(features)
        scaled = ((inputs - self.lo_) / (self.hi_ - self.lo_)).clip(0.0, 1.0)
        out = pd.DataFrame(index=inputs.index)
        for name, (direction, weight) in SCORE_FEATURES.items():
            part = scaled[name] if direction > 0 else 1.0 - scaled[name]
            out[name] = (HIGH - LOW) * weight * part
        return out

    def score(self, features: pd.DataFrame) -> pd.Series:
        """The score of each user, in [300, 850]."""
        return (LOW + self.contributions(features).sum(axis=1)).rename("behaviour_score")


def summary(scorer: BehaviourScore, features: pd.DataFrame, types: pd.Series | None) -> dict:
    """Score distribution, mean contribution per feature and mean score per true type."""
    score = scorer.score(features)
    parts = scorer.contributions(features)
    out: dict[str, Any] = {
        "formula": "300 + 550 * sum(w_i * s_i); s_i = feature scaled to [0,1] by the "
        "population's p5..p95, reversed where less is better",
        "weights": {k: {"direction": d, "weight": w} for k, (d, w) in SCORE_FEATURES.items()},
        "range": {k: [float(scorer.lo_[k]), float(scorer.hi_[k])] for k in SCORE_FEATURES},
        "users": len(score),
        "mean": float(score.mean()),
        "quantiles": {str(q): float(score.quantile(q)) for q in (0.1, 0.5, 0.9)},
        "mean_contribution": {k: float(v) for k, v in parts.mean().items()},
    }
    if types is not None:
        by_type = score.groupby(types.reindex(score.index)).mean()
        out["mean_by_type"] = {t: float(by_type[t]) for t in SPENDING_TYPES if t in by_type}
    return out


def explain(scorer: BehaviourScore, features: pd.DataFrame) -> list[dict[str, Any]]:
    """Per user: the score and each feature's value and points, biggest points first."""
    score = scorer.score(features)
    parts = scorer.contributions(features)
    inputs = score_inputs(features)
    return [
        {
            "user_id": user,
            "score": round(float(score[user])),
            "contributions": [
                {"feature": k, "value": float(inputs[k].at[user]), "points": round(float(v), 1)}
                for k, v in parts.loc[user].sort_values(ascending=False).items()
            ],
        }
        for user in score.index
    ]
