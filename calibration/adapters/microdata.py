"""Map a microdata file (CSV or Parquet) into the transactions (and users) schema.

Time of day: the schema's ``ts`` is non-null, so a row whose source date carries no time
keeps ``ts`` at midnight of its date and gets ``has_time = False`` (column
:data:`calibration.frames.HAS_TIME`). Every hour-based statistic and metric in
``calibration`` skips such rows; no hour is ever invented. Weekday, day of month and month
use the date and stay valid.

Amounts: ``round(source amount * currency_scale)`` as integer KRW. For a source in another
currency the factor is an assumption declared in the mapping (see
:attr:`ReferenceData.amount_scale_assumed`); the fidelity report then compares amount shapes
scale-free and keeps amount levels out of its objective.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from calibration.adapters.mapping import (
    ANY_KIND,
    USER_FIELDS,
    MicrodataMapping,
    fold,
    load_mapping,
)
from calibration.frames import HAS_TIME
from calibration.paths import bundled_mapping, reference_dir
from monilab.contracts.errors import MonilabError
from monilab.contracts.tables import conform

_TIME_DIRECTIVES = ("%H", "%I", "%M", "%X", "%T", "%R")


@dataclass
class ReferenceData:
    """Reference microdata mapped into the schema.

    Attributes:
        name: Source name from the mapping.
        transactions: The conformed transactions table as pandas, plus the boolean
            :data:`~calibration.frames.HAS_TIME` column (False: time of day unknown).
        users: The conformed users table, or None when the source has no users file.
        declared_missing: Schema fields the source does not have (left null).
        currency: The source currency.
        currency_scale: KRW per source unit applied to amounts.
        source_counts: Rows read per value of the kind column (``*`` without one).
        excluded: Rows dropped on purpose by the mapping, per declared reason.
    """

    name: str
    transactions: pd.DataFrame
    users: pd.DataFrame | None
    declared_missing: frozenset[str]
    currency: str
    currency_scale: float
    source_counts: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def amount_scale_assumed(self) -> bool:
        """True when amounts were converted from another currency by an assumed factor."""
        return self.currency.upper() != "KRW"

    def schema_table(self) -> pa.Table:
        """The transactions exactly in the schema (without ``has_time``)."""
        return conform("transactions", self.transactions.drop(columns=[HAS_TIME]))


class _Source:
    """A read source table and how to name its rows in errors."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.is_csv = path.suffix.lower() != ".parquet"
        try:
            if self.is_csv:
                self.frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
            else:
                self.frame = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise MonilabError(f"cannot read {path}: {exc}") from None

    def column(self, name: str, role: str) -> pd.Series:
        if name not in self.frame.columns:
            has = ", ".join(map(str, self.frame.columns))
            raise MonilabError(f"{self.path.name}: no column {name!r} (for {role}); has: {has}")
        return self.frame[name]

    def error(self, row: int, column: str, message: str) -> MonilabError:
        line = f" (line {row + 2})" if self.is_csv else ""
        return MonilabError(f"{self.path.name} row {row}{line} column {column!r}: {message}")


def load_reference(name: str = "household_ledger", path: str | Path | None = None) -> ReferenceData:
    """Load a source with its bundled mapping (``calibration/mappings/<name>.toml``)."""
    return load_microdata(bundled_mapping(name), path)


def load_microdata(
    mapping: MicrodataMapping | str | Path,
    path: str | Path | None = None,
    *,
    users_path: str | Path | None = None,
) -> ReferenceData:
    """Read a microdata file and map it into the schema.

    Args:
        mapping: A mapping or the path of its TOML file.
        path: The transactions file; defaults to the mapping's ``file`` under
            :func:`calibration.paths.reference_dir`.
        users_path: The users file, required when the mapping has a ``[users]`` table.

    Raises:
        MonilabError: Unknown kind, category or method, unparseable date or amount, wrong
            currency, non-positive amount: the message names the row and the column.
    """
    if not isinstance(mapping, MicrodataMapping):
        mapping = load_mapping(mapping)
    source = _Source(_resolve(mapping, path))
    kinds = _kinds(mapping, source)
    categories, reasons = _categories(mapping, source, kinds)
    ts, has_time = _dates(mapping.date_formats, source, mapping.columns["ts"])
    frame = pd.DataFrame(
        {
            "txn_id": np.arange(len(source.frame), dtype=np.int64),
            "user_id": _user_ids(mapping, source),
            "ts": ts,
            "method": _methods(mapping, source),
            "amount": _amounts(mapping, source),
            "merchant": _text(mapping, source, "merchant"),
            "category": categories,
            "direction": [mapping.kinds[k].direction for k in kinds],
            "is_anomaly": pd.Series([None] * len(source.frame), dtype="boolean"),
            "anomaly_kind": pd.Series([None] * len(source.frame), dtype="str"),
            "memo": _text(mapping, source, "memo"),
        }
    )
    if "memo" not in mapping.columns:
        frame = frame.drop(columns=["memo"])
    _check_currency(mapping, source)
    kept = reasons.isna().to_numpy()
    frame = frame.loc[kept].sort_values(["user_id", "ts", "txn_id"], kind="stable")
    transactions = conform("transactions", frame).to_pandas()
    transactions[HAS_TIME] = has_time[frame.index.to_numpy()]
    users = _users(mapping, users_path, transactions)
    kind_column = mapping.columns.get("kind")
    read = source.frame[kind_column] if kind_column else pd.Series([ANY_KIND] * len(kinds))
    return ReferenceData(
        name=mapping.name,
        transactions=transactions,
        users=users,
        declared_missing=mapping.declared_missing,
        currency=mapping.currency,
        currency_scale=mapping.currency_scale,
        source_counts={str(k): int(v) for k, v in read.value_counts(sort=False).items()},
        excluded={str(k): int(v) for k, v in reasons.value_counts().items()},
    )


def _resolve(mapping: MicrodataMapping, path: str | Path | None) -> Path:
    if path is None:
        if not mapping.default_file:
            raise MonilabError(f"mapping {mapping.name!r} names no file: give a path")
        path = reference_dir() / mapping.default_file
    path = Path(path)
    if not path.is_file():
        raise MonilabError(f"reference file {path} not found")
    return path


def _kinds(mapping: MicrodataMapping, source: _Source) -> list[str]:
    column = mapping.columns.get("kind")
    if column is None:
        return [ANY_KIND] * len(source.frame)
    values = source.column(column, "kind")
    kinds = []
    for row, value in enumerate(values):
        key = "" if pd.isna(value) else fold(value)
        if key not in mapping.kinds:
            known = ", ".join(mapping.kinds)
            raise source.error(row, column, f"unknown kind {value!r} (mapped: {known})")
        kinds.append(key)
    return kinds


def _categories(
    mapping: MicrodataMapping, source: _Source, kinds: list[str]
) -> tuple[list[str | None], pd.Series]:
    """Moni category of every row, and the exclusion reason (NaN when kept)."""
    column = mapping.columns["category"]
    values = source.column(column, "category")
    sub_column = mapping.columns.get("subcategory")
    subs = source.column(sub_column, "subcategory") if sub_column else None
    categories: list[str | None] = []
    reasons: list[str | None] = []
    for row, (kind, value) in enumerate(zip(kinds, values, strict=True)):
        rule = mapping.kinds[kind]
        key = "" if pd.isna(value) else fold(value)
        sub = "" if subs is None or pd.isna(subs.iloc[row]) else fold(subs.iloc[row])
        reason = rule.exclude.get(key)
        category = rule.subcategories.get((key, sub)) or rule.categories.get(key)
        category = category or rule.default_category
        if reason is None and category is None:
            raise source.error(row, column, f"unknown category {value!r} for kind {kind!r}")
        categories.append(None if reason else category)
        reasons.append(reason)
    return categories, pd.Series(reasons, dtype="str")


def _dates(
    formats: tuple[str, ...], source: _Source, column: str, *, required: bool = True
) -> tuple[pd.Series, np.ndarray]:
    """Parsed timestamps (midnight when the time is unknown) and the has-time mask.

    Null source values are an error when ``required``, else they stay null.
    """
    values = source.column(column, "ts")
    if pd.api.types.is_datetime64_any_dtype(values):
        if required and values.isna().any():
            raise source.error(int(np.argmax(values.isna())), column, "missing date")
        return values.astype("datetime64[us]"), np.ones(len(values), dtype=bool)
    text = values.astype("str").str.strip()
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    has_time = np.zeros(len(values), dtype=bool)
    for fmt in formats:
        todo = parsed.isna()
        attempt = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        parsed[todo] = attempt
        has_time[todo.to_numpy() & attempt.reindex(values.index).notna().to_numpy()] = any(
            d in fmt for d in _TIME_DIRECTIVES
        )
    bad = parsed.isna().to_numpy() & (values.notna().to_numpy() | required)
    if bad.any():
        row = int(np.argmax(bad))
        raise source.error(
            row, column, f"{values.iloc[row]!r} matches none of the formats {list(formats)}"
        )
    return parsed, has_time


def _numbers(source: _Source, column: str, role: str) -> np.ndarray:
    values = source.column(column, role)
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numbers) & values.notna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise source.error(row, column, f"{values.iloc[row]!r} is not a number")
    return numbers


def _amounts(mapping: MicrodataMapping, source: _Source) -> np.ndarray:
    column = mapping.columns["amount"]
    amounts = np.rint(_numbers(source, column, "amount") * mapping.currency_scale)
    bad = ~(amounts > 0)
    if bad.any():
        row = int(np.argmax(bad))
        raise source.error(
            row, column, f"amount must be > 0 after scaling by {mapping.currency_scale:g}"
        )
    return amounts.astype(np.int64)


def _user_ids(mapping: MicrodataMapping, source: _Source) -> np.ndarray:
    if mapping.user_id is not None:
        return np.full(len(source.frame), mapping.user_id, dtype=np.int64)
    return _integer_ids(source, mapping.columns["user_id"])


def _integer_ids(source: _Source, column: str) -> np.ndarray:
    ids = _numbers(source, column, "user_id")
    bad = ~np.isfinite(ids) | (ids != np.round(ids))
    if bad.any():
        row = int(np.argmax(bad))
        raise source.error(row, column, "user id must be an integer")
    return ids.astype(np.int64)


def _translate(
    values: pd.Series, table: dict[str, str], source: _Source, column: str, what: str
) -> list[str | None]:
    """Translate source values through a folded map; null stays null, unknown is an error."""
    out: list[str | None] = []
    for row, value in enumerate(values):
        if pd.isna(value):
            out.append(None)
            continue
        mapped = table.get(fold(value))
        if mapped is None:
            raise source.error(row, column, f"unknown {what} {value!r}")
        out.append(mapped)
    return out


def _methods(mapping: MicrodataMapping, source: _Source) -> list[str | None]:
    column = mapping.columns.get("method")
    if column is None:
        return [None] * len(source.frame)
    return _translate(source.column(column, "method"), mapping.methods, source, column, "method")


def _text(mapping: MicrodataMapping, source: _Source, role: str) -> pd.Series:
    column = mapping.columns.get(role)
    if column is None:
        return pd.Series([None] * len(source.frame), dtype="str")
    return source.column(column, role).astype("str")


def _check_currency(mapping: MicrodataMapping, source: _Source) -> None:
    column = mapping.columns.get("currency")
    if column is None:
        return
    values = source.column(column, "currency")
    bad = (values.str.strip().str.upper() != mapping.currency.upper()).to_numpy(dtype=bool)
    if bad.any():
        row = int(np.argmax(bad))
        raise source.error(
            row, column, f"currency {values.iloc[row]!r}, mapping declares {mapping.currency!r}"
        )


def _users(
    mapping: MicrodataMapping, users_path: str | Path | None, transactions: pd.DataFrame
) -> pd.DataFrame | None:
    if mapping.users is None:
        if users_path is not None:
            raise MonilabError(f"mapping {mapping.name!r} has no [users] table for {users_path}")
        return None
    if users_path is None:
        raise MonilabError(f"mapping {mapping.name!r} maps users: give the users file")
    source = _Source(Path(users_path))
    columns = mapping.users.columns
    n = len(source.frame)
    frame = pd.DataFrame(
        {
            "user_id": _integer_ids(source, columns["user_id"]),
            "persona": [f"reference:{mapping.name}"] * n,
        }
    )
    for name in USER_FIELDS:
        column = columns.get(name)
        if column is None:
            frame[name] = pd.Series([None] * n, dtype="object")
        elif name == "gender":
            values = source.column(column, name)
            frame[name] = _translate(values, mapping.users.genders, source, column, "gender")
        elif name in ("age", "monthly_income"):
            scale = mapping.currency_scale if name == "monthly_income" else 1.0
            frame[name] = pd.array(np.rint(_numbers(source, column, name) * scale), "Int64")
        elif name == "signup_at":
            frame[name] = _dates(mapping.date_formats, source, column, required=False)[0]
        else:
            frame[name] = source.column(column, name).astype("str")
    unknown = ~transactions["user_id"].isin(frame["user_id"])
    if unknown.any():
        raise MonilabError(
            f"user {int(transactions['user_id'][unknown].iloc[0])} has transactions but is not in "
            f"{source.path.name}"
        )
    return conform("users", frame).to_pandas()


def real_transactions(
    path: str | Path | None, mapping: str | Path
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Transactions of a real source mapped into the schema, and what the mapping says.

    Args:
        path: The source file (None: the mapping's own file under the reference directory).
        mapping: The TOML mapping file.
    """
    ref = load_microdata(mapping, path)
    tx = ref.transactions.drop(columns=["has_time"], errors="ignore")
    has_time = ref.transactions.get("has_time")
    info = {
        "source": ref.name,
        "rows": len(tx),
        "users": int(tx["user_id"].nunique()),
        "first_day": str(tx["ts"].min().date()),
        "last_day": str(tx["ts"].max().date()),
        "currency": ref.currency,
        "currency_scale_krw": ref.currency_scale,
        "amount_scale_assumed": ref.amount_scale_assumed,
        "missing": sorted(ref.declared_missing),
        "rows_without_time_of_day": int((~has_time).sum()) if has_time is not None else 0,
        "excluded_rows": ref.excluded,
    }
    return tx, info
