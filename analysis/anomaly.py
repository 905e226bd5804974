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
from pandas.api.indexers import BaseIndexer
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from analysis.features import (
    OUTGOING,
    _as_day,
    check_transactions,
    daily_category,
    day_numbers,
    sorted_lookup,
    spendings,
)

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
    "repeat_gap",
    "repeat_change",
    "duplicates",
    "day_load",
    "night",
    "recent_novel",
    "recent_night",
)
"""Past-only transaction features (:func:`transaction_features`)."""
CELL_KEYS = ["user_id", "day", "category"]
SCORE_CHUNK = 65_536
"""Rows scored at a time (scores do not depend on it)."""
TXN_KEYS = ("txn_id", "user_id", "ts", "day", "category", "amount", "merchant")


class _PastWindow(BaseIndexer):
    """Rolling window over the rows before each row within its group: ``[start, i)``."""

    start: np.ndarray
    """Each row's first row of its group (set by ``BaseIndexer`` from ``start=``)."""

    def get_window_bounds(
        self,
        num_values: int = 0,
        min_periods: int | None = None,
        center: bool | None = None,
        closed: str | None = None,
        step: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.start, np.arange(num_values, dtype=np.int64)


def iqr_cells(tx: pd.DataFrame, min_history: int = MIN_HISTORY) -> pd.DataFrame:
    """Daily sums per user and category with the seed's fence from the history before them.

    ``upper_fence = Q3 + 1.5·IQR`` of the user's earlier daily sums in that category (days
    with spend); ``is_alert`` when the day's sum is above it; ``excess`` in KRW and
    ``iqr_score = (amount - Q3) / IQR`` as a continuous score (NaN without history).

    Vectorised: one rolling quantile (pandas' skip-list) over all cells sorted by user,
    category and day, each window being the cells of the same group before the current one,
    so the quantiles equal a per-group expanding quantile of the earlier days.
    """
    cells = daily_category(tx, OUTGOING)
    return _with_fence(cells, min_history)


def _with_fence(cells: pd.DataFrame, min_history: int) -> pd.DataFrame:
    """Daily cells sorted by user, category and day with the IQR fence columns added."""
    cells = cells.sort_values(["user_id", "category", "day"]).reset_index(drop=True)
    user = cells["user_id"].to_numpy()
    category = cells["category"].cat.codes.to_numpy()
    starts_group = np.ones(len(cells), dtype=bool)
    starts_group[1:] = (user[1:] != user[:-1]) | (category[1:] != category[:-1])
    start = np.flatnonzero(starts_group)[np.cumsum(starts_group) - 1].astype(np.int64)
    seen = np.arange(len(cells)) - start
    window = cells["amount"].rolling(_PastWindow(start=start), min_periods=max(min_history, 1))
    enough = seen >= min_history
    q1 = window.quantile(0.25).where(enough)
    q3 = window.quantile(0.75).where(enough)
    iqr = (q3 - q1).clip(lower=1.0)
    cells["upper_fence"] = q3 + 1.5 * iqr
    cells["excess"] = cells["amount"] - cells["upper_fence"]
    cells["is_alert"] = cells["excess"] > 0
    cells["iqr_score"] = (cells["amount"] - q3) / iqr
    return cells


def _group_codes(*keys: np.ndarray) -> np.ndarray:
    """One dense integer code per distinct combination of the integer ``keys``."""
    code = pd.factorize(keys[0])[0].astype(np.int64)
    for key in keys[1:]:
        part = pd.factorize(key)[0].astype(np.int64)
        code = pd.factorize(code * (int(part.max(initial=0)) + 1) + part)[0].astype(np.int64)
    return code


def _text_codes(column: pd.Series) -> np.ndarray:
    """Codes of a Categorical text column where missing and empty text share one code."""
    codes = column.cat.codes.to_numpy().astype(np.int64)
    categories = column.cat.categories
    empty = categories.get_indexer(pd.Index([""]))[0]
    return np.where(codes < 0, empty if empty >= 0 else len(categories), codes)


def transaction_features(tx: pd.DataFrame) -> pd.DataFrame:
    """Per outgoing transaction: how unusual it is given only the user's earlier payments.

    Past only (what a deployed detector knows when the payment arrives): each row's features
    use the same user's rows before it in time order (ties by ``txn_id``), through expanding
    statistics and trailing windows, so appending later rows never changes them. Rows come
    back in the frame's order; the labels (``is_anomaly``, ``anomaly_kind``) are passed
    through when present (never used by a feature).
    """
    tx = check_transactions(tx)
    rows = spendings(tx, OUTGOING)
    past = _past_features(rows)
    keys = rows[["txn_id", "user_id", "ts", "category", "amount", "merchant"]]
    keys = keys.assign(day=_as_day(day_numbers(rows["ts"])))[list(TXN_KEYS)]
    out = pd.concat([keys, past.set_axis(rows.index)], axis=1)
    for label in ("is_anomaly", "anomaly_kind"):
        if label in rows.columns:
            out[label] = rows[label]
    return out.reset_index(drop=True)


def _past_features(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`transaction_features` columns in the rows' order, computed in time order."""
    seconds = rows["ts"].to_numpy().astype("datetime64[s]").astype(np.int64)
    user = pd.factorize(rows["user_id"].to_numpy())[0].astype(np.int64)
    order = np.lexsort((rows["txn_id"].to_numpy(), seconds, user))
    t, user = seconds[order], user[order]
    category = rows["category"].cat.codes.to_numpy().astype(np.int64)[order]
    merchant = _text_codes(rows["merchant"])[order]
    amount = rows["amount"].to_numpy()[order]
    hour = (t // 3600) % 24
    day = t // 86_400
    log_amount = np.log1p(amount)
    seen = _past_count(user)
    user_merchant = _group_codes(user, merchant)
    user_category = _group_codes(user, category)
    f: dict[str, np.ndarray] = {}
    f["log_amount"] = log_amount
    f["amount_vs_user"] = log_amount - _past_median(log_amount, user)
    f["amount_z"] = (log_amount - _past_median(log_amount, user_category)) / (
        _past_spread(log_amount, user_category) + 0.1
    )
    f["hour_rarity"] = -np.log((_past_count(_group_codes(user, hour)) + 1) / (seen + 24))
    f["category_rarity"] = -np.log((_past_count(user_category) + 1) / (seen + 12))
    novel = _past_count(user_merchant) == 0
    f["merchant_novelty"] = -np.log1p(_past_count(user_merchant))
    f["burst"] = np.log1p(_trailing(user_merchant, t, 3600))
    previous = _previous(user_merchant)
    has_previous = previous >= 0
    gap = np.where(has_previous, t - t[np.maximum(previous, 0)], 30 * 86_400)
    f["repeat_gap"] = np.log1p(np.minimum(gap, 30 * 86_400))
    change = np.abs(log_amount - log_amount[np.maximum(previous, 0)])
    f["repeat_change"] = np.where(has_previous, np.minimum(change, 3.0), 3.0)
    f["duplicates"] = _trailing(_group_codes(user_merchant, amount.astype(np.int64)), t, 86_400)
    new_day = np.ones(len(t), dtype=bool)
    new_day[1:] = (user[1:] != user[:-1]) | (day[1:] != day[:-1])
    days_before = _past_sum(new_day.astype(float), user) + 0.0
    today = _past_count(_group_codes(user, day))
    f["day_load"] = (today + 1) / (seen / np.maximum(days_before, 1) + 1)
    f["night"] = (hour < 6).astype(float)
    f["recent_novel"] = _trailing(user, t, 3 * 86_400, novel.astype(float)) + novel
    f["recent_night"] = _trailing(user, t, 3 * 86_400, f["night"]) + f["night"]
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    # column by column: a DataFrame ``take`` of the whole block costs five times more
    return pd.DataFrame({name: np.asarray(values)[inverse] for name, values in f.items()})


def _group_start(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable order of rows by group (time order within it) and each sorted row's group start."""
    order = np.argsort(code, kind="stable")
    sorted_code = code[order]
    new = np.ones(len(code), dtype=bool)
    new[1:] = sorted_code[1:] != sorted_code[:-1]
    start = np.flatnonzero(new)[np.cumsum(new) - 1].astype(np.int64)
    return order, start


def _scatter(order: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values computed in ``order`` put back at their rows."""
    out = np.empty(len(order), dtype=np.asarray(values).dtype)
    out[order] = values
    return out


def _past_count(code: np.ndarray) -> np.ndarray:
    """Rows of the same group before each row (rows are in time order)."""
    order, start = _group_start(code)
    return _scatter(order, np.arange(len(code)) - start)


def _exclusive_sums(values: np.ndarray, order: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Sum of the sorted ``values`` before each row within its group, restarted per group (so
    a row's sum depends on its group's earlier rows only, to the last bit)."""
    ordered = values[order].astype(float)
    inclusive = pd.Series(ordered).groupby(start).cumsum().to_numpy()
    return inclusive - ordered


def _past_sum(values: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over the same group's earlier rows."""
    order, start = _group_start(code)
    return _scatter(order, _exclusive_sums(values, order, start))


def _past_median(values: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Median of ``values`` over the same group's earlier rows (the value itself without any)."""
    order, start = _group_start(code)
    window = pd.Series(values[order]).rolling(_PastWindow(start=start), min_periods=1)
    median = window.median().to_numpy()
    return _scatter(order, np.where(np.isnan(median), values[order], median))


def _past_spread(values: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Standard deviation of ``values`` over the group's earlier rows (0 with fewer than 2)."""
    n = _past_count(code).astype(float)
    total = _past_sum(values, code)
    squares = _past_sum(values**2, code)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (squares - total**2 / n) / (n - 1)
    return np.sqrt(np.where(n >= 2, np.maximum(var, 0.0), 0.0))


def _previous(code: np.ndarray) -> np.ndarray:
    """Row of the same group just before each row, -1 for a group's first row."""
    order, start = _group_start(code)
    position = np.arange(len(code))
    before = np.where(position > start, order[np.maximum(position - 1, 0)], -1)
    return _scatter(order, before)


def _trailing(
    code: np.ndarray, t: np.ndarray, window: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Earlier rows of the same group less than ``window`` seconds before (summed ``weights``)."""
    order, start = _group_start(code)
    key = code[order] * (1 << 34) + t[order]
    first = np.maximum(np.searchsorted(key, key - window + 1, side="left"), start)
    position = np.arange(len(code))
    if weights is None:
        return _scatter(order, (position - first).astype(float))
    before = _exclusive_sums(weights, order, start)
    return _scatter(order, before - before[first])


def _rank(score: np.ndarray) -> np.ndarray:
    """Scores as ranks in (0, 1]."""
    return pd.Series(score).rank(pct=True).to_numpy()


def _ecdf_rank(reference: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Average-tie percentile rank of ``score`` among the sorted ``reference`` scores.

    Equals ``_rank`` when the scored rows are the reference rows.
    """
    below, upto = sorted_lookup(reference, score, ("left", "right"))
    return (below + upto + 1) / 2 / len(reference)


class AnomalyScorer(BaseEstimator):
    """Isolation Forest and K-means distance on transaction features, and their rank average.

    The ensemble averages each score's percentile rank among the scores of the rows the
    models were fitted on (kept sorted in ``reference_``), so a transaction's ensemble score
    does not depend on which other rows are scored with it; when the scored rows are the
    fitted rows it equals their percentile rank within the batch.

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
        forest, kmeans = self._raw_scores(values)
        self.reference_ = {"isolation_forest": np.sort(forest), "kmeans": np.sort(kmeans)}
        return self

    def _raw_scores(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Isolation Forest score and the distance to the nearest K-means centre.

        The distance is computed row by row (not through a matrix product) so a row's
        score never depends on the rows batched with it.
        """
        forest = np.empty(len(values))
        kmeans = np.empty(len(values))
        centres = self.kmeans_["kmeans"].cluster_centers_
        for start in range(0, len(values), SCORE_CHUNK):  # blocks that stay in cache
            block = slice(start, start + SCORE_CHUNK)
            forest[block] = -self.forest_.score_samples(values[block])
            z = self.kmeans_["scale"].transform(values[block])
            squared = np.full(len(z), np.inf)
            for centre in centres:
                diff = z - centre
                squared = np.minimum(squared, np.einsum("ij,ij->i", diff, diff))
            kmeans[block] = np.sqrt(squared)
        return forest, kmeans

    def score_samples(self, X: pd.DataFrame) -> pd.DataFrame:
        """``isolation_forest``, ``kmeans`` and ``ensemble`` scores (higher = more unusual)."""
        forest, kmeans = self._raw_scores(X[list(TXN_FEATURES)].to_numpy())
        reference = getattr(self, "reference_", None)
        if reference is None:  # fitted before the reference was kept: rank within the batch
            ensemble = (_rank(forest) + _rank(kmeans)) / 2
        else:
            ensemble = (
                _ecdf_rank(reference["isolation_forest"], forest)
                + _ecdf_rank(reference["kmeans"], kmeans)
            ) / 2
        return pd.DataFrame(
            {"isolation_forest": forest, "kmeans": kmeans, "ensemble": ensemble}, index=X.index
        )


METHODS = ("iqr", "isolation_forest", "kmeans", "ensemble")


def score_transactions(tx: pd.DataFrame, scorer: AnomalyScorer) -> pd.DataFrame:
    """Transaction keys (``txn_id, user_id, ts, day, category, amount, merchant``) and scores."""
    feats = transaction_features(tx)
    return pd.concat([feats[list(TXN_KEYS)], scorer.score_samples(feats)], axis=1)


def cell_scores(
    tx: pd.DataFrame, scorer: AnomalyScorer, scored: pd.DataFrame | None = None
) -> pd.DataFrame:
    """IQR cells with every method's score and the injected label (``is_anomaly``).

    ``scored`` reuses :func:`score_transactions` output for the same ``tx``. A cell's score
    is the highest score of its transactions; it is positive when one of them is an injected
    anomaly. One groupby makes the daily sums, the maxima and the labels together.
    """
    tx = check_transactions(tx)
    if scored is None:
        scored = score_transactions(tx, scorer)
    rows = spendings(tx, OUTGOING)
    if len(rows) != len(scored):
        raise ValueError("scored is not score_transactions of these transactions")
    methods = ["isolation_forest", "kmeans", "ensemble"]
    frame = pd.DataFrame(
        {
            "user_id": scored["user_id"].to_numpy(),
            "day": scored["day"].to_numpy(),
            "category": rows["category"].cat.remove_unused_categories().array,
            "amount": rows["amount"].to_numpy(),
            **{m: scored[m].to_numpy() for m in methods},
        }
    )
    aggregations: dict[str, tuple[str, str]] = {
        "amount": ("amount", "sum"),
        "count": ("amount", "size"),
        **{m: (m, "max") for m in methods},
    }
    if "is_anomaly" in tx.columns:
        frame["is_anomaly"] = rows["is_anomaly"].fillna(False).to_numpy(bool)
        aggregations["is_anomaly"] = ("is_anomaly", "any")
    per_cell = frame.groupby(CELL_KEYS, observed=True).agg(**aggregations).reset_index()
    cells = _with_fence(per_cell, MIN_HISTORY)
    fence = ["upper_fence", "excess", "is_alert", "iqr_score"]
    order = [*CELL_KEYS, "amount", "count", *fence, *methods]
    cells = cells[order + (["is_anomaly"] if "is_anomaly" in cells.columns else [])]
    cells["iqr"] = cells["iqr_score"].fillna(-np.inf)
    return cells


def overspend_message(category: str, excess: float) -> str:
    """The seed's alert text for one overspent category."""
    if excess >= BIG_EXCESS:
        return f"어제 {category}에서 {round(excess):,}원만큼 과소비가 발생했어요 T.T"
    return f"어제 {category}에서 평소보다 소비가 높았어요"


def overspend_messages(category: pd.Series, excess: pd.Series) -> np.ndarray:
    """:func:`overspend_message` of many alerts (only the large ones are formatted one by one)."""
    names = category.astype(str).to_numpy(dtype=object)
    won = excess.to_numpy(float)
    big = won >= BIG_EXCESS
    out = "어제 " + names + "에서 평소보다 소비가 높았어요"
    amounts = np.array([f"{round(e):,}" for e in won[big]], dtype=object)
    out[big] = "어제 " + names[big] + "에서 " + amounts + "원만큼 과소비가 발생했어요 T.T"
    return out


CALM_MESSAGE = "어제는 충동적인 소비가 없었어요 >,<!"


def notifications(cells: pd.DataFrame) -> pd.DataFrame:
    """Notification records from IQR cells, at most one per user, day and kind.

    ``kind`` is ``overspend:<category>`` for an alerted category (sent the next day) or
    ``calm`` for a user-day with spend and no alert. Columns: ``user_id, notify_on, kind,
    category, excess, message``.
    """
    alerts = cells[cells["is_alert"].to_numpy(bool)]
    category = alerts["category"].astype(str)
    over = pd.DataFrame(
        {
            "user_id": alerts["user_id"].to_numpy(),
            "notify_on": (alerts["day"] + pd.Timedelta(days=1)).to_numpy(),
            "kind": ("overspend:" + category).to_numpy(),
            "category": category.to_numpy(),
            "excess": alerts["excess"].round().to_numpy(),
            "message": overspend_messages(category, alerts["excess"]),
        }
    )
    judged = cells[cells["upper_fence"].notna().to_numpy()]
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


def kind_counts(kind: pd.Series) -> dict[str, int]:
    """Notifications per kind family (``overspend:<category>`` counts as ``overspend``)."""
    counts = kind.value_counts()  # a few distinct kinds: split those, not every row
    families = counts.groupby(counts.index.astype(str).str.split(":").str[0]).sum()
    return {str(family): int(n) for family, n in families.items()}


def monthly_top_risky(scored: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """Each user's ``top`` riskiest transactions per month by ensemble score.

    ``scored`` is :func:`score_transactions` output.
    """
    ts = scored["ts"].to_numpy()
    month = ts.astype("datetime64[M]").astype(np.int64)
    score = scored["ensemble"].to_numpy()
    order = np.lexsort((-score, month, scored["user_id"].to_numpy()))
    user, month = scored["user_id"].to_numpy()[order], month[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (user[1:] != user[:-1]) | (month[1:] != month[:-1])
    start = np.flatnonzero(new)[np.cumsum(new) - 1]
    rank = np.arange(len(order)) - start + 1
    keep = order[rank <= top]
    out = scored.iloc[keep][["txn_id", "user_id", "ts", "category", "merchant", "amount"]]
    out = out.astype({"category": str, "merchant": str}).assign(
        score=score[keep],
        month=pd.Series(ts[keep].astype("datetime64[M]")).dt.strftime("%Y-%m").to_numpy(),
        rank=rank[rank <= top],
    )
    return out.reset_index(drop=True)
