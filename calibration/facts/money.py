"""How much, against what: monthly variation, seasons, income, paydays, the consumption mix.

Monthly facts use each user's *complete* calendar months (see
:mod:`calibration.facts.frames`), months without rows counting as 0.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from calibration.facts.frames import FactData, month_days, month_of_day
from calibration.facts.measure import (
    Measurement,
    NotApplicable,
    median_over_users,
    require_users,
)

MIN_MONTHS = 4
POPULATION_USERS = 30
SEASON_MONTHS = 6
PAYDAY_WINDOW_DAYS = 7
CYCLE_DAYS = (20, 40)
MIN_CYCLES = 3
MIN_CYCLE_PAYMENTS = 30
OUTFLOW_QUANTILE = 0.95


def user_month_totals(data: FactData, rows: pd.DataFrame) -> pd.DataFrame:
    """Amount per (user, complete month), 0 where the user had no such rows.

    Returns:
        Columns ``user_id``, ``month`` (months since 1970-01), ``amount`` (float).
    """
    months = data.complete_months
    if rows.empty or months.empty:
        return months.assign(amount=0.0)
    sums = (
        rows.assign(month=month_of_day(rows["day"].to_numpy()))
        .groupby(["user_id", "month"], sort=False)["amount"]
        .sum()
        .astype(float)
    )
    index = pd.MultiIndex.from_frame(months)
    return months.assign(amount=sums.reindex(index, fill_value=0.0).to_numpy())


def _monthly_cv(totals: pd.DataFrame, min_months: int) -> pd.Series:
    """Per user: sample std / mean of monthly amounts (users with enough months, mean > 0)."""
    stats = totals.groupby("user_id")["amount"].agg(["size", "mean", "std"])
    stats = stats[(stats["size"] >= min_months) & (stats["mean"] > 0)]
    return stats["std"] / stats["mean"]


def monthly_spend_cv(data: FactData, *, min_months: int = MIN_MONTHS) -> Measurement:
    """Median over users of the CV (sample std / mean) of monthly everyday spending."""
    cv = _monthly_cv(user_month_totals(data, data.everyday), min_months)
    return median_over_users(cv, f">= {min_months} complete months")


def income_regularity(data: FactData, *, min_months: int = MIN_MONTHS) -> Measurement:
    """Median over users of the CV (sample std / mean) of monthly income.

    0 is the same income every month; a salary with bonuses, side income and gifts varies.
    Users without income in their complete months are left out.

    Raises:
        NotApplicable: The data has no incoming rows.
    """
    if data.income.empty:
        raise NotApplicable("no income rows (direction in)")
    cv = _monthly_cv(user_month_totals(data, data.earnings), min_months)
    return median_over_users(cv, f"income and >= {min_months} complete months")


def seasonality(
    data: FactData, *, min_users: int = POPULATION_USERS, min_months: int = SEASON_MONTHS
) -> Measurement:
    """CV across calendar months of everyday spending per active user per day.

    For each calendar month: the everyday spending of the users for whom it is a complete
    month, divided by their number and by the days of the month (so February is not a
    trough by length); the value is the population std / mean of that monthly series.
    A population fact: months with fewer than ``min_users`` active users are left out.

    Raises:
        NotApplicable: Fewer than ``min_users`` users, or fewer than ``min_months`` months.
    """
    require_users(len(data.spans), min_users, "seasonality")
    totals = user_month_totals(data, data.everyday)
    by_month = totals.groupby("month")["amount"].agg(["sum", "size"])
    by_month = by_month[by_month["size"] >= min_users]
    if len(by_month) < min_months:
        raise NotApplicable(f"{len(by_month)} complete months (needs {min_months})")
    per_day = by_month["sum"] / by_month["size"] / month_days(by_month.index.to_numpy())
    value = float(per_day.std(ddof=0) / per_day.mean())
    return Measurement(value, f"{len(by_month)} complete months, {len(data.spans):,} users")


def spend_to_income(data: FactData, *, min_months: int = 3) -> Measurement:
    """Median over users of consumption / income over their complete months.

    Consumption is everyday spending less person-to-person transfers (what household
    statistics call 소비지출); income is what was earned (:attr:`FactData.earnings`).

    Raises:
        NotApplicable: The data has no incoming rows.
    """
    if data.income.empty:
        raise NotApplicable("no income rows (direction in)")
    spend = user_month_totals(data, data.consumption).groupby("user_id")["amount"]
    income = user_month_totals(data, data.earnings).groupby("user_id")["amount"].sum()
    months = spend.size()
    ratio = (spend.sum() / income)[(months >= min_months) & (income > 0)]
    return median_over_users(ratio, f"income and >= {min_months} complete months")


def outflow_to_income(
    data: FactData, *, quantile: float = OUTFLOW_QUANTILE, min_income_months: int = 3
) -> Measurement:
    """The ``quantile`` (95th percentile) over users of total outflow / total income.

    Outflow is every outgoing row (savings, investment and transfers included), income
    every incoming row, both over the user's whole span. Users with income in fewer than
    ``min_income_months`` distinct months are left out. Over a long span the ratio is
    bounded by income plus what savings can cover.

    Raises:
        NotApplicable: No user has income in enough months.
    """
    income = data.income
    if income.empty:
        raise NotApplicable("no income rows (direction in)")
    paid = income.groupby("user_id")["amount"].sum().astype(float)
    months = income.assign(m=month_of_day(income["day"].to_numpy())).groupby("user_id")["m"]
    out = data.outflow.groupby("user_id")["amount"].sum().astype(float)
    ratio = (out.reindex(paid.index, fill_value=0.0) / paid)[months.nunique() >= min_income_months]
    if ratio.empty:
        raise NotApplicable(f"no user with income in >= {min_income_months} months")
    value = float(np.quantile(ratio.to_numpy(), quantile))
    noun = "user" if len(ratio) == 1 else "users"
    basis = f"{quantile:.0%} quantile over {len(ratio):,} {noun} with income in >= 3 months"
    return Measurement(value, basis, f"median {ratio.median():.2f}, max {ratio.max():.2f}")


def _paydays(income: pd.DataFrame) -> pd.DataFrame:
    """Per user and calendar month, the day of the largest incoming row, sorted."""
    months = month_of_day(income["day"].to_numpy())
    largest = income.assign(month=months).groupby(["user_id", "month"])["amount"].idxmax()
    return income.loc[largest.to_numpy(), ["user_id", "day"]].sort_values(["user_id", "day"])


def _last_payday(
    users: np.ndarray, days: np.ndarray, pay_users: np.ndarray, pay_days: np.ndarray
) -> np.ndarray:
    """Index (into sorted ``users``/``days``) of each payment's last payday, -1 if none."""
    base = min(int(days.min()), int(pay_days.min()))
    stride = max(int(days.max()), int(pay_days.max())) - base + 2
    keys = users.astype(np.int64) * stride + (days - base)
    pay_keys = pay_users.astype(np.int64) * stride + (pay_days - base)
    at = np.searchsorted(keys, pay_keys, side="right") - 1
    same_user = users[np.maximum(at, 0)] == pay_users
    return np.where((at >= 0) & same_user, at, -1)


def payday_share(
    data: FactData,
    *,
    window_days: int = PAYDAY_WINDOW_DAYS,
    min_cycles: int = MIN_CYCLES,
    min_payments: int = MIN_CYCLE_PAYMENTS,
) -> Measurement:
    """Median over users of the share of everyday payments in the 7 days from payday.

    A user's payday in a calendar month is the day of that month's largest incoming row.
    A pay cycle runs from one payday to the day before the next; only cycles of 20-40 days
    count. The share is payments on days 0-6 of the cycles over all payments in them
    (users with >= ``min_cycles`` cycles and >= ``min_payments`` payments in them). With no
    payday effect it is about 7 / 30.4 = 0.23.

    Raises:
        NotApplicable: The data has no incoming rows.
    """
    if data.income.empty:
        raise NotApplicable("no income rows (direction in)")
    pay = data.everyday
    if pay.empty:
        raise NotApplicable("no everyday payments")
    paydays = _paydays(data.earnings)
    users, days = paydays["user_id"].to_numpy(), paydays["day"].to_numpy()
    low, high = CYCLE_DAYS
    length = np.append(days[1:] - days[:-1], 0)
    cycle_ok = np.append(users[1:] == users[:-1], False) & (length >= low) & (length <= high)
    pay_users, pay_days = pay["user_id"].to_numpy(), pay["day"].to_numpy()
    at = _last_payday(users, days, pay_users, pay_days)
    valid = at >= 0
    valid[valid] = cycle_ok[at[valid]]
    early = (pay_days[valid] - days[at[valid]]) < window_days
    frame = pd.DataFrame({"user_id": pay_users[valid], "early": early})
    per_user = frame.groupby("user_id")["early"].agg(["size", "sum"])
    cycles = pd.Series(cycle_ok).groupby(users).sum()
    per_user = per_user[
        (per_user["size"] >= min_payments)
        & (cycles.reindex(per_user.index, fill_value=0) >= min_cycles)
    ]
    share = per_user["sum"] / per_user["size"]
    flat = window_days / float(np.mean(length[cycle_ok])) if cycle_ok.any() else np.nan
    result = median_over_users(share, f">= {min_cycles} pay cycles of {low}-{high} days")
    return Measurement(result.value, result.basis, f"no payday effect would give {flat:.3f}")


def consumption_mix_distance(
    data: FactData, target: Mapping[str, float], groups: Mapping[str, str]
) -> Measurement:
    """Total variation distance between the consumption mix and a reference mix.

    The population's consumption amount is summed per group (``groups`` maps each Moni
    category to a group, e.g. ``coffee`` -> ``food_coffee``) and turned into shares; the
    value is ``0.5 * sum |share - target|`` over the groups (0: same mix, 1: disjoint).

    Raises:
        NotApplicable: No consumption, or a consumption category without a group.
    """
    rows = data.consumption
    if rows.empty:
        raise NotApplicable("no consumption payments")
    amounts = rows.groupby("category", observed=True)["amount"].sum().astype(float)
    amounts = amounts[amounts > 0]
    unknown = sorted(set(amounts.index) - set(groups))
    if unknown:
        raise NotApplicable(f"categories without a group in the reference mix: {unknown}")
    shares = amounts.groupby(amounts.index.map(groups)).sum()
    shares = shares / shares.sum()
    wanted = pd.Series(target, dtype=float)
    wanted = wanted / wanted.sum()
    gap = shares.reindex(wanted.index, fill_value=0.0) - wanted
    worst = gap.abs().sort_values(ascending=False).index[:2]
    detail = ", ".join(f"{g} {shares.get(g, 0.0):.2f} vs {wanted[g]:.2f}" for g in worst)
    return Measurement(
        float(0.5 * gap.abs().sum()),
        f"amount shares over {len(wanted)} groups, {len(data.spans):,} users",
        f"largest gaps: {detail}",
    )
