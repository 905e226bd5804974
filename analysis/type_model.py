"""Spending-type models: K-means clusters named after the five types, and classifiers.

Cluster naming rule (documented, deterministic): each K-means centroid is z-scored across
the clusters, and every (cluster, type) pair gets a score from the centroid:

- ``investor``: investment share of outflow;
- ``saver``: savings share minus investment share (saves, does not invest);
- ``goal_setter``: savings share plus investment share minus consumption-to-income rate
  (puts money aside in both, spends the least of its income);
- ``yolo``: discretionary share plus consumption-to-income rate minus savings share;
- ``stable``: minus the distance from the population mean (the most average cluster).

The names are then the linear assignment (Hungarian method) that maximises the total
score, so every type names exactly one cluster when ``n_clusters == 5``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler

from analysis.features import user_features
from monilab.contracts.vocabulary import SPENDING_TYPES

TYPE_FEATURES: tuple[str, ...] = (
    "monthly_spend",
    "savings_rate",
    "investment_rate",
    "spend_rate",
    "savings_share",
    "investment_share",
    "share_food",
    "share_coffee",
    "share_shopping",
    "share_transport",
    "share_living",
    "share_health",
    "share_beauty",
    "share_entertainment",
    "share_education",
    "share_travel",
    "discretionary_share",
    "txn_per_month",
    "ticket_mean",
    "ticket_median",
    "ticket_p90",
    "log_ticket_std",
    "night_share",
    "weekend_share",
    "volatility",
    "payday_effect",
)
"""User features the type models use (no income level: app users may lack deposits)."""
CLUSTER_FEATURES: tuple[str, ...] = (
    "savings_share",
    "investment_share",
    "spend_rate",
    "discretionary_share",
    "savings_rate",
    "investment_rate",
)
"""Money-allocation features K-means clusters on (all of TYPE_FEATURES blur the types)."""
ESTIMATORS = ("random_forest", "xgboost", "lightgbm")


def _scores(z: pd.DataFrame) -> np.ndarray:
    """Cluster × type score matrix from z-scored centroids (see the module docstring)."""
    rules = {
        "investor": z["investment_share"],
        "saver": z["savings_share"] - z["investment_share"],
        "goal_setter": z["savings_share"] + z["investment_share"] - z["spend_rate"],
        "yolo": z["discretionary_share"] + z["spend_rate"] - z["savings_share"],
        "stable": -np.sqrt((z**2).sum(axis=1)),
    }
    return np.column_stack([rules[name].to_numpy() for name in SPENDING_TYPES])


def name_clusters(centroids: pd.DataFrame) -> dict[int, str]:
    """Cluster number -> type name by the documented centroid rule and linear assignment."""
    z = (centroids - centroids.mean()) / centroids.std(ddof=0).replace(0, 1)
    rows, cols = linear_sum_assignment(_scores(z), maximize=True)
    names = {int(r): SPENDING_TYPES[c] for r, c in zip(rows, cols, strict=True)}
    return {c: names.get(c, f"cluster_{c}") for c in range(len(centroids))}


class TypeClusterer(BaseEstimator):
    """K-means on standardised user features, clusters named after the spending types.

    Args:
        n_clusters: Number of clusters (5 names every type once).
        features: Feature columns used.
        random_state: Seed of K-means.
    """

    def __init__(
        self,
        n_clusters: int = 5,
        features: tuple[str, ...] = CLUSTER_FEATURES,
        random_state: int | None = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.features = features
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: object = None) -> TypeClusterer:
        """Fit the scaler and K-means on a user-feature frame."""
        self.pipeline_ = Pipeline(
            [
                ("scale", StandardScaler()),
                (
                    "kmeans",
                    KMeans(self.n_clusters, n_init=10, random_state=self.random_state),
                ),
            ]
        ).fit(X[list(self.features)])
        centers = self.pipeline_["scale"].inverse_transform(
            self.pipeline_["kmeans"].cluster_centers_
        )
        self.centroids_ = pd.DataFrame(centers, columns=list(self.features))
        self.names_ = name_clusters(self.centroids_)
        return self

    def predict_cluster(self, X: pd.DataFrame) -> np.ndarray:
        """Cluster numbers."""
        return self.pipeline_.predict(X[list(self.features)])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Type names of the users' clusters."""
        return np.array([self.names_[c] for c in self.predict_cluster(X)], dtype=object)


def make_estimator(
    name: str, random_state: int | None, n_estimators: int = 300, n_jobs: int = 1
) -> BaseEstimator:
    """A classifier by name: ``random_forest``, ``xgboost`` or ``lightgbm``.

    One thread by default: on shared cores OpenMP boosting slows down with more.
    """
    if name == "random_forest":
        return RandomForestClassifier(
            n_estimators=n_estimators, min_samples_leaf=2, n_jobs=n_jobs, random_state=random_state
        )
    if name == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier(
            n_estimators=n_estimators,
            max_depth=4,
            learning_rate=0.08,
            subsample=0.9,
            colsample_bytree=0.8,
            n_jobs=n_jobs,
            random_state=random_state,
        )
    if name == "lightgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            n_estimators=n_estimators,
            learning_rate=0.05,
            num_leaves=15,
            min_child_samples=10,
            subsample=0.9,
            subsample_freq=1,
            colsample_bytree=0.8,
            n_jobs=n_jobs,
            random_state=random_state,
            verbose=-1,
        )
    raise ValueError(f"unknown estimator {name!r} (choose from {', '.join(ESTIMATORS)})")


class UserClassifier(ClassifierMixin, BaseEstimator):
    """A user-level classifier (type or style): scaler + estimator on user features.

    Labels are encoded internally, so XGBoost gets integers and callers get strings.
    ``predict_user`` takes one user's transactions (the app's interface).

    Args:
        estimator: ``random_forest``, ``xgboost`` or ``lightgbm``.
        features: Feature columns used.
        n_estimators: Trees of the estimator.
        min_spendings: Fewer spendings than this mean "not enough data" in the app.
        n_jobs: Threads (at most 2 in the lab).
        random_state: Seed of the estimator.
    """

    def __init__(
        self,
        estimator: str = "random_forest",
        features: tuple[str, ...] = TYPE_FEATURES,
        n_estimators: int = 300,
        min_spendings: int = 30,
        n_jobs: int = 1,
        random_state: int | None = 0,
    ) -> None:
        self.estimator = estimator
        self.features = features
        self.n_estimators = n_estimators
        self.min_spendings = min_spendings
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> UserClassifier:
        """Fit on a user-feature frame and string labels."""
        self.encoder_ = LabelEncoder().fit(np.asarray(y))
        self.classes_ = self.encoder_.classes_
        columns = list(self.features)
        self.pipeline_ = Pipeline(
            [
                ("prepare", ColumnTransformer([("scale", StandardScaler(), columns)])),
                (
                    "model",
                    make_estimator(
                        self.estimator, self.random_state, self.n_estimators, self.n_jobs
                    ),
                ),
            ]
        ).fit(X[columns], self.encoder_.transform(np.asarray(y)))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Class probabilities in the order of ``classes_``."""
        return self.pipeline_.predict_proba(X[list(self.features)])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """String labels."""
        return self.encoder_.inverse_transform(self.pipeline_.predict(X[list(self.features)]))

    def predict_user(self, spendings: pd.DataFrame) -> str:
        """The label of the single user whose transactions these are (app interface)."""
        frame = spendings.assign(user_id=0)
        if "direction" not in frame.columns:
            frame = frame.assign(direction="out")
        return str(self.predict(user_features(frame))[0])
