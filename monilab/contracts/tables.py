"""Table contracts: the Arrow schema of each table and the value rules Arrow cannot say.

Times are naive timestamps in Korean local time (the simulated clock for generated data).
Money is integer KRW. :func:`conform` turns a DataFrame or Arrow table into a validated
table or raises :class:`~monilab.contracts.errors.SchemaError` naming the table, column and row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from monilab.contracts.errors import SchemaError
from monilab.contracts.vocabulary import (
    ANOMALY_KINDS,
    CATEGORIES,
    DIRECTIONS,
    EVENT_SOURCES,
    GENDERS,
    METHODS,
    SPENDING_TYPES,
    STYLES,
)

_TS = pa.timestamp("us")


@dataclass(frozen=True)
class TableContract:
    """One table of the data contract: its Arrow schema and the value rules Arrow cannot say.

    Attributes:
        name: Table name, also the dataset sub-directory.
        schema: Required columns, their types and nullability.
        optional: Columns a table may carry in addition (e.g. ``client_txn_id`` in app exports).
        domains: Allowed values for categorical columns.
        positive: Columns whose non-null values must be > 0.
        ranges: Columns whose non-null values must lie in a closed interval.
    """

    name: str
    schema: pa.Schema
    optional: pa.Schema = field(default_factory=lambda: pa.schema([]))
    domains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    positive: tuple[str, ...] = ()
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def field_for(self, column: str) -> pa.Field | None:
        """The declared field for a column, required or optional, or None."""
        for fields in (self.schema, self.optional):
            index = fields.get_field_index(column)
            if index >= 0:
                return fields.field(index)
        return None


USERS = TableContract(
    name="users",
    schema=pa.schema(
        [
            pa.field("user_id", pa.int64(), nullable=False),
            pa.field("persona", pa.string(), nullable=False),
            pa.field("spending_type", pa.string()),
            pa.field("age", pa.int16()),
            pa.field("gender", pa.string()),
            pa.field("occupation", pa.string()),
            pa.field("region", pa.string()),
            pa.field("monthly_income", pa.int64()),
            pa.field("signup_at", _TS),
        ]
    ),
    optional=pa.schema(
        [
            pa.field("style", pa.string()),
            pa.field("name", pa.string()),
            pa.field("payday", pa.int8()),
            pa.field("agent_id", pa.string()),
        ]
    ),
    domains={"spending_type": SPENDING_TYPES, "gender": GENDERS, "style": STYLES},
    ranges={"age": (10, 110), "payday": (1, 31)},
)

TRANSACTIONS = TableContract(
    name="transactions",
    schema=pa.schema(
        [
            pa.field("txn_id", pa.int64(), nullable=False),
            pa.field("user_id", pa.int64(), nullable=False),
            pa.field("ts", _TS, nullable=False),
            pa.field("method", pa.string()),
            pa.field("amount", pa.int64(), nullable=False),
            pa.field("merchant", pa.string()),
            pa.field("category", pa.string(), nullable=False),
            pa.field("direction", pa.string(), nullable=False),
            pa.field("is_anomaly", pa.bool_()),
            pa.field("anomaly_kind", pa.string()),
        ]
    ),
    optional=pa.schema(
        [
            pa.field("client_txn_id", pa.string()),
            pa.field("memo", pa.string()),
        ]
    ),
    domains={
        "method": METHODS,
        "category": CATEGORIES,
        "direction": DIRECTIONS,
        "anomaly_kind": ANOMALY_KINDS,
    },
    positive=("amount",),
)

EVENTS = TableContract(
    name="events",
    schema=pa.schema(
        [
            pa.field("ts", _TS, nullable=False),
            pa.field("run_id", pa.string()),
            pa.field("user_id", pa.int64()),
            pa.field("agent_id", pa.string()),
            pa.field("source", pa.string(), nullable=False),
            pa.field("method", pa.string(), nullable=False),
            pa.field("route", pa.string(), nullable=False),
            pa.field("status", pa.int16(), nullable=False),
            pa.field("latency_ms", pa.float64(), nullable=False),
            pa.field("bytes", pa.int64()),
        ]
    ),
    optional=pa.schema(
        [
            pa.field("page", pa.string()),
            pa.field("ttfb_ms", pa.float64()),
            pa.field("dom_content_loaded_ms", pa.float64()),
            pa.field("load_ms", pa.float64()),
            pa.field("lcp_ms", pa.float64()),
        ]
    ),
    domains={"source": EVENT_SOURCES},
    ranges={"status": (100, 599)},
)

CONTRACTS: dict[str, TableContract] = {c.name: c for c in (USERS, TRANSACTIONS, EVENTS)}


def register_contract(contract: TableContract) -> None:
    """Add a table contract (e.g. the population's daily metrics) to the validated set."""
    CONTRACTS[contract.name] = contract


def contract_for(table: str) -> TableContract:
    """The contract of a table name, or a SchemaError naming the known tables."""
    try:
        return CONTRACTS[table]
    except KeyError:
        known = ", ".join(sorted(CONTRACTS))
        raise SchemaError(f"unknown table {table!r} (known: {known})") from None


# --------------------------------------------------------------------------- validation


def _first_row(mask: pa.ChunkedArray | pa.Array) -> int:
    """Index of the first true value of a boolean mask (nulls count as false)."""
    filled = pc.fill_null(mask, False)
    return int(pc.index(filled, True).as_py())


def _as_arrow(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    else:
        if isinstance(data, pd.DataFrame):
            return pa.Table.from_pandas(data, preserve_index=False)
    raise SchemaError(f"expected a pyarrow Table or pandas DataFrame, got {type(data).__name__}")


def conform(table: str, data: Any) -> pa.Table:
    """Validate data against a table contract and return it in the contract's exact schema.

    Columns are reordered (required first, then present optional ones) and cast to the
    declared types. Unknown columns, missing required columns, values that do not cast,
    nulls in non-nullable columns, values outside a domain and non-positive amounts are
    rejected with a :class:`SchemaError` that names the table, the column and the first
    offending row.

    Args:
        table: Contract name (``users``, ``transactions``, ``events``, ...).
        data: A ``pyarrow.Table``/``RecordBatch`` or a ``pandas.DataFrame``.

    Returns:
        The conformed ``pyarrow.Table``.
    """
    contract = contract_for(table)
    arrow = _as_arrow(data)
    present = set(arrow.column_names)
    missing = [f.name for f in contract.schema if f.name not in present]
    if missing:
        raise SchemaError(f"{table}: missing column {missing[0]!r}")
    unknown = [c for c in arrow.column_names if contract.field_for(c) is None]
    if unknown:
        raise SchemaError(f"{table}: unknown column {unknown[0]!r}")

    fields = list(contract.schema) + [f for f in contract.optional if f.name in present]
    columns = []
    for fld in fields:
        column = arrow.column(fld.name)
        columns.append(_cast_column(table, fld, column))
        _check_values(table, contract, fld, columns[-1])
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _cast_column(table: str, fld: pa.Field, column: pa.ChunkedArray) -> pa.ChunkedArray:
    if column.type == fld.type:
        return column
    try:
        return column.cast(fld.type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Find the first row that does not cast, to name it.
    for row, value in enumerate(column.to_pylist()):
        if value is None:
            continue
        try:
            pa.array([value]).cast(fld.type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            raise SchemaError(
                f"{table}: column {fld.name!r} row {row}: {value!r} is not {fld.type}"
            ) from None
    raise SchemaError(f"{table}: column {fld.name!r} has type {column.type}, expected {fld.type}")


def _check_values(
    table: str, contract: TableContract, fld: pa.Field, column: pa.ChunkedArray
) -> None:
    name = fld.name
    if not fld.nullable and column.null_count:
        row = _first_row(pc.is_null(column))
        raise SchemaError(f"{table}: column {name!r} row {row}: null in a required column")
    if name in contract.domains and len(column):
        allowed = pa.array(contract.domains[name], type=pa.string())
        bad = pc.invert(pc.is_in(column, value_set=allowed))
        bad = pc.and_(bad, pc.is_valid(column))
        if pc.any(bad).as_py():
            row = _first_row(bad)
            raise SchemaError(
                f"{table}: column {name!r} row {row}: {column[row].as_py()!r} is not one of "
                f"{', '.join(contract.domains[name])}"
            )
    if name in contract.positive and len(column):
        bad = pc.less_equal(column, 0)
        if pc.any(bad).as_py():
            row = _first_row(bad)
            raise SchemaError(
                f"{table}: column {name!r} row {row}: must be > 0 (got {column[row].as_py()})"
            )
    if name in contract.ranges and len(column):
        low, high = contract.ranges[name]
        bad = pc.or_(pc.less(column, low), pc.greater(column, high))
        if pc.any(bad).as_py():
            row = _first_row(bad)
            raise SchemaError(
                f"{table}: column {name!r} row {row}: {column[row].as_py()} is outside "
                f"[{low:g}, {high:g}]"
            )


def empty_table(table: str) -> pa.Table:
    """A zero-row table with the contract's required columns."""
    return contract_for(table).schema.empty_table()
