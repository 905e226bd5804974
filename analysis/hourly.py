"""Will the user spend in this hour? Hourly slots (seed 000), LightGBM vs logistic regression.

Rows are :func:`analysis.features.hourly_slots`; the split is by time (the last
``test_days`` days are the test set) and the per-user rates are computed on the training
slots only, so no test hour informs a feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

SLOT_FEATURES = ("hour", "weekday", "is_weekend", "day_of_month", "user_rate", "user_hour_rate")


def split_slots(slots: pd.DataFrame, test_days: int = 14) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train/test by time, with per-user and per-user-hour spend rates from training only."""
    cutoff = slots["slot"].max().normalize() - pd.Timedelta(days=test_days - 1)
    train, test = slots[slots["slot"] < cutoff], slots[slots["slot"] >= cutoff]
    user_rate = train.groupby("user_id")["spend"].mean().rename("user_rate")
    hour_rate = train.groupby(["user_id", "hour"])["spend"].mean().rename("user_hour_rate")

    def add(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.join(user_rate, on="user_id").join(hour_rate, on=["user_id", "hour"])
        return out.fillna({"user_rate": 0.0, "user_hour_rate": 0.0})

    return add(train).reset_index(drop=True), add(test).reset_index(drop=True)


class SlotClassifier(BaseEstimator):
    """Spend-in-slot classifier: ``lightgbm`` or ``logistic`` (one-hot hour and weekday).

    Args:
        model: ``lightgbm`` or ``logistic``.
        n_estimators: LightGBM rounds.
        random_state: Seed.
    """

    def __init__(
        self, model: str = "lightgbm", n_estimators: int = 200, random_state: int | None = 0
    ) -> None:
        self.model = model
        self.n_estimators = n_estimators
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> SlotClassifier:
        """Fit on slot rows with :data:`SLOT_FEATURES`."""
        if self.model == "lightgbm":
            from lightgbm import LGBMClassifier

            estimator = LGBMClassifier(
                n_estimators=self.n_estimators,
                learning_rate=0.05,
                num_leaves=31,
                n_jobs=1,
                random_state=self.random_state,
                verbose=-1,
            )
            self.pipeline_ = Pipeline([("model", estimator)])
        elif self.model == "logistic":
            prepare = ColumnTransformer(
                [
                    ("onehot", OneHotEncoder(handle_unknown="ignore"), ["hour", "weekday"]),
                    ("scale", StandardScaler(), ["day_of_month", "user_rate", "user_hour_rate"]),
                ]
            )
            self.pipeline_ = Pipeline([("prepare", prepare), ("model", LogisticRegression())])
        else:
            raise ValueError(f"unknown model {self.model!r} (lightgbm or logistic)")
        self.pipeline_.fit(X[list(SLOT_FEATURES)], np.asarray(y))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probability of spending in each slot."""
        return self.pipeline_.predict_proba(X[list(SLOT_FEATURES)])[:, 1]


def evaluate_slots(slots: pd.DataFrame, n_estimators: int = 200, test_days: int = 14) -> dict:
    """AUC, PR-AUC and Brier (vs the base rate) of both models on the last ``test_days``."""
    train, test = split_slots(slots, test_days)
    y = test["spend"].to_numpy()
    base = np.full(len(y), train["spend"].mean())
    out: dict = {
        "train_slots": len(train),
        "test_slots": len(test),
        "base_rate_brier": float(brier_score_loss(y, base)),
    }
    for name in ("logistic", "lightgbm"):
        prob = SlotClassifier(name, n_estimators).fit(train, train["spend"]).predict_proba(test)
        out[name] = {
            "auc": float(roc_auc_score(y, prob)),
            "pr_auc": float(average_precision_score(y, prob)),
            "brier": float(brier_score_loss(y, prob)),
        }
    return out
