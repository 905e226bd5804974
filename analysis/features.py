"""Features built from the ``transactions`` table: per user, per user-day-category, per
user-week-category and per user-hour slot.

All functions take a pandas frame with the ``transactions`` columns (``user_id``, ``ts``,
``amount``, ``category``, ``direction`` at least) and return new frames; nothing is
modified in place.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from monilab.errors import MonilabError
from monilab.schema import CATEGORIES

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
DAYS_PER_MONTH = 30.44


def check_transactions(tx: pd.DataFrame) -> pd.DataFrame:
    """The frame with ``ts`` as datetime; MonilabError when a needed column is missing."""
    missing = [c for c in REQUIRED if c not in tx.columns]
    if missing:
        raise MonilabError(f"transactions lack the column(s) {', '.join(missing)}")
    if len(tx) == 0:
        raise MonilabError("there are no transactions")
    out = tx.copy()
    out["ts"] = pd.to_datetime(out["ts"])
    out["amount"] = out["amount"].astype("float64")
    return out


def spendings(tx: pd.DataFrame, categories: tuple[str, ...] = CONSUMPTION) -> pd.DataFrame:
    """Outgoing rows (``direction == out``) in ``categories`` (consumption by default)."""
    return tx[(tx["direction"] == "out") & tx["category"].isin(categories)]


def _safe_div(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).fillna(0.0)


def user_features(tx: pd.DataFrame) -> pd.DataFrame:
    """One row per user: money flows, rates, category shares, frequency, timing, volatility.

    Rates are relative to income when the user has income, else to total outflow, so the
    features exist for app users whose deposits are not recorded.
    """
    tx = check_transactions(tx)
    users = pd.Index(np.sort(tx["user_id"].unique()), name="user_id")
    span = tx.groupby("user_id")["ts"].agg(["min", "max"]).reindex(users)
    months = ((span["max"] - span["min"]).dt.days + 1).clip(lower=7) / DAYS_PER_MONTH

    def monthly(mask: pd.Series) -> pd.Series:
        total = tx[mask].groupby("user_id")["amount"].sum().reindex(users, fill_value=0.0)
        return total / months

    out = tx["direction"] == "out"
    spend = spendings(tx)
    f = pd.DataFrame(index=users)
    f["months"] = months
    f["monthly_spend"] = monthly(out & tx["category"].isin(CONSUMPTION))
    f["monthly_income"] = monthly(tx["direction"] == "in")
    f["monthly_outflow"] = monthly(out)
    basis = f["monthly_income"].where(f["monthly_income"] > 0, f["monthly_outflow"])
    f["savings_rate"] = _safe_div(monthly(out & (tx["category"] == "savings")), basis)
    f["investment_rate"] = _safe_div(monthly(out & (tx["category"] == "investment")), basis)
    f["spend_rate"] = _safe_div(f["monthly_spend"], basis)
    f["savings_share"] = _safe_div(
        monthly(out & (tx["category"] == "savings")), f["monthly_outflow"]
    )
    f["investment_share"] = _safe_div(
        monthly(out & (tx["category"] == "investment")), f["monthly_outflow"]
    )
    by_cat = spend.pivot_table(
        index="user_id", columns="category", values="amount", aggfunc="sum", fill_value=0.0
    ).reindex(index=users, columns=list(CONSUMPTION), fill_value=0.0)
    total = by_cat.sum(axis=1)
    for cat in CONSUMPTION:
        f[f"share_{cat}"] = _safe_div(by_cat[cat], total)
    f["discretionary_share"] = f[[f"share_{c}" for c in DISCRETIONARY]].sum(axis=1)
    grouped = spend.groupby("user_id")["amount"]
    f["txn_per_month"] = grouped.size().reindex(users, fill_value=0) / months
    f["ticket_mean"] = grouped.mean().reindex(users, fill_value=0.0)
    f["ticket_median"] = grouped.median().reindex(users, fill_value=0.0)
    f["ticket_p90"] = grouped.quantile(0.9).reindex(users, fill_value=0.0)
    f["log_ticket_std"] = (
        np.log1p(spend["amount"]).groupby(spend["user_id"]).std().reindex(users).fillna(0.0)
    )
    hours = spend["ts"].dt.hour
    f["night_share"] = hours.isin(NIGHT_HOURS).groupby(spend["user_id"]).mean()
    f["weekend_share"] = (spend["ts"].dt.day_of_week >= 5).groupby(spend["user_id"]).mean()
    f["volatility"] = _weekly_volatility(spend).reindex(users)
    f["payday_effect"] = _payday_effect(tx, spend).reindex(users)
    return f.fillna(0.0)


def _weekly_volatility(spend: pd.DataFrame) -> pd.Series:
    """Coefficient of variation of weekly consumption (weeks without spend count as 0)."""
    weekly = (
        spend.assign(week=spend["ts"].dt.to_period("W").dt.start_time)
        .groupby(["user_id", "week"])["amount"]
        .sum()
        .unstack(fill_value=0.0)
    )
    return _safe_div(weekly.std(axis=1), weekly.mean(axis=1))


def _payday_effect(tx: pd.DataFrame, spend: pd.DataFrame) -> pd.Series:
    """Share of consumption in the 7 days after an income day, divided by 7/30.44."""
    income_days = (
        tx.loc[tx["direction"] == "in", ["user_id", "ts"]]
        .assign(day=lambda d: d["ts"].dt.normalize())[["user_id", "day"]]
        .drop_duplicates()
    )
    if income_days.empty or spend.empty:
        return pd.Series(dtype="float64")
    days = spend[["user_id", "ts", "amount"]].assign(day=spend["ts"].dt.normalize())
    merged = pd.merge_asof(
        days.sort_values("day"),
        income_days.rename(columns={"day": "payday"}).sort_values("payday"),
        left_on="day",
        right_on="payday",
        by="user_id",
        direction="backward",
    )
    after = (merged["day"] - merged["payday"]).dt.days < 7
    share = (merged["amount"] * after).groupby(merged["user_id"]).sum() / merged.groupby("user_id")[
        "amount"
    ].sum()
    return share / (7 / DAYS_PER_MONTH)


def daily_category(tx: pd.DataFrame, categories: tuple[str, ...] = CONSUMPTION) -> pd.DataFrame:
    """Spend per user, day and category: ``user_id, day, category, amount, count``."""
    spend = spendings(check_transactions(tx), categories)
    return (
        spend.assign(day=spend["ts"].dt.normalize())
        .groupby(["user_id", "day", "category"], observed=True)["amount"]
        .agg(amount="sum", count="size")
        .reset_index()
    )


def week_start(ts: pd.Series) -> pd.Series:
    """The Monday 00:00 of each timestamp's week."""
    return ts.dt.to_period("W-SUN").dt.start_time


def weekly_category(tx: pd.DataFrame) -> pd.DataFrame:
    """A full grid user × week × consumption category of spend (``amount``, 0 when none).

    Weeks run from each user's first week to the last week of the data.
    """
    tx = check_transactions(tx)
    spend = spendings(tx)
    sums = (
        spend.assign(week=week_start(spend["ts"]))
        .groupby(["user_id", "week", "category"], observed=True)["amount"]
        .sum()
    )
    first = week_start(tx.groupby("user_id")["ts"].min())
    weeks = pd.date_range(first.min(), week_start(tx["ts"]).max(), freq="7D")
    cats = pd.Categorical(list(CONSUMPTION), categories=list(CONSUMPTION))
    grid = pd.MultiIndex.from_product(
        [first.index, weeks, cats], names=["user_id", "week", "category"]
    ).to_frame(index=False)
    grid = grid[grid["week"].to_numpy() >= first.reindex(grid["user_id"]).to_numpy()]
    sums.index = sums.index.set_levels(
        pd.CategoricalIndex(sums.index.levels[2], categories=list(CONSUMPTION)), level=2
    )
    grid = grid.merge(sums.rename("amount").reset_index(), how="left", on=list(grid.columns))
    grid["amount"] = grid["amount"].fillna(0.0)
    return grid.reset_index(drop=True)


def hourly_slots(tx: pd.DataFrame, *, max_users: int = 500, seed: int = 0) -> pd.DataFrame:
    """One row per user-hour (hours without spend included) with ``spend`` 0/1.

    At most ``max_users`` users (a seeded sample) keep memory bounded: rows are
    ``max_users × hours in the period``. Columns: ``user_id, slot, hour, weekday,
    is_weekend, day_of_month, spend``.
    """
    tx = check_transactions(tx)
    spend = spendings(tx)
    users = np.sort(tx["user_id"].unique())
    if len(users) > max_users:
        users = np.sort(np.random.default_rng(seed).choice(users, max_users, replace=False))
    slots = pd.date_range(tx["ts"].min().floor("h"), tx["ts"].max().floor("h"), freq="h")
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
