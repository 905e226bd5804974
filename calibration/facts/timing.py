"""When people pay: daily-count dispersion, inter-purchase gaps, inactive spells.

All three read everyday payments (see :mod:`calibration.facts.frames`) and summarise per
user, then take the median over users with enough data: at least ``min_payments`` everyday
payments and a span of at least ``min_span_days`` days.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from calibration.facts.frames import HAS_TIME, FactData
from calibration.facts.measure import Measurement, median_over_users

MIN_PAYMENTS = 30
MIN_SPAN_DAYS = 28
MIN_GAPS = 20
WINDOW_DAYS = 91


def _eligible(data: FactData, counts: pd.Series, min_payments: int, min_span: int) -> pd.Index:
    """Users with at least ``min_payments`` payments and a span of ``min_span`` days."""
    spans = data.spans.reindex(counts.index)
    length = spans["last"] - spans["first"] + 1
    return counts.index[(counts >= min_payments) & (length >= min_span)]


def daily_count_dispersion(
    data: FactData, *, min_payments: int = MIN_PAYMENTS, min_span_days: int = MIN_SPAN_DAYS
) -> Measurement:
    """Median over users of var/mean of everyday payments per day.

    A user's days are every day of the user's span, days without payments included
    (population variance). A Poisson process gives 1; someone who pays exactly once a day
    gives 0; bursty, clumped spending gives more than 1.
    """
    pay = data.everyday
    per_day = pay.groupby(["user_id", "day"], sort=True).size()
    users = per_day.index.get_level_values(0)
    counts = per_day.groupby(users).sum()
    squares = (per_day.astype(float) ** 2).groupby(users).sum()
    spans = data.spans.reindex(counts.index)
    days = (spans["last"] - spans["first"] + 1).astype(float)
    mean = counts / days
    ratio = (squares / days - mean**2) / mean
    keep = _eligible(data, counts, min_payments, min_span_days)
    return median_over_users(ratio.loc[keep], f">= {min_payments} payments over >= 4 weeks")


def gap_cv(data: FactData, *, min_gaps: int = MIN_GAPS) -> Measurement:
    """Median over users of the coefficient of variation of inter-purchase gaps.

    Gaps are the times in seconds between consecutive everyday payments of a user
    (population standard deviation / mean). Rows without a time of day (``has_time``
    False) are left out. A Poisson process gives 1, regular spending less, bursty spending
    more; the burstiness of Goh & Barabási (2008) is ``B = (CV - 1) / (CV + 1)``.
    """
    pay = data.everyday
    if HAS_TIME in pay.columns:
        pay = pay[pay[HAS_TIME].to_numpy(dtype=bool)]
    users = pay["user_id"].to_numpy()
    same = users[1:] == users[:-1]
    gaps = np.diff(pay["sec"].to_numpy()).astype(float)[same]
    owner = users[1:][same]
    grouped = pd.DataFrame({"gap": gaps, "square": gaps**2}).groupby(owner)
    sums = grouped.sum()
    count = grouped.size()
    mean = sums["gap"] / count
    std = np.sqrt(np.maximum(sums["square"] / count - mean**2, 0.0))
    cv = (std / mean)[(count >= min_gaps) & (mean > 0)]
    return median_over_users(cv, f">= {min_gaps} timed gaps")


def longest_inactive_spell(
    data: FactData, *, window_days: int = WINDOW_DAYS, min_payments: int = MIN_PAYMENTS
) -> Measurement:
    """Median over users of the longest run of days without an everyday payment per window.

    A user's span is cut into consecutive 91-day windows from the first day (complete
    windows only, as for the categories); in each window the longest run of days without
    an everyday payment is taken, counting the days before the window's first and after
    its last payment (91 for a window without payments); the user's value is the mean
    over windows. A fixed window keeps the value independent of how long the data runs.
    Someone who pays every day has 0.
    """
    pay = data.everyday
    spans = data.spans
    windows = (spans["last"] - spans["first"] + 1) // window_days
    offset = pay["day"].to_numpy() - spans["first"].reindex(pay["user_id"]).to_numpy()
    cells = pd.DataFrame(
        {
            "user_id": pay["user_id"].to_numpy(),
            "window": offset // window_days,
            "position": offset % window_days,
        }
    )
    cells = cells[cells["window"].to_numpy() < windows.reindex(cells["user_id"]).to_numpy()]
    cells = cells.drop_duplicates()
    users, window = cells["user_id"].to_numpy(), cells["window"].to_numpy()
    position = cells["position"].to_numpy()
    same = (users[1:] == users[:-1]) & (window[1:] == window[:-1])
    inner = np.zeros(len(position), dtype=np.int64)
    inner[1:] = np.where(same, position[1:] - position[:-1] - 1, 0)
    keys = [users, window]
    by_window = pd.DataFrame({"inner": inner, "position": position}).groupby(keys)
    # np.maximum of Series is a Series (numpy's stubs say ndarray)
    edges = cast(
        pd.Series,
        np.maximum(by_window["position"].min(), window_days - 1 - by_window["position"].max()),
    )
    longest = cast(pd.Series, np.maximum(by_window["inner"].max(), edges))
    counts = pay.groupby("user_id").size()
    eligible = counts.index[(counts >= min_payments).to_numpy()]
    eligible = eligible[windows.reindex(eligible).to_numpy() >= 1]
    total = longest.groupby(level=0).sum().reindex(eligible, fill_value=0)
    quiet = windows.reindex(eligible) - longest.groupby(level=0).size().reindex(
        eligible, fill_value=0
    )
    mean = (total + quiet * window_days) / windows.reindex(eligible)
    return median_over_users(
        mean.astype(float), f">= {min_payments} payments and a complete {window_days}-day window"
    )
