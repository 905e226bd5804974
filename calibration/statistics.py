"""Compute the aggregate-targets statistics on transactions (and users) frames.

Statistics are taken on outgoing spending: direction ``out``, savings and investment
excluded unless the filter names one of them (``category=savings``). Hour-based statistics
skip rows whose time of day is unknown (``has_time`` false). Shares are over the keys asked
for: rows that fall under none of them (an hour outside every listed band, a user without a
known age) are left out of numerator and denominator alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from calibration.frames import (
    NOT_SPENDING,
    WEEKDAYS,
    spending,
    time_known,
    timestamps,
    user_months,
)
from calibration.targets.vocabulary import (
    SHARE_STATISTICS,
    RowFilter,
    age_band,
    check_key,
    hour_band,
    is_share,
    parse_filter,
    quantile_of,
)
from monilab.contracts.errors import MonilabError


def compute_statistic(
    transactions: pd.DataFrame,
    users: pd.DataFrame | None,
    statistic: str,
    filter: str | RowFilter | None = "",
    keys: Sequence[str] = ("",),
) -> pd.Series:
    """One statistic of the targets vocabulary, for each requested key.

    Args:
        transactions: Transactions frame (schema columns, optional ``has_time``).
        users: Users frame with ``user_id``, ``age``, ``gender``; needed only for age/gender
            statistics and filters.
        statistic: A statistic name, e.g. ``amount_share_by_hour``.
        filter: ``field=value`` conditions joined by ``;`` (category, method, gender, age band).
        keys: The keys to report: categories, ``HH-HH`` bands, weekdays, ``AA-AA`` bands,
            genders, ``mean``/``median``/``pNN``, or ``""`` for ticket statistics.

    Returns:
        Float values indexed by key; NaN where the statistic is undefined (no rows).

    Raises:
        MonilabError: Unknown statistic, a key or filter it does not take, or users missing.
    """
    try:
        row_filter = parse_filter(filter)
        for key in keys:
            check_key(statistic, key)
    except ValueError as exc:
        raise MonilabError(f"{statistic} [{filter or ''}]: {exc}") from None
    if not keys:
        raise MonilabError(f"{statistic} [{row_filter}]: no keys given")
    dimension = SHARE_STATISTICS.get(statistic, ("", ""))[1]
    rows = _filtered(transactions, users, row_filter, dimension in ("age", "gender"))
    if is_share(statistic):
        return _shares(rows, statistic, list(keys))
    return _scalars(rows, statistic, list(keys))


def _filtered(
    transactions: pd.DataFrame, users: pd.DataFrame | None, row_filter: RowFilter, by_user: bool
) -> pd.DataFrame:
    include = [row_filter.category] if row_filter.category in NOT_SPENDING else []
    rows = spending(transactions, include=include)
    if row_filter.needs_users or by_user:
        if users is None:
            raise MonilabError(f"filter or statistic by age/gender needs users ({row_filter})")
        attributes = users.set_index("user_id")[["age", "gender"]]
        rows = rows.join(attributes, on="user_id")
    mask = np.ones(len(rows), dtype=bool)
    if row_filter.category is not None:
        mask &= (rows["category"] == row_filter.category).to_numpy(dtype=bool)
    if row_filter.method is not None:
        mask &= (rows["method"] == row_filter.method).fillna(False).to_numpy(dtype=bool)
    if row_filter.gender is not None:
        mask &= (rows["gender"] == row_filter.gender).fillna(False).to_numpy(dtype=bool)
    if row_filter.age is not None:
        mask &= _in_age_band(rows["age"], row_filter.age)
    return rows.loc[mask]


def _in_age_band(ages: pd.Series, band: tuple[int, int]) -> np.ndarray:
    values = pd.to_numeric(ages, errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return (values >= band[0]) & (values <= band[1])


def _shares(rows: pd.DataFrame, statistic: str, keys: list[str]) -> pd.Series:
    measure, dimension = SHARE_STATISTICS[statistic]
    if dimension == "hour":
        rows = rows.loc[time_known(rows)]
    weights = rows["amount"].to_numpy(dtype=float) if measure == "amount" else np.ones(len(rows))
    totals = np.array([weights[_key_mask(rows, dimension, key)].sum() for key in keys])
    denominator = totals.sum()
    values = totals / denominator if denominator > 0 else np.full(len(keys), np.nan)
    return pd.Series(values, index=pd.Index(keys, name="key"), dtype=float, name=statistic)


def _key_mask(rows: pd.DataFrame, dimension: str, key: str) -> np.ndarray:
    """Rows that fall under one key of a share statistic."""
    if dimension == "hour":
        start, end = hour_band(key)
        hours = timestamps(rows).dt.hour.to_numpy()
        return (hours >= start) & (hours < end)
    if dimension == "weekday":
        return timestamps(rows).dt.day_of_week.to_numpy() == WEEKDAYS.index(key)
    if dimension == "age":
        return _in_age_band(rows["age"], age_band(key))
    column = "category" if dimension == "category" else "gender"
    return (rows[column] == key).fillna(False).to_numpy(dtype=bool)


def _scalars(rows: pd.DataFrame, statistic: str, keys: list[str]) -> pd.Series:
    if statistic in ("mean_ticket", "median_ticket"):
        amounts = rows["amount"].to_numpy(dtype=float)
        value = np.nan
        if len(amounts):
            value = amounts.mean() if statistic == "mean_ticket" else float(np.median(amounts))
        values = [value] * len(keys)
    else:
        column = "spend" if statistic == "monthly_spend_per_user" else "txns"
        per_month = user_months(rows)[column].to_numpy(dtype=float)
        values = [_summary(per_month, quantile_of(key)) for key in keys]
    return pd.Series(values, index=pd.Index(keys, name="key"), dtype=float, name=statistic)


def _summary(values: np.ndarray, quantile: float | None) -> float:
    if not len(values):
        return float("nan")
    if quantile is None:
        return float(values.mean())
    return float(np.quantile(values, quantile))
