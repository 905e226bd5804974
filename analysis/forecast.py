"""Next week's spend per user and category: naive baselines and two-stage boosted models.

Rows are (user, category, week) cells of :func:`analysis.features.weekly_category`; every
feature uses strictly earlier weeks. The two-stage model multiplies an occurrence
classifier (will the user spend in this category next week?) by an amount regressor
(log amount, trained on weeks with spend). Its point forecast is the median of that
zero-inflated log-normal mixture (MAE-optimal, so it is what WAPE rewards); the mean is
used for weekly totals and the budget overrun probability (normal approximation of the
sum over categories).

Users whose history before the forecast week is shorter than :data:`MIN_HISTORY_DAYS`
are not trained on and get ``status = "not_enough_data"`` (the seed's 3-month rule). History
counts whole days from the user's first day (not from the time of day of the first row).

The rows also carry the simple forecasts of :mod:`analysis.forecast_baselines` (medians,
seasonal naive, Croston, TSB), the baselines every evaluation compares the model with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator

from analysis.features import CONSUMPTION, check_transactions, weekly_category
from analysis.forecast_baselines import CELL_BASELINES, add_baseline_columns

MIN_HISTORY_DAYS = 90
FEATURES: tuple[str, ...] = (
    "category_code",
    "lag1",
    "lag2",
    "lag3",
    "lag4",
    "mean4",
    "mean8",
    "mean13",
    "occ8",
    "occ13",
    "total_lag1",
    "total_mean4",
    "weeks_seen",
    "week_of_year",
    "month",
)
LEARNING_RATE = 0.05
"""Shrinkage of every boosted stage (LightGBM and XGBoost alike)."""
BASELINES = {name: column for name, column in CELL_BASELINES.items() if column}
"""Baseline name → its column in :func:`weekly_rows` (zero has none); see
:mod:`analysis.forecast_baselines`."""


def _past_mean(grouped_cumsum: pd.Series, keys: pd.Series, n: int) -> pd.Series:
    """Mean of the n weeks before each row from a per-group cumulative sum."""
    before = grouped_cumsum.groupby(keys).shift(1)
    start = grouped_cumsum.groupby(keys).shift(n + 1).fillna(0.0)
    return (before - start) / n


def weekly_rows(
    tx: pd.DataFrame, grid: pd.DataFrame | None = None, last_ts: pd.Timestamp | None = None
) -> pd.DataFrame:
    """One row per user, category and week with the target ``amount`` and lag features.

    ``grid`` replaces :func:`weekly_category` (e.g. with a future week whose amount is NaN);
    without it, a last week the data does not cover entirely is dropped. ``last_ts`` is the
    last time of the whole dataset when ``tx`` is one shard of it (default: ``tx``'s own).
    """
    tx = check_transactions(tx)
    first_seen = tx.groupby("user_id")["ts"].min().dt.normalize()
    if grid is None:
        last = tx["ts"].max() if last_ts is None else pd.Timestamp(last_ts)
        rows = weekly_category(tx, last)
        end = last.normalize() + pd.Timedelta(days=1)
        rows = rows[rows["week"] + pd.Timedelta(days=7) <= end]
    else:
        rows = grid
    rows = rows.sort_values(["user_id", "category", "week"]).reset_index(drop=True)
    key = rows["user_id"].astype("int64") * 100 + rows["category"].cat.codes.astype("int64")
    amount = rows["amount"]
    by_key = amount.groupby(key)
    for lag in (1, 2, 3, 4):
        rows[f"lag{lag}"] = by_key.shift(lag)
    cumsum = by_key.cumsum()
    spent = (amount > 0).astype(float).groupby(key).cumsum()
    for n in (4, 8, 13):
        rows[f"mean{n}"] = _past_mean(cumsum, key, n)
    rows["occ8"] = _past_mean(spent, key, 8)
    rows["occ13"] = _past_mean(spent, key, 13)
    totals = rows.groupby(["user_id", "week"])["amount"].sum().rename("total").reset_index()
    totals = totals.sort_values(["user_id", "week"])
    user_totals = totals.groupby("user_id")["total"]
    totals["total_lag1"] = user_totals.shift(1)
    totals["total_mean4"] = _past_mean(user_totals.cumsum(), totals["user_id"], 4)
    rows = rows.merge(totals.drop(columns="total"), on=["user_id", "week"], how="left")
    rows["weeks_seen"] = rows.groupby(["user_id", "category"], observed=True).cumcount()
    rows["history_days"] = (rows["week"] - rows["user_id"].map(first_seen)).dt.days
    rows["category_code"] = rows["category"].cat.codes.astype("int16")
    rows["week_of_year"] = rows["week"].dt.isocalendar().week.astype("int16").to_numpy()
    rows["month"] = rows["week"].dt.month.astype("int16")
    return add_baseline_columns(rows, key)


def first_test_week(weeks: np.ndarray, test_weeks: int = 4) -> pd.Timestamp:
    """The first of the last ``test_weeks`` of the sorted distinct ``weeks`` (ValueError when
    fewer than ``test_weeks + 5`` weeks)."""
    weeks = np.sort(np.asarray(weeks))
    if len(weeks) <= test_weeks + 4:
        raise ValueError(f"{len(weeks)} weeks are too few for {test_weeks} test weeks")
    return pd.Timestamp(weeks[-test_weeks])


def time_split(
    rows: pd.DataFrame, test_weeks: int = 4, first_test: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on weeks before the last ``test_weeks`` weeks, test on those (never at random).

    Only users with at least :data:`MIN_HISTORY_DAYS` of history before the first test week
    are kept (on both sides); their early weeks train with missing lags. ``first_test`` is
    the whole dataset's first test week when ``rows`` come from one shard of it.
    """
    if first_test is None:
        first_test = first_test_week(rows["week"].unique(), test_weeks)
    history_at_test = rows["history_days"] - (rows["week"] - first_test).dt.days
    enough = history_at_test >= MIN_HISTORY_DAYS
    train = rows[(rows["week"] < first_test) & enough]
    test = rows[(rows["week"] >= first_test) & enough]
    return train.reset_index(drop=True), test.reset_index(drop=True)


def _make(backend: str, kind: str, n_estimators: int, random_state: int | None, n_jobs: int):
    """A LightGBM or XGBoost classifier or regressor."""
    if backend == "lightgbm":
        import lightgbm as lgb

        cls = lgb.LGBMClassifier if kind == "classifier" else lgb.LGBMRegressor
        return cls(
            num_leaves=31,
            min_child_samples=50,
            random_state=random_state,
            verbose=-1,
            n_estimators=n_estimators,
            learning_rate=LEARNING_RATE,
            n_jobs=n_jobs,
        )
    if backend == "xgboost":
        import xgboost as xgb

        cls = xgb.XGBClassifier if kind == "classifier" else xgb.XGBRegressor
        return cls(
            max_depth=6,
            min_child_weight=5,
            random_state=random_state,
            n_estimators=n_estimators,
            learning_rate=LEARNING_RATE,
            n_jobs=n_jobs,
        )
    raise ValueError(f"unknown backend {backend!r} (lightgbm or xgboost)")


class TwoStageForecaster(BaseEstimator):
    """Occurrence classifier × log-amount regressor for next week's spend in a category.

    Args:
        backend: ``lightgbm`` or ``xgboost``.
        n_estimators: Boosting rounds of each stage.
        n_jobs: Threads per model.
        random_state: Seed of both stages.
    """

    def __init__(
        self,
        backend: str = "lightgbm",
        n_estimators: int = 200,
        n_jobs: int = 1,
        random_state: int | None = 0,
    ) -> None:
        self.backend = backend
        self.n_estimators = n_estimators
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> TwoStageForecaster:
        """Fit on :func:`weekly_rows` features and weekly amounts."""
        y = np.asarray(y, dtype=float)
        values = X[list(FEATURES)].astype(float)
        args = (self.n_estimators, self.random_state, self.n_jobs)
        self.occurrence_ = _make(self.backend, "classifier", *args).fit(values, y > 0)
        positive = y > 0
        log_y = np.log(y[positive])
        self.amount_ = _make(self.backend, "regressor", *args).fit(values[positive], log_y)
        residual = log_y - self.amount_.predict(values[positive])
        self.sigma_ = float(np.std(residual))
        self.base_rate_ = float(positive.mean())
        return self

    def components(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Occurrence probability and the log-amount location of each row."""
        values = X[list(FEATURES)].astype(float)
        return self.occurrence_.predict_proba(values)[:, 1], self.amount_.predict(values)

    def mean_of(self, p: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Expected spend from :meth:`components`."""
        return p * np.exp(mu + self.sigma_**2 / 2)

    def median_of(self, p: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Median of the zero-inflated log-normal from :meth:`components` (0 when spending
        is unlikely)."""
        q = np.clip(1 - 0.5 / np.maximum(p, 1e-9), 1e-6, 1 - 1e-6)
        return np.where(p > 0.5, np.exp(mu + self.sigma_ * norm.ppf(q)), 0.0)

    def predict_mean(self, X: pd.DataFrame) -> np.ndarray:
        """Expected spend."""
        return self.mean_of(*self.components(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Median of the zero-inflated log-normal (0 when spending is unlikely)."""
        return self.median_of(*self.components(X))


def two_stage_predictions(
    models: dict[str, TwoStageForecaster], test: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Occurrence probability (``<backend>_p``), median and mean of the ``lightgbm`` and
    ``xgboost`` two-stage models on ``test``, from one pass of each stage."""
    out: dict[str, np.ndarray] = {}
    for backend in ("lightgbm", "xgboost"):
        p, mu = models[backend].components(test)
        out[f"{backend}_p"] = p
        out[f"{backend}_median"] = models[backend].median_of(p, mu)
        out[f"{backend}_mean"] = models[backend].mean_of(p, mu)
    return out


def weekly_budget(train: pd.DataFrame) -> pd.Series:
    """Each user's budget: the mean weekly consumption over the training weeks."""
    return train.groupby(["user_id", "week"])["amount"].sum().groupby("user_id").mean()


OVERRUN_FEATURES = ("budget", "total_lag1", "total_mean4", "mean4", "mean8", "mean13", "occ8")


def user_weeks(rows: pd.DataFrame, budget: pd.Series) -> pd.DataFrame:
    """Weekly totals per user with summed category features and ``overrun`` (total > budget)."""
    weeks = rows.groupby(["user_id", "week"]).agg(
        total=("amount", "sum"),
        total_lag1=("total_lag1", "first"),
        total_mean4=("total_mean4", "first"),
        mean4=("mean4", "sum"),
        mean8=("mean8", "sum"),
        mean13=("mean13", "sum"),
        occ8=("occ8", "sum"),
    )
    users = weeks.index.get_level_values("user_id")
    weeks["budget"] = budget.reindex(users).to_numpy(float)
    weeks["overrun"] = weeks["total"] > weeks["budget"]
    return weeks


class OverrunClassifier(BaseEstimator):
    """P(next week's consumption > the user's weekly budget), from weekly aggregates.

    Args:
        n_estimators: Boosting rounds (LightGBM).
        n_jobs: Threads.
        random_state: Seed.
    """

    def __init__(
        self, n_estimators: int = 200, n_jobs: int = 1, random_state: int | None = 0
    ) -> None:
        self.n_estimators = n_estimators
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, weeks: pd.DataFrame, y: pd.Series | np.ndarray) -> OverrunClassifier:
        """Fit on :func:`user_weeks` rows and their overrun flags."""
        self.model_ = _make(
            "lightgbm", "classifier", self.n_estimators, self.random_state, self.n_jobs
        ).fit(weeks[list(OVERRUN_FEATURES)].astype(float), np.asarray(y, dtype=bool))
        self.base_rate_ = float(np.mean(y))
        return self

    def predict_proba(self, weeks: pd.DataFrame) -> np.ndarray:
        """Overrun probabilities."""
        return self.model_.predict_proba(weeks[list(OVERRUN_FEATURES)].astype(float))[:, 1]


def next_week(model: TwoStageForecaster, tx: pd.DataFrame) -> pd.DataFrame:
    """Forecasts for the week after the last complete week, per user and category.

    ``status`` is ``ok`` or ``not_enough_data``.

    Users with less than :data:`MIN_HISTORY_DAYS` of history get ``not_enough_data`` and
    no forecast.
    """
    tx = check_transactions(tx)
    rows = weekly_rows(tx)
    last = rows["week"].max()
    # append the future week as a row with an unknown target, then recompute the lags
    future = rows[rows["week"] == last][["user_id", "category"]].assign(
        week=last + pd.Timedelta(days=7), amount=np.nan
    )
    grid = pd.concat([rows[["user_id", "week", "category", "amount"]], future])
    grid["category"] = pd.Categorical(grid["category"].astype(str), categories=list(CONSUMPTION))
    rows = weekly_rows(tx, grid)
    out = rows[rows["week"] == last + pd.Timedelta(days=7)].copy()
    ok = out["history_days"] >= MIN_HISTORY_DAYS
    out["status"] = np.where(ok, "ok", "not_enough_data")
    out["forecast"] = np.nan
    out["probability"] = np.nan
    if ok.any():
        out.loc[ok, "forecast"] = model.predict(out[ok])
        out.loc[ok, "probability"] = model.components(out[ok])[0]
    return out[["user_id", "week", "category", "status", "forecast", "probability"]]
