"""Where people spend: a personal subset of categories and a growing set of merchants."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibration.facts.frames import FactData, month_of_day
from calibration.facts.measure import Measurement, NotApplicable, median_over_users

MIN_PAYMENTS = 30
WINDOW_DAYS = 91
MIN_CATEGORIES = 4
MIN_MONTH_PAYMENTS = 5
BURN_IN_DAYS = 60


def categories_per_user(
    data: FactData, *, window_days: int = WINDOW_DAYS, min_payments: int = MIN_PAYMENTS
) -> Measurement:
    """Median over users of the distinct everyday categories used per 91-day window.

    A user's span is cut into consecutive 91-day windows from the first day; only complete
    windows count (a window without payments counts 0); the user's value is the mean over
    them. A fixed window makes datasets of different lengths comparable.
    """
    pay = data.everyday
    spans = data.spans
    first = spans["first"].reindex(pay["user_id"]).to_numpy()
    window = (pay["day"].to_numpy() - first) // window_days
    windows = (spans["last"] - spans["first"] + 1) // window_days
    complete = window < windows.reindex(pay["user_id"]).to_numpy()
    cells = pd.DataFrame(
        {
            "user_id": pay["user_id"].to_numpy()[complete],
            "window": window[complete],
            "category": pay["category"].cat.codes.to_numpy()[complete],
        }
    ).drop_duplicates()
    distinct = cells.groupby("user_id").size()
    payments = pay.groupby("user_id").size()
    users = payments.index[payments >= min_payments]
    users = users[windows.reindex(users).to_numpy() >= 1]
    mean = distinct.reindex(users, fill_value=0) / windows.reindex(users)
    return median_over_users(
        mean.astype(float), f">= {min_payments} payments and a complete {window_days}-day window"
    )


def category_rank_slope(
    data: FactData, *, min_categories: int = MIN_CATEGORIES, min_payments: int = MIN_PAYMENTS
) -> Measurement:
    """Median over users of the slope of log(payments) on log(rank) of their categories.

    A user's everyday categories are ranked by payment count (rank 1 = most used, unused
    categories left out); the slope is the least-squares fit over the whole span. Zipf's
    law gives -1; steeper (more negative) means a few categories dominate.
    """
    pay = data.everyday
    counts = pay.groupby(["user_id", "category"], observed=True).size().rename("n").reset_index()
    counts = counts[counts["n"] > 0].sort_values(["user_id", "n"], ascending=[True, False])
    counts["rank"] = counts.groupby("user_id").cumcount() + 1
    x = np.log(counts["rank"].to_numpy(dtype=float))
    y = np.log(counts["n"].to_numpy(dtype=float))
    sums = pd.DataFrame({"x": x, "y": y, "xy": x * y, "xx": x * x, "k": 1.0, "n": counts["n"]})
    sums = sums.groupby(counts["user_id"].to_numpy()).sum()
    denominator = sums["k"] * sums["xx"] - sums["x"] ** 2
    slope = (sums["k"] * sums["xy"] - sums["x"] * sums["y"]) / denominator
    keep = (sums["k"] >= min_categories) & (sums["n"] >= min_payments)
    return median_over_users(slope[keep], f">= {min_categories} categories")


def _with_merchant(data: FactData) -> pd.DataFrame:
    if not data.has_merchant:
        raise NotApplicable("the source has no merchant names")
    pay = data.everyday
    return pay[pay["merchant"].notna().to_numpy()]


def merchants_per_user_month(
    data: FactData, *, min_payments: int = MIN_MONTH_PAYMENTS
) -> Measurement:
    """Median over user-months of distinct merchants paid.

    User-months are the user's complete calendar months with at least ``min_payments``
    everyday payments to a named merchant.

    Raises:
        NotApplicable: The source has no merchant names.
    """
    pay = _with_merchant(data)
    month = month_of_day(pay["day"].to_numpy())
    cells = pd.DataFrame(
        {"user_id": pay["user_id"].to_numpy(), "month": month, "merchant": pay["merchant"]}
    )
    complete = pd.MultiIndex.from_frame(data.complete_months)
    cells = cells[pd.MultiIndex.from_arrays([cells["user_id"], cells["month"]]).isin(complete)]
    grouped = cells.groupby(["user_id", "month"])
    stats = pd.DataFrame({"n": grouped.size(), "distinct": grouped["merchant"].nunique()})
    stats = stats[stats["n"] >= min_payments]
    if stats.empty:
        raise NotApplicable(f"no complete user-month with >= {min_payments} payments")
    value = float(stats["distinct"].median())
    return Measurement(value, f"median over {len(stats):,} user-months")


def new_merchant_rate(
    data: FactData, *, burn_in_days: int = BURN_IN_DAYS, min_payments: int = MIN_PAYMENTS
) -> Measurement:
    """Median over users of the share of payments at a merchant never paid before.

    Every payment after the user's first ``burn_in_days`` days of span counts; it is new
    when the user has no earlier payment to that merchant in the data. Users with at least
    ``min_payments`` such payments.

    Raises:
        NotApplicable: The source has no merchant names.
    """
    pay = _with_merchant(data)
    new = ~pay.duplicated(["user_id", "merchant"]).to_numpy()
    first = data.spans["first"].reindex(pay["user_id"]).to_numpy()
    late = (pay["day"].to_numpy() - first) >= burn_in_days
    frame = pd.DataFrame({"user_id": pay["user_id"].to_numpy()[late], "new": new[late]})
    per_user = frame.groupby("user_id")["new"].agg(["size", "mean"])
    rate = per_user.loc[per_user["size"] >= min_payments, "mean"]
    return median_over_users(rate, f">= {min_payments} payments after day {burn_in_days}")
