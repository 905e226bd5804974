"""The frames a stylized fact reads: payments, income, per-user spans, app sessions.

Every fact reads plain pandas frames in the lab's schema. :class:`FactData` holds them,
prepared once (day numbers, everyday/consumption masks, per-user observation spans) so the
facts stay short and vectorised. Build it with :func:`fact_data` from a transactions frame,
or with :func:`calibration.facts.sources.load_dataset_facts` /
:func:`calibration.facts.sources.load_microdata_facts` from a dataset or a microdata file.

Definitions shared by the facts:

- *everyday payments*: ``direction == "out"`` and a category other than the money moves
  ``income``, ``savings``, ``investment`` (the persona's everyday set, transfers to people
  included);
- *consumption*: everyday payments less person-to-person ``transfer`` (what household
  expenditure statistics count as consumption);
- *income*: every ``direction == "in"`` row;
- a user's *span*: the days from the user's first to last row of any kind (income
  included), the window in which the user is observed;
- *complete month*: a calendar month that lies entirely inside the user's span.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from monilab.contracts.vocabulary import CATEGORIES

MONEY_MOVES: tuple[str, ...] = ("income", "savings", "investment")
"""Categories that move money rather than spend it."""
EVERYDAY_CATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORIES if c not in MONEY_MOVES)
"""Everyday outgoing spending (equals ``sim.agents.personas.SPEND_CATEGORIES``)."""
CONSUMPTION_CATEGORIES: tuple[str, ...] = tuple(c for c in EVERYDAY_CATEGORIES if c != "transfer")
"""Everyday spending that household statistics count as consumption."""
HAS_TIME = "has_time"
"""Optional boolean column: False when the source row has no time of day."""
SECONDS_PER_DAY = 86_400

TRANSACTION_COLUMNS: tuple[str, ...] = (
    "user_id",
    "ts",
    "amount",
    "category",
    "direction",
    "merchant",
)
"""The transactions columns the facts read (``merchant`` and ``has_time`` are optional)."""


@dataclass(frozen=True)
class Sessions:
    """App sessions: one row per session, and where they were taken from.

    Attributes:
        frame: Columns ``user_id`` (int), ``start`` (datetime64), ``pages`` (int).
        origin: How the sessions were obtained (e.g. ``events table`` or
            ``agent decisions of 100 sampled agents``).
    """

    frame: pd.DataFrame
    origin: str


@dataclass
class FactData:
    """Prepared frames for the facts (see the module docstring for the definitions).

    Attributes:
        label: What the data is (a dataset directory or a reference name).
        transactions: Transactions with the columns the facts read, plus ``day`` (int days
            since 1970-01-01) and ``sec`` (int seconds since 1970-01-01).
        sessions: App sessions, or None when the source has no app usage.
        sessions_missing: Why there are no sessions (when ``sessions`` is None).
        has_merchant: Whether the source has merchant names.
    """

    label: str
    transactions: pd.DataFrame
    sessions: Sessions | None = None
    sessions_missing: str = "the source has no app usage"
    has_merchant: bool = True

    @cached_property
    def spans(self) -> pd.DataFrame:
        """Per user: ``first`` and ``last`` day of any row, indexed by ``user_id``."""
        days = self.transactions.groupby("user_id", sort=True)["day"]
        return pd.DataFrame({"first": days.min(), "last": days.max()})

    @cached_property
    def everyday(self) -> pd.DataFrame:
        """Everyday payments, sorted by user and time."""
        rows = self.transactions
        mask = (rows["direction"] == "out") & rows["category"].isin(EVERYDAY_CATEGORIES)
        return _sorted(rows[mask.to_numpy()])

    @cached_property
    def consumption(self) -> pd.DataFrame:
        """Consumption payments (everyday less transfers), sorted by user and time."""
        rows = self.everyday
        return rows[(rows["category"] != "transfer").to_numpy()]

    @cached_property
    def income(self) -> pd.DataFrame:
        """Incoming rows (in source order)."""
        rows = self.transactions
        return rows[(rows["direction"] == "in").to_numpy()]

    @cached_property
    def earnings(self) -> pd.DataFrame:
        """Incoming rows that are income (category ``income``): not refunds, not money
        taken back out of one's own savings. All incoming rows when none is so labelled."""
        rows = self.income
        earned = rows[(rows["category"] == "income").to_numpy()]
        return earned if len(earned) else rows

    @cached_property
    def outflow(self) -> pd.DataFrame:
        """Every outgoing row, money moves included (in source order)."""
        rows = self.transactions
        return rows[(rows["direction"] == "out").to_numpy()]

    @cached_property
    def complete_months(self) -> pd.DataFrame:
        """One row per (user, complete month): ``user_id``, ``month`` (months since 1970-01)."""
        spans = self.spans
        first = _month_of_day(spans["first"].to_numpy())
        last = _month_of_day(spans["last"].to_numpy())
        starts_clean = _day_of_month_start(first) == spans["first"].to_numpy()
        ends_clean = _day_of_month_start(last + 1) - 1 == spans["last"].to_numpy()
        lo = np.where(starts_clean, first, first + 1)
        hi = np.where(ends_clean, last, last - 1)
        counts = np.maximum(hi - lo + 1, 0)
        users = np.repeat(spans.index.to_numpy(), counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return pd.DataFrame({"user_id": users, "month": np.repeat(lo, counts) + offsets})


def fact_data(
    transactions: pd.DataFrame,
    *,
    label: str = "frames",
    sessions: Sessions | None = None,
    sessions_missing: str = "the source has no app usage",
) -> FactData:
    """Prepare a transactions frame (schema columns) for the facts.

    Args:
        transactions: At least ``user_id``, ``ts``, ``amount``, ``category``,
            ``direction``; ``merchant`` and ``has_time`` are used when present.
        label: Name of the data for reports.
        sessions: App sessions, if known.
        sessions_missing: Why there are no sessions, when ``sessions`` is None.
    """
    columns = [c for c in (*TRANSACTION_COLUMNS, HAS_TIME) if c in transactions.columns]
    frame = transactions[columns].reset_index(drop=True)
    ts = frame["ts"].to_numpy().astype("datetime64[s]").astype(np.int64)
    frame["sec"] = ts
    frame["day"] = ts // SECONDS_PER_DAY
    frame["category"] = frame["category"].astype("category")
    frame["direction"] = frame["direction"].astype("category")
    has_merchant = "merchant" in frame.columns and bool(frame["merchant"].notna().any())
    return FactData(
        label=label,
        transactions=frame,
        sessions=sessions,
        sessions_missing=sessions_missing,
        has_merchant=has_merchant,
    )


def _sorted(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.sort_values(["user_id", "sec"], kind="stable", ignore_index=True)


def month_of_day(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of day numbers (days since 1970-01-01)."""
    return _month_of_day(np.asarray(days))


def _month_of_day(days: np.ndarray) -> np.ndarray:
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return months.astype(np.int64)


def _day_of_month_start(months: np.ndarray) -> np.ndarray:
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def month_days(months: np.ndarray) -> np.ndarray:
    """Number of days of each month (months since 1970-01)."""
    months = np.asarray(months)
    return _day_of_month_start(months + 1) - _day_of_month_start(months)
