"""Small helpers on transactions frames shared by the statistics and the metric battery.

Frames follow ``monilab.contracts`` (``transactions``: txn_id, user_id, ts, method, amount,
merchant, category, direction, ...). One extra boolean column is understood everywhere in
``calibration``: :data:`HAS_TIME`. When present and false, the row's time of day is unknown
(its ``ts`` holds the date at midnight) and every hour-based statistic skips the row; when
the column is absent every row's time is known (generated data).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

HAS_TIME = "has_time"
"""Optional boolean column: False when the row's time of day is unknown (date only)."""

NOT_SPENDING: tuple[str, ...] = ("savings", "investment")
"""Outgoing categories that are moves of money, not spending (unless a filter names them)."""

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def time_known(transactions: pd.DataFrame) -> np.ndarray:
    """Boolean mask of rows whose time of day is known (all true without :data:`HAS_TIME`)."""
    if HAS_TIME not in transactions.columns:
        return np.ones(len(transactions), dtype=bool)
    return transactions[HAS_TIME].fillna(False).to_numpy(dtype=bool)


def spending(transactions: pd.DataFrame, include: Iterable[str] = ()) -> pd.DataFrame:
    """Outgoing spending rows: direction ``out``, savings/investment excluded.

    Args:
        transactions: A transactions frame.
        include: Categories of :data:`NOT_SPENDING` to keep anyway (a filter that names them).
    """
    dropped = set(NOT_SPENDING) - set(include)
    mask = (transactions["direction"] == "out") & ~transactions["category"].isin(dropped)
    return transactions.loc[mask.to_numpy(dtype=bool)]


def timestamps(transactions: pd.DataFrame) -> pd.Series:
    """The ``ts`` column as datetimes."""
    return pd.to_datetime(transactions["ts"])


def hour_of_day(transactions: pd.DataFrame) -> np.ndarray:
    """Fractional local hour (hour + minute/60) of every row; meaningful only where known."""
    ts = timestamps(transactions)
    return (ts.dt.hour + ts.dt.minute / 60.0).to_numpy(dtype=float)


def weekday(transactions: pd.DataFrame) -> np.ndarray:
    """Weekday index of every row, 0 = Monday."""
    return timestamps(transactions).dt.day_of_week.to_numpy(dtype=int)


def user_months(transactions: pd.DataFrame) -> pd.DataFrame:
    """Per user-month totals of the given rows (only user-months that have rows).

    Returns:
        Columns ``user_id``, ``month`` (period), ``spend`` (sum of amount), ``txns`` (count)
        and ``ticket`` (mean amount).
    """
    ts = timestamps(transactions)
    # Group on an integer month number (fast) and make periods of the small result only.
    month_number = (ts.dt.year * 12 + ts.dt.month - 1).to_numpy(dtype=np.int64)
    grouped = pd.DataFrame(
        {
            "user_id": transactions["user_id"].to_numpy(),
            "month": month_number,
            "amount": transactions["amount"].to_numpy(),
        }
    ).groupby(["user_id", "month"], sort=True)["amount"]
    table = grouped.agg(spend="sum", txns="size").reset_index()
    numbers = table["month"].to_numpy()
    # pandas-stubs lacks PeriodIndex.from_fields (pandas >= 2.2)
    table["month"] = pd.PeriodIndex.from_fields(  # type: ignore[attr-defined]
        year=numbers // 12, month=numbers % 12 + 1, freq="M"
    )
    table["spend"] = table["spend"].astype(float)
    table["ticket"] = table["spend"] / table["txns"]
    return table
