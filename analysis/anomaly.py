"""Overspending and anomaly detection: the seed's IQR rule, Isolation Forest, K-means distance
and their rank-average ensemble; alerts as notifications and a monthly risky-spend report.

Units: the IQR rule works on user-day-category *cells* (the seed's "yesterday's sum per
category"); the learned models score *transactions*, and a cell's score is the highest
score of its transactions. Evaluation compares all methods on cells: a cell is positive
when it holds an injected anomaly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from analysis.features import OUTGOING, check_transactions, daily_category, spendings

MIN_HISTORY = 8
"""Days with spend in a category before the IQR rule judges that category."""
BIG_EXCESS = 30_000
"""Excess (KRW) above which the alert says "N원만큼 과소비" rather than "평소보다 높았어요"."""
TXN_FEATURES: tuple[str, ...] = (
    "log_amount",
    "amount_z",
    "amount_vs_user",
    "hour_rarity",
    "category_rarity",
    "merchant_novelty",
    "burst",
    "duplicates",
    "day_load",
)
CELL_KEYS = ["user_id", "day", "category"]


def iqr_cells(tx: pd.DataFrame, min_history: int = MIN_HISTORY) -> pd.DataFrame:
    """Daily sums per user and category with the seed's fence from the history before them.

    ``upper_fence = Q3 + 1.5·IQR`` of the user's earlier daily sums in that category (days
    with spend); ``is_alert`` when the day's sum is above it; ``excess`` in KRW and
    ``iqr_score = (amount - Q3) / IQR`` as a continuous score (NaN without history).
    """
    cells = daily_category(tx, OUTGOING).sort_values(["user_id", "category", "day"])
    past = cells.groupby(["user_id", "category"], observed=True)["amount"].shift()
    grouped = past.groupby([cells["user_id"], cells["category"]], observed=True)
    q1 = grouped.expanding(min_periods=min_history).quantile(0.25)
    q3 = grouped.expanding(min_periods=min_history).quantile(0.75)
    q1 = q1.reset_index(level=[0, 1], drop=True).reindex(cells.index)
    q3 = q3.reset_index(level=[0, 1], drop=True).reindex(cells.index)
    # expanding() counts the leading NaN of shift(): require min_history real values
    seen = cells.groupby(["user_id", "category"], observed=True).cumcount()
    q1, q3 = q1.where(seen >= min_history), q3.where(seen >= min_history)
    iqr = (q3 - q1).clip(lower=1.0)
    cells = cells.assign(upper_fence=q3 + 1.5 * iqr)
    cells["excess"] = cells["amount"] - cells["upper_fence"]
    cells["is_alert"] = cells["excess"] > 0
    cells["iqr_score"] = (cells["amount"] - q3) / iqr
    return cells.reset_index(drop=True)


def transaction_features(tx: pd.DataFrame) -> pd.DataFrame:
    """Per outgoing transaction: how unusual its amount, hour, category, merchant and day are.

    Statistics are per user over the frame given (unsupervised, no labels used).
    """
    rows = spendings(check_transactions(tx), OUTGOING).copy()
    rows["day"] = rows["ts"].dt.normalize()
    log_amount = np.log1p(rows["amount"])
    user = rows["user_id"]
    by_uc = log_amount.groupby([user, rows["category"]])
    med = by_uc.transform("median")
    mad = (log_amount - med).abs().groupby([user, rows["category"]]).transform("median")
    n_user = user.map(user.value_counts())
    hour = rows["ts"].dt.hour
    f = pd.DataFrame(index=rows.index)
    f["log_amount"] = log_amount
    f["amount_z"] = (log_amount - med) / (mad + 0.1)
    f["amount_vs_user"] = log_amount - log_amount.groupby(user).transform("median")
    f["hour_rarity"] = -np.log(
        (rows.groupby([user, hour])["amount"].transform("size") + 1) / n_user
    )
    f["category_rarity"] = -np.log(
        (rows.groupby([user, rows["category"]])["amount"].transform("size") + 1) / n_user
    )
    merchant = rows["merchant"].fillna("")
    f["merchant_novelty"] = -np.log1p(rows.groupby([user, merchant])["amount"].transform("size"))
    hour_slot = rows["ts"].dt.floor("h")
    f["burst"] = np.log(rows.groupby([user, merchant, hour_slot])["amount"].transform("size"))
    f["duplicates"] = (
        rows.groupby([user, merchant, rows["amount"], rows["day"]])["amount"].transform("size") - 1
    )
    per_day = rows.groupby([user, rows["day"]])["amount"].transform("size")
    days_active = rows.groupby(user)["day"].transform("nunique")
    f["day_load"] = per_day / (n_user / days_active)
    keys = rows[["txn_id", "user_id", "ts", "day", "category", "amount", "merchant"]]
    return pd.concat([keys, f], axis=1).reset_index(drop=True)


def _rank(score: np.ndarray) -> np.ndarray:
    """Scores as ranks in (0, 1]."""
    return pd.Series(score).rank(pct=True).to_numpy()


class AnomalyScorer(BaseEstimator):
    """Isolation Forest and K-means distance on transaction features, and their rank average.

    Args:
        n_estimators: Trees of the Isolation Forest.
        n_clusters: K-means clusters (distance to the nearest centre is the score).
        max_samples: Rows per Isolation Forest tree.
        n_jobs: Threads.
        random_state: Seed of both models.
    """

    def __init__(
        self,
        n_estimators: int = 100,
        n_clusters: int = 4,
        max_samples: int = 512,
        n_jobs: int = 1,
        random_state: int | None = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.n_clusters = n_clusters
        self.max_samples = max_samples
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: object = None) -> AnomalyScorer:
        """Fit both models on a :func:`transaction_features` frame."""
        values = X[list(TXN_FEATURES)].to_numpy()
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, len(values)),
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        ).fit(values)
        self.kmeans_ = Pipeline(
            [
                ("scale", StandardScaler()),
                (
                    "kmeans",
                    KMeans(self.n_clusters, n_init=3, random_state=self.random_state),
                ),
            ]
        ).fit(values)
        return self

    def score_samples(self, X: pd.DataFrame) -> pd.DataFrame:
        """``isolation_forest``, ``kmeans`` and ``ensemble`` scores (higher = more unusual)."""
        values = X[list(TXN_FEATURES)].to_numpy()
        forest = -self.forest_.score_samples(values)
        kmeans = self.kmeans_.transform(values).min(axis=1)
        ensemble = (_rank(forest) + _rank(kmeans)) / 2
        return pd.DataFrame(
            {"isolation_forest": forest, "kmeans": kmeans, "ensemble": ensemble}, index=X.index
        )


METHODS = ("iqr", "isolation_forest", "kmeans", "ensemble")


def score_transactions(tx: pd.DataFrame, scorer: AnomalyScorer) -> pd.DataFrame:
    """Transaction keys (``txn_id, user_id, ts, day, category, amount, merchant``) and scores."""
    feats = transaction_features(tx)
    keys = ["txn_id", "user_id", "ts", "day", "category", "amount", "merchant"]
    return pd.concat([feats[keys], scorer.score_samples(feats)], axis=1)


def cell_scores(
    tx: pd.DataFrame, scorer: AnomalyScorer, scored: pd.DataFrame | None = None
) -> pd.DataFrame:
    """IQR cells with every method's score and the injected label (``is_anomaly``).

    ``scored`` reuses :func:`score_transactions` output for the same ``tx``.
    """
    cells = iqr_cells(tx)
    if scored is None:
        scored = score_transactions(tx, scorer)
    columns = [*CELL_KEYS, "isolation_forest", "kmeans", "ensemble"]
    per_cell = scored[columns].groupby(CELL_KEYS, observed=True).max().reset_index()
    cells = cells.merge(per_cell, on=CELL_KEYS, how="left")
    if "is_anomaly" in tx.columns:
        checked = check_transactions(tx)
        labels = spendings(checked, OUTGOING).assign(
            day=lambda d: d["ts"].dt.normalize(), is_anomaly=lambda d: d["is_anomaly"].fillna(False)
        )
        positive = labels.groupby(CELL_KEYS, observed=True)["is_anomaly"].any().reset_index()
        cells = cells.merge(positive, on=CELL_KEYS, how="left")
    cells["iqr"] = cells["iqr_score"].fillna(-np.inf)
    return cells


def overspend_message(category: str, excess: float) -> str:
    """The seed's alert text for one overspent category."""
    if excess >= BIG_EXCESS:
        return f"어제 {category}에서 {round(excess):,}원만큼 과소비가 발생했어요 T.T"
    return f"어제 {category}에서 평소보다 소비가 높았어요"


CALM_MESSAGE = "어제는 충동적인 소비가 없었어요 >,<!"


def notifications(cells: pd.DataFrame) -> pd.DataFrame:
    """Notification records from IQR cells, at most one per user, day and kind.

    ``kind`` is ``overspend:<category>`` for an alerted category (sent the next day) or
    ``calm`` for a user-day with spend and no alert. Columns: ``user_id, notify_on, kind,
    category, excess, message``.
    """
    alerts = cells[cells["is_alert"]]
    over = pd.DataFrame(
        {
            "user_id": alerts["user_id"],
            "notify_on": alerts["day"] + pd.Timedelta(days=1),
            "kind": "overspend:" + alerts["category"].astype(str),
            "category": alerts["category"].astype(str),
            "excess": alerts["excess"].round(),
            "message": [
                overspend_message(c, e)
                for c, e in zip(alerts["category"], alerts["excess"], strict=True)
            ],
        }
    )
    judged = cells[cells["upper_fence"].notna()]
    alerted_days = judged.groupby(["user_id", "day"])["is_alert"].any()
    calm_days = alerted_days[~alerted_days].reset_index()
    calm = pd.DataFrame(
        {
            "user_id": calm_days["user_id"],
            "notify_on": calm_days["day"] + pd.Timedelta(days=1),
            "kind": "calm",
            "category": None,
            "excess": 0.0,
            "message": CALM_MESSAGE,
        }
    )
    out = pd.concat([over, calm], ignore_index=True)
    out = out.drop_duplicates(["user_id", "notify_on", "kind"])
    return out.sort_values(["user_id", "notify_on", "kind"]).reset_index(drop=True)


def monthly_top_risky(scored: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """Each user's ``top`` riskiest transactions per month by ensemble score.

    ``scored`` is :func:`score_transactions` output.
    """
    scored = scored[["txn_id", "user_id", "ts", "category", "merchant", "amount"]].assign(
        score=scored["ensemble"].to_numpy(), month=scored["ts"].dt.to_period("M").astype(str)
    )
    scored = scored.sort_values(["user_id", "month", "score"], ascending=[True, True, False])
    scored["rank"] = scored.groupby(["user_id", "month"]).cumcount() + 1
    return scored[scored["rank"] <= top].reset_index(drop=True)
