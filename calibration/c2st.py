"""Classifier two-sample test: can a model tell reference rows from synthetic rows?

Both samples are subsampled to the same size (at most ``c2st_max_per_class`` each, seeded),
labelled 0/1, split into train and a held-out test part, and two fixed models are
fitted: a logistic regression on standardised features and a histogram gradient-boosted
tree. Their ROC AUC on the held-out part is reported: 0.5 means indistinguishable, 1 means
perfectly separable. The split keeps identical feature rows on one side (rows grouped by a
hash of their features, then a seeded group split): otherwise a record present in both
samples (repeated ledger entries, or two identical samples) lands in train with one label
and in test with the other, and a model that memorises it scores below 0.5.

Features: log amount (minus the sample's median log amount when amounts are compared
scale-free), hour of day, weekday and category as one-hot, day of month, method as one-hot.
A feature is used only when it is known on every row of both samples: a column that is
missing (or a time of day that is unknown) on one side would let the classifier spot the
missingness rather than behaviour. Hour-of-day fidelity is then left to the timing metrics,
which skip unknown-time rows.

Both models run single-threaded (``threadpoolctl``): the results do not change, and on a
small shared machine OpenMP threads in the boosted trees cost several times the wall time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from calibration.frames import WEEKDAYS, hour_of_day, time_known, timestamps

if TYPE_CHECKING:
    from calibration.battery import BatteryConfig

_INT32 = np.iinfo(np.int32).max


def c2st_features(
    reference: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    relative_amounts: bool,
    rows: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The feature matrices of both samples, with the same columns.

    Args:
        reference: Reference spending rows.
        synthetic: Synthetic spending rows.
        relative_amounts: Centre each sample's log amounts on its own median.
        rows: Positions to build features for (default: all rows). Which features are used
            and the amount centring are decided on the full samples either way.
    """
    use_hour = bool(time_known(reference).all() and time_known(synthetic).all())
    use_method = bool(reference["method"].notna().all() and synthetic["method"].notna().all())
    categories = sorted(set(reference["category"]) | set(synthetic["category"]))
    methods = sorted(set(reference["method"]) | set(synthetic["method"])) if use_method else []

    def build(full: pd.DataFrame, picked: np.ndarray | None) -> pd.DataFrame:
        frame = full if picked is None else full.iloc[picked]
        ts = timestamps(frame)
        log_amount = np.log(frame["amount"].to_numpy(dtype=float))
        if relative_amounts and len(full):
            log_amount = log_amount - np.median(np.log(full["amount"].to_numpy(dtype=float)))
        columns: dict[str, np.ndarray] = {
            "log_amount": log_amount,
            "day_of_month": ts.dt.day.to_numpy(dtype=float),
        }
        if use_hour:
            columns["hour"] = hour_of_day(frame)
        weekdays = ts.dt.day_of_week.to_numpy()
        for index, name in enumerate(WEEKDAYS):
            columns[f"weekday_{name}"] = (weekdays == index).astype(float)
        for name in categories:
            columns[f"category_{name}"] = (frame["category"] == name).to_numpy(dtype=float)
        for name in methods:
            columns[f"method_{name}"] = (frame["method"] == name).to_numpy(dtype=float)
        return pd.DataFrame(columns)

    picks = rows or (None, None)
    return build(reference, picks[0]), build(synthetic, picks[1])


def c2st_auc(
    reference: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    seed: int | np.random.SeedSequence,
    config: BatteryConfig,
    relative_amounts: bool = False,
) -> dict[str, float]:
    """Held-out ROC AUC of the logistic and gradient-boosted classifiers.

    Returns:
        ``{"logistic": auc, "gbm": auc}``; NaN when a sample has fewer than 10 rows.
    """
    n = min(len(reference), len(synthetic), config.c2st_max_per_class)
    if n < 10:
        return {"logistic": float("nan"), "gbm": float("nan")}
    rng = np.random.default_rng(seed)
    features_a, features_b = c2st_features(reference, synthetic, relative_amounts=relative_amounts)
    pick_a = rng.choice(len(features_a), n, replace=False)
    pick_b = rng.choice(len(features_b), n, replace=False)
    x = pd.concat([features_a.iloc[pick_a], features_b.iloc[pick_b]], ignore_index=True)
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    groups = pd.util.hash_pandas_object(x, index=False).to_numpy()
    splitter = GroupShuffleSplit(
        n_splits=1, test_size=config.c2st_test_fraction, random_state=int(rng.integers(_INT32))
    )
    train, test = next(splitter.split(x, y, groups))
    x_train, y_train, x_test, y_test = x.iloc[train], y[train], x.iloc[test], y[test]
    if len(np.unique(y_test)) < 2:
        return {"logistic": float("nan"), "gbm": float("nan")}
    models = {
        "logistic": make_pipeline(
            StandardScaler(), LogisticRegression(C=config.logistic_c, max_iter=1000)
        ),
        "gbm": HistGradientBoostingClassifier(
            max_iter=config.gbm_max_iter,
            learning_rate=config.gbm_learning_rate,
            max_leaf_nodes=config.gbm_max_leaf_nodes,
            early_stopping=False,
            random_state=int(rng.integers(_INT32)),
        ),
    }
    aucs = {}
    with threadpool_limits(limits=1):
        for name, model in models.items():
            model.fit(x_train, y_train)
            aucs[name] = float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]))
    return aucs
