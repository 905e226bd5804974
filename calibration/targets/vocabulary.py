"""The aggregate-targets vocabulary: statistics, their keys and the row filters.

Kept free of I/O so the statistics code and the file parser share one definition.
Problems are raised as ``ValueError`` with a short reason; the parser adds the file line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from calibration.frames import WEEKDAYS
from monilab.contracts.vocabulary import CATEGORIES, GENDERS, METHODS

SHARE_STATISTICS: dict[str, tuple[str, str]] = {
    "amount_share_by_category": ("amount", "category"),
    "count_share_by_category": ("count", "category"),
    "amount_share_by_hour": ("amount", "hour"),
    "count_share_by_hour": ("count", "hour"),
    "amount_share_by_weekday": ("amount", "weekday"),
    "count_share_by_weekday": ("count", "weekday"),
    "amount_share_by_age": ("amount", "age"),
    "amount_share_by_gender": ("amount", "gender"),
}
"""Share statistics: name -> (what is shared: amount or count, the key dimension)."""

SCALAR_STATISTICS: tuple[str, ...] = (
    "mean_ticket",
    "median_ticket",
    "monthly_spend_per_user",
    "txn_per_user_month",
)
"""Scalar statistics: ticket size (empty key) and per user-month summaries (mean/median/pNN)."""

STATISTICS: tuple[str, ...] = (*SHARE_STATISTICS, *SCALAR_STATISTICS)
FILTER_FIELDS: tuple[str, ...] = ("category", "method", "gender", "age")

_BAND = re.compile(r"^(\d{1,3})-(\d{1,3})$")
_QUANTILE = re.compile(r"^p(\d{1,2})$")


def is_share(statistic: str) -> bool:
    """Whether a statistic is a share over keys (as opposed to a scalar)."""
    return statistic in SHARE_STATISTICS


def parse_band(text: str, *, what: str) -> tuple[int, int]:
    """Parse an ``AA-BB`` band into two integers; ``what`` names it in errors."""
    match = _BAND.match(text.strip())
    if not match:
        raise ValueError(f"{what} band {text!r} is not of the form NN-NN")
    return int(match.group(1)), int(match.group(2))


def hour_band(text: str) -> tuple[int, int]:
    """An ``HH-HH`` hour band: start inclusive, end exclusive, 0 <= start < end <= 24."""
    start, end = parse_band(text, what="hour")
    if not 0 <= start < end <= 24:
        raise ValueError(f"hour band {text!r} needs 0 <= start < end <= 24")
    return start, end


def age_band(text: str) -> tuple[int, int]:
    """An ``AA-AA`` age band, both ends inclusive, low <= high."""
    low, high = parse_band(text, what="age")
    if low > high:
        raise ValueError(f"age band {text!r} has its low end above its high end")
    return low, high


def quantile_of(key: str) -> float | None:
    """The quantile a per-user-month key asks for (``median`` -> 0.5), None for ``mean``."""
    if key == "mean":
        return None
    if key == "median":
        return 0.5
    match = _QUANTILE.match(key)
    if match and 0 < int(match.group(1)) < 100:
        return int(match.group(1)) / 100.0
    raise ValueError(f"key {key!r} is not mean, median or pNN")


def check_key(statistic: str, key: str) -> None:
    """Raise ``ValueError`` unless ``key`` is valid for ``statistic``."""
    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r} (known: {', '.join(STATISTICS)})")
    if statistic in ("mean_ticket", "median_ticket"):
        if key:
            raise ValueError(f"{statistic} takes an empty key, got {key!r}")
        return
    if not is_share(statistic):
        quantile_of(key)
        return
    dimension = SHARE_STATISTICS[statistic][1]
    allowed = {"category": CATEGORIES, "weekday": WEEKDAYS, "gender": GENDERS}.get(dimension)
    if allowed is not None:
        if key not in allowed:
            raise ValueError(f"{dimension} key {key!r} is not one of {', '.join(allowed)}")
    elif dimension == "hour":
        hour_band(key)
    else:
        age_band(key)


def check_bands_disjoint(statistic: str, keys: list[str]) -> None:
    """Hour or age bands listed for one statistic and filter must not overlap."""
    dimension = SHARE_STATISTICS.get(statistic, ("", ""))[1]
    if dimension not in ("hour", "age"):
        return
    # Half-open intervals: hour bands already are, age bands are inclusive so add one.
    spans = sorted(
        (hour_band(k) if dimension == "hour" else (age_band(k)[0], age_band(k)[1] + 1), k)
        for k in keys
    )
    for (span_a, key_a), (span_b, key_b) in pairwise(spans):
        if span_b[0] < span_a[1]:
            raise ValueError(f"{dimension} bands {key_a!r} and {key_b!r} overlap")


@dataclass(frozen=True)
class RowFilter:
    """Conditions on spending rows: ``field=value`` pairs joined by ``;`` in the file."""

    category: str | None = None
    method: str | None = None
    gender: str | None = None
    age: tuple[int, int] | None = None

    @property
    def needs_users(self) -> bool:
        """Whether the filter looks at user attributes (age, gender)."""
        return self.gender is not None or self.age is not None

    def __str__(self) -> str:
        parts = [
            f"{f}={getattr(self, f)}" for f in ("category", "method", "gender") if getattr(self, f)
        ]
        if self.age is not None:
            parts.append(f"age={self.age[0]}-{self.age[1]}")
        return ";".join(parts)


def parse_filter(text: str | RowFilter | None) -> RowFilter:
    """Parse a filter string (empty -> no condition); raise ``ValueError`` on a bad one."""
    if isinstance(text, RowFilter):
        return text
    values: dict[str, object] = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not value:
            raise ValueError(f"filter condition {part.strip()!r} is not field=value")
        if name not in FILTER_FIELDS:
            raise ValueError(f"unknown filter field {name!r} (known: {', '.join(FILTER_FIELDS)})")
        if name in values:
            raise ValueError(f"filter field {name!r} given twice")
        domain = {"category": CATEGORIES, "method": METHODS, "gender": GENDERS}.get(name)
        if domain is not None and value not in domain:
            raise ValueError(f"filter {name}={value!r} is not one of {', '.join(domain)}")
        values[name] = age_band(value) if name == "age" else value
    return RowFilter(**values)  # type: ignore[arg-type]
