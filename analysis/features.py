"""Features built from the ``transactions`` table: per user, per user-day-category, per
user-week-category and per user-hour slot.

All functions take a pandas frame with the ``transactions`` columns (``user_id``, ``ts``,
``amount``, ``category``, ``direction`` at least) and return new frames; nothing is
modified in place.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from monilab.contracts.errors import MonilabError
from monilab.contracts.vocabulary import CATEGORIES

REQUIRED = ("user_id", "ts", "amount", "category", "direction")
"""Columns every feature function needs."""
CONSUMPTION: tuple[str, ...] = tuple(
    c for c in CATEGORIES if c not in ("savings", "investment", "transfer", "income")
)
"""Outgoing categories that are consumption (not savings, investment or transfers)."""
OUTGOING: tuple[str, ...] = (*CONSUMPTION, "transfer")
"""Outgoing categories the anomaly models watch (scheduled savings and investment excluded)."""
DISCRETIONARY: tuple[str, ...] = ("shopping", "entertainment", "travel", "beauty", "coffee")
"""Consumption categories a user can most easily do without."""
NIGHT_HOURS = (22, 23, 0, 1, 2, 3, 4, 5)
TEXT_COLUMNS = ("category", "direction", "merchant")
"""Text columns kept as Categoricals after :func:`check_transactions`."""
DAYS_PER_MONTH = 30.44


def _sorted_categorical(column: pd.Series) -> pd.Series:
    """``column`` as a Categorical whose categories are sorted (codes then group like text)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        cats = column.cat.categories
        if cats.is_monotonic_increasing:
            return column
        return column.cat.reorder_categories(cats.sort_values())
    return column.astype("category")


def check_transactions(tx: pd.DataFrame) -> pd.DataFrame:
    """The frame with ``ts`` as datetime, ``amount`` as float and the text columns as
    Categoricals (sorted categories, so groupbys on codes order like text); MonilabError
    when a needed column is missing. Already checked frames pass through cheaply."""
    missing = [c for c in REQUIRED if c not in tx.columns]
    if missing:
        raise MonilabError(f"transactions lack the column(s) {', '.join(missing)}")
    if len(tx) == 0:
        raise MonilabError("there are no transactions")
    changes: dict[str, pd.Series] = {}
    if not pd.api.types.is_datetime64_dtype(tx["ts"]):
        changes["ts"] = pd.to_datetime(tx["ts"])
    if tx["amount"].dtype != np.float64:
        changes["amount"] = tx["amount"].astype("float64")
    for column in TEXT_COLUMNS:
        if column in tx.columns:
            converted = _sorted_categorical(tx[column])
            if converted is not tx[column]:
                changes[column] = converted
    return tx.assign(**changes) if changes else tx


def spendings(tx: pd.DataFrame, categories: tuple[str, ...] = CONSUMPTION) -> pd.DataFrame:
    """Outgoing rows (``direction == out``) in ``categories`` (consumption by default)."""
    return tx[(tx["direction"] == "out").to_numpy() & tx["category"].isin(categories).to_numpy()]


def _safe_div(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).fillna(0.0)


def day_numbers(ts: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of each timestamp (int64)."""
    return ts.to_numpy().astype("datetime64[D]").astype(np.int64)


def week_numbers(ts: pd.Series) -> np.ndarray:
    """Day number of the Monday that starts each timestamp's week (1970-01-01 was a Thursday)."""
    days = day_numbers(ts)
    return days - (days + 3) % 7


def hour_of_day(ts: pd.Series) -> np.ndarray:
    """Hour of day 0-23 of each timestamp."""
    return ts.to_numpy().astype("datetime64[h]").astype(np.int64) % 24


def sorted_lookup(
    keys: np.ndarray,
    queries: np.ndarray,
    sides: tuple[Literal["left", "right"], ...] = ("left",),
) -> list[np.ndarray]:
    """``np.searchsorted(keys, queries, side)`` for each side, looking the queries up in
    sorted order (cache-friendly on millions of queries; the same result)."""
    order = np.argsort(queries, kind="stable")
    ordered = queries[order]
    found = []
    for side in sides:
        at = np.empty(len(queries), dtype=np.int64)
        at[order] = np.searchsorted(keys, ordered, side=side)
        found.append(at)
    return found


def user_features(tx: pd.DataFrame) -> pd.DataFrame:
    """One row per user: money flows, rates, category shares, frequency, timing, volatility.

    Rates are relative to income when the user has income, else to total outflow, so the
    features exist for app users whose deposits are not recorded. Sums use ``np.bincount``
    on user codes (exact: amounts are whole KRW).
    """
    tx = check_transactions(tx)
    code, users_arr = pd.factorize(tx["user_id"].to_numpy(), sort=True)
    users = pd.Index(users_arr, name="user_id")
    n = len(users)
    amount = tx["amount"].to_numpy()
    ts = tx["ts"]
    first = pd.Series(ts.to_numpy()).groupby(code).min()
    last = pd.Series(ts.to_numpy()).groupby(code).max()
    days = (last - first).dt.days.to_numpy() + 1
    months = pd.Series(np.clip(days, 7, None) / DAYS_PER_MONTH, index=users)

    def total(mask: np.ndarray) -> np.ndarray:
        return np.bincount(code[mask], weights=amount[mask], minlength=n)

    def monthly(mask: np.ndarray) -> pd.Series:
        return pd.Series(total(mask), index=users) / months

    out = (tx["direction"] == "out").to_numpy()
    category = tx["category"]
    consumption = category.isin(CONSUMPTION).to_numpy()
    is_cat = {c: (category == c).to_numpy() for c in ("savings", "investment")}
    f = pd.DataFrame(index=users)
    f["months"] = months
    f["monthly_spend"] = monthly(out & consumption)
    f["monthly_income"] = monthly((tx["direction"] == "in").to_numpy())
    f["monthly_outflow"] = monthly(out)
    basis = f["monthly_income"].where(f["monthly_income"] > 0, f["monthly_outflow"])
    savings, investment = monthly(out & is_cat["savings"]), monthly(out & is_cat["investment"])
    f["savings_rate"] = _safe_div(savings, basis)
    f["investment_rate"] = _safe_div(investment, basis)
    f["spend_rate"] = _safe_div(f["monthly_spend"], basis)
    f["savings_share"] = _safe_div(savings, f["monthly_outflow"])
    f["investment_share"] = _safe_div(investment, f["monthly_outflow"])
    spend = out & consumption
    s_code, s_amount = code[spend], amount[spend]
    position = pd.Index(CONSUMPTION).get_indexer(category.cat.categories)
    cat_index = position[category.cat.codes.to_numpy()[spend]]
    by_cat = np.bincount(
        s_code * len(CONSUMPTION) + cat_index, weights=s_amount, minlength=n * len(CONSUMPTION)
    ).reshape(n, len(CONSUMPTION))
    spend_total = pd.Series(by_cat.sum(axis=1), index=users)
    for j, cat in enumerate(CONSUMPTION):
        f[f"share_{cat}"] = _safe_div(pd.Series(by_cat[:, j], index=users), spend_total)
    f["discretionary_share"] = f[[f"share_{c}" for c in DISCRETIONARY]].sum(axis=1)
    count = np.bincount(s_code, minlength=n)
    f["txn_per_month"] = pd.Series(count, index=users) / months
    grouped = pd.Series(s_amount).groupby(s_code)
    with np.errstate(invalid="ignore", divide="ignore"):
        f["ticket_mean"] = np.bincount(s_code, weights=s_amount, minlength=n) / count
    f["ticket_median"] = _by_code(grouped.median(), users_arr).fillna(0.0)
    f["ticket_p90"] = _by_code(grouped.quantile(0.9), users_arr).fillna(0.0)
    f["log_ticket_std"] = _by_code(
        pd.Series(np.log1p(s_amount)).groupby(s_code).std(), users_arr
    ).fillna(0.0)
    spend_ts = ts[spend]
    night = np.isin(hour_of_day(spend_ts), NIGHT_HOURS)
    weekend = (day_numbers(spend_ts) + 3) % 7 >= 5
    with np.errstate(invalid="ignore", divide="ignore"):
        f["night_share"] = np.bincount(s_code, weights=night, minlength=n) / count
        f["weekend_share"] = np.bincount(s_code, weights=weekend, minlength=n) / count
    f["volatility"] = _weekly_volatility(s_code, s_amount, week_numbers(spend_ts), users_arr)
    f["payday_effect"] = _payday_effect(tx, code, spend, users_arr)
    return f.fillna(0.0)


def _by_code(values: pd.Series, users: np.ndarray) -> pd.Series:
    """A per-code result as a Series on the user ids (NaN for users without rows)."""
    out = np.full(len(users), np.nan)
    out[values.index.to_numpy()] = values.to_numpy()
    return pd.Series(out, index=pd.Index(users, name="user_id"))


def _weekly_volatility(
    code: np.ndarray, amount: np.ndarray, week: np.ndarray, users: np.ndarray
) -> pd.Series:
    """Coefficient of variation of weekly consumption (weeks without spend count as 0).

    The weeks are those with any consumption in the frame, as columns of a user × week table.
    """
    weeks, week_code = np.unique(week, return_inverse=True)
    present, user_code = np.unique(code, return_inverse=True)
    table = np.bincount(
        user_code * len(weeks) + week_code, weights=amount, minlength=len(present) * len(weeks)
    ).reshape(len(present), len(weeks))
    weekly = pd.DataFrame(table)
    volatility = _safe_div(weekly.std(axis=1), weekly.mean(axis=1))
    return _by_code(pd.Series(volatility.to_numpy(), index=present), users)


def _payday_effect(
    tx: pd.DataFrame, code: np.ndarray, spend: np.ndarray, users: np.ndarray
) -> pd.Series:
    """Share of consumption in the 7 days after an income day, divided by 7/30.44.

    The income day of a spend day is the user's latest income day on or before it.
    """
    day = day_numbers(tx["ts"])
    income = (tx["direction"] == "in").to_numpy()
    if not income.any() or not spend.any():
        return pd.Series(np.nan, index=pd.Index(users, name="user_id"))
    span = int(day.max()) - int(day.min()) + 2
    base = int(day.min())
    income_keys = np.unique(code[income] * span + (day[income] - base))
    spend_keys = code[spend] * span + (day[spend] - base)
    at = sorted_lookup(income_keys, spend_keys, ("right",))[0] - 1
    found = at >= 0
    payday_key = income_keys[np.maximum(at, 0)]
    same_user = found & (payday_key // span == code[spend])
    after = same_user & (spend_keys - payday_key < 7)
    amount = tx["amount"].to_numpy()[spend]
    s_code = code[spend]
    n = len(users)
    total = np.bincount(s_code, weights=amount, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.bincount(s_code, weights=amount * after, minlength=n) / total
    return pd.Series(share / (7 / DAYS_PER_MONTH), index=pd.Index(users, name="user_id"))


def daily_category(tx: pd.DataFrame, categories: tuple[str, ...] = CONSUMPTION) -> pd.DataFrame:
    """Spend per user, day and category: ``user_id, day, category, amount, count``.

    Rows are ordered by user, day and category.
    """
    spend = spendings(check_transactions(tx), categories)
    category = spend["category"]
    return (
        pd.DataFrame(
            {
                "user_id": spend["user_id"].to_numpy(),
                "day": spend["ts"].dt.normalize().to_numpy(),
                "category": category.cat.remove_unused_categories().array,
                "amount": spend["amount"].to_numpy(),
            }
        )
        .groupby(["user_id", "day", "category"], observed=True)["amount"]
        .agg(amount="sum", count="size")
        .reset_index()
    )


def _as_day(numbers: np.ndarray) -> np.ndarray:
    """Day numbers as ``datetime64[us]`` midnights."""
    return np.asarray(numbers, dtype="datetime64[D]").astype("datetime64[us]")


def weekly_category(tx: pd.DataFrame, last_ts: pd.Timestamp | None = None) -> pd.DataFrame:
    """A full grid user × week × consumption category of spend (``amount``, 0 when none).

    Weeks run from each user's first week to the last week of the data (the week of
    ``last_ts`` when given: a shard of a larger dataset passes the dataset's last time).
    Rows are ordered by user, week and category.
    """
    tx = check_transactions(tx)
    users, code = np.unique(tx["user_id"].to_numpy(), return_inverse=True)
    week = week_numbers(tx["ts"])
    first_week = np.full(len(users), np.iinfo(np.int64).max)
    np.minimum.at(first_week, code, week)
    last = week.max() if last_ts is None else week_numbers(pd.Series([pd.Timestamp(last_ts)]))[0]
    weeks = np.arange(first_week.min(), last + 1, 7)
    n_cat = len(CONSUMPTION)
    category = tx["category"]
    s = (tx["direction"] == "out").to_numpy() & category.isin(CONSUMPTION).to_numpy()
    position = pd.Index(CONSUMPTION).get_indexer(category.cat.categories)
    cat_index = position[category.cat.codes.to_numpy()[s]]
    week_index = (week[s] - weeks[0]) // 7
    keep = week_index < len(weeks)
    flat = (code[s][keep] * len(weeks) + week_index[keep]) * n_cat + cat_index[keep]
    dense = np.bincount(
        flat, weights=tx["amount"].to_numpy()[s][keep], minlength=len(users) * len(weeks) * n_cat
    ).reshape(len(users), len(weeks), n_cat)
    u, w = np.nonzero(weeks[None, :] >= first_week[:, None])
    return pd.DataFrame(
        {
            "user_id": np.repeat(users[u], n_cat),
            "week": np.repeat(_as_day(weeks[w]), n_cat),
            "category": pd.Categorical.from_codes(
                np.tile(np.arange(n_cat, dtype=np.int8), len(u)),
                categories=pd.Index(list(CONSUMPTION)),
            ),
            "amount": dense[u, w].ravel(),
        }
    )


def sample_users(users: np.ndarray, max_users: int, seed: int) -> np.ndarray:
    """At most ``max_users`` of the sorted ``users`` (a seeded sample, sorted)."""
    users = np.sort(np.asarray(users))
    if len(users) > max_users:
        users = np.sort(np.random.default_rng(seed).choice(users, max_users, replace=False))
    return users


def hourly_slots(
    tx: pd.DataFrame,
    *,
    max_users: int = 500,
    seed: int = 0,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """One row per user-hour (hours without spend included) with ``spend`` 0/1.

    At most ``max_users`` users (a seeded sample, :func:`sample_users`) keep memory bounded:
    rows are ``max_users × hours in the period``. The period is the data's first to last hour,
    or ``span`` (first and last time) when ``tx`` holds only the sampled users of a larger
    dataset. Columns: ``user_id, slot, hour, weekday, is_weekend, day_of_month, spend``.
    """
    tx = check_transactions(tx)
    spend = spendings(tx)
    users = sample_users(tx["user_id"].unique(), max_users, seed)
    first, last = span if span is not None else (tx["ts"].min(), tx["ts"].max())
    slots = pd.date_range(pd.Timestamp(first).floor("h"), pd.Timestamp(last).floor("h"), freq="h")
    frame = pd.DataFrame(
        {
            "user_id": np.repeat(users, len(slots)),
            "slot": np.tile(slots.to_numpy(), len(users)),
        }
    )
    hit = spend.loc[spend["user_id"].isin(users), ["user_id", "ts"]]
    hit = hit.assign(slot=hit["ts"].dt.floor("h"))[["user_id", "slot"]].drop_duplicates()
    frame = frame.merge(hit.assign(spend=1), how="left", on=["user_id", "slot"])
    frame["spend"] = frame["spend"].fillna(0).astype("int8")
    frame["hour"] = frame["slot"].dt.hour.astype("int8")
    frame["weekday"] = frame["slot"].dt.day_of_week.astype("int8")
    frame["is_weekend"] = (frame["weekday"] >= 5).astype("int8")
    frame["day_of_month"] = frame["slot"].dt.day.astype("int8")
    return frame
