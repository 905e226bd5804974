"""Data contracts shared by every part of the lab: table schemas, validation, datasets.

A *dataset* is a directory of Parquet files, one sub-directory per table, plus a
``manifest.json`` that says how it was made::

    DIR/manifest.json
    DIR/users/part-00000.parquet
    DIR/transactions/part-00000.parquet  part-00001.parquet ...
    DIR/events/part-00000.parquet

Times are naive timestamps in Korean local time (the simulated clock for generated data).
Money is integer KRW. ``monilab.schema`` is a leaf module: it imports nothing from the lab.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from monilab.errors import SchemaError

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"

CATEGORIES: tuple[str, ...] = (
    "food",
    "coffee",
    "shopping",
    "transport",
    "living",
    "health",
    "beauty",
    "entertainment",
    "education",
    "travel",
    "savings",
    "investment",
    "transfer",
    "income",
    "etc",
)
"""Spending categories after the seed app; ``income`` is for incoming salary and deposits."""

SPENDING_TYPES: tuple[str, ...] = ("saver", "stable", "goal_setter", "yolo", "investor")
"""The seed's five types: 절약형, 안정형, 목표요정형, YOLO형, 진격의 투자형."""

STYLES: tuple[str, ...] = ("loose_passive", "loose_aggressive", "tight_passive", "tight_aggressive")
"""Activity/risk styles (seed 004): loose/tight frequency × passive/aggressive risk."""

METHODS: tuple[str, ...] = ("card", "transfer", "auto_debit", "cash")
DIRECTIONS: tuple[str, ...] = ("in", "out")
GENDERS: tuple[str, ...] = ("m", "f")
EVENT_SOURCES: tuple[str, ...] = ("locust", "browser", "api")
ANOMALY_KINDS: tuple[str, ...] = (
    "amount_spike",
    "small_burst",
    "unusual_category",
    "unusual_hour",
    "new_merchant_large",
    "duplicate_charge",
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
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
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


# --------------------------------------------------------------------------- datasets


class DatasetWriter:
    """Writes a dataset directory shard by shard, then its manifest.

    Each :meth:`write` call validates one table chunk and writes it as the next part file
    of that table, so memory stays bounded by the chunk size. Part files are numbered in
    call order: write shards in a deterministic order for bit-identical output.

    Example::

        with DatasetWriter(out, seed=7, sources=["monilab generate"]) as writer:
            writer.write("users", users_df)
            for shard in shards:
                writer.write("transactions", shard)
            writer.meta["persona_file_sha256"] = digest
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        seed: int | None = None,
        sources: Iterable[str] = (),
        overwrite: bool = False,
        compression: str = "zstd",
    ) -> None:
        self.directory = Path(directory)
        if self.directory.exists() and any(self.directory.iterdir()) and not overwrite:
            raise SchemaError(f"output directory {self.directory} is not empty")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.seed = seed
        self.sources = list(sources)
        self.compression = compression
        self.meta: dict[str, Any] = {}
        self._parts: dict[str, list[str]] = {}
        self._rows: dict[str, int] = {}
        self._partitions: dict[str, dict[str, dict[str, Any]]] = {}
        self._counts: dict[tuple[str, str | None], int] = {}

    def write(self, table: str, data: Any, *, partition: str | None = None) -> Path:
        """Validate one chunk of a table and write it as the table's next part file.

        Args:
            table: Contract name.
            data: The chunk (pyarrow or pandas).
            partition: Optional ``key=value`` label (e.g. ``source=browser``): the part goes
                to ``<table>/<partition>/`` and the manifest lists it under that partition,
                so readers can take one partition without scanning the others.
        """
        conformed = conform(table, data)
        parts = self._parts.setdefault(table, [])
        table_dir = self.directory / table
        if partition is not None:
            if "=" not in partition or "/" in partition or partition.startswith("."):
                raise SchemaError(f"{table}: partition {partition!r} is not like key=value")
            table_dir = table_dir / partition
        table_dir.mkdir(parents=True, exist_ok=True)
        index = self._counts.get((table, partition), 0)
        self._counts[(table, partition)] = index + 1
        path = table_dir / f"part-{index:05d}.parquet"
        pq.write_table(conformed, path, compression=self.compression)
        rel = path.relative_to(self.directory).as_posix()
        parts.append(rel)
        self._rows[table] = self._rows.get(table, 0) + conformed.num_rows
        if partition is not None:
            entry = self._partitions.setdefault(table, {}).setdefault(
                partition, {"rows": 0, "files": []}
            )
            entry["rows"] += conformed.num_rows
            entry["files"].append(rel)
        return path

    def add_part(self, table: str, path: str | Path, rows: int) -> None:
        """Record a part file written elsewhere (e.g. by a worker process) under this dataset."""
        rel = Path(path).resolve().relative_to(self.directory.resolve()).as_posix()
        self._parts.setdefault(table, []).append(rel)
        self._rows[table] = self._rows.get(table, 0) + rows

    def close(self) -> dict[str, Any]:
        """Write ``manifest.json`` and return it."""
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "seed": self.seed,
            "sources": self.sources,
            "tables": {
                name: {
                    "rows": self._rows[name],
                    "files": parts,
                    **(
                        {"partitions": dict(sorted(self._partitions[name].items()))}
                        if name in self._partitions
                        else {}
                    ),
                }
                for name, parts in sorted(self._parts.items())
            },
            **self.meta,
        }
        (self.directory / MANIFEST_NAME).write_text(
            json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
        )
        return manifest

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()


class Dataset:
    """A dataset directory opened for reading; tables are read lazily and validated."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        manifest_path = self.directory / MANIFEST_NAME
        if not manifest_path.is_file():
            raise SchemaError(f"{self.directory} is not a dataset (no {MANIFEST_NAME})")
        try:
            self.manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SchemaError(f"{manifest_path}: not valid JSON ({exc.msg})") from None
        version = self.manifest.get("schema_version")
        if version != SCHEMA_VERSION:
            raise SchemaError(
                f"{manifest_path}: schema_version {version!r}, this monilab reads {SCHEMA_VERSION}"
            )

    @property
    def tables(self) -> list[str]:
        """Names of the tables in the dataset."""
        return sorted(self.manifest.get("tables", {}))

    def rows(self, table: str) -> int:
        """Row count of a table as recorded in the manifest."""
        return int(self.manifest["tables"][table]["rows"]) if table in self.tables else 0

    def partitions(self, table: str) -> list[str]:
        """The partition labels of a table (e.g. ``["source=browser", "source=locust"]``)."""
        self.parts(table)
        return sorted(self.manifest["tables"][table].get("partitions", {}))

    def parts(self, table: str, partition: str | None = None) -> list[Path]:
        """The part files of a table (or of one of its partitions), in order."""
        if table not in self.tables:
            raise SchemaError(
                f"{self.directory}: no table {table!r} (has: {', '.join(self.tables)})"
            )
        entry = self.manifest["tables"][table]
        if partition is None:
            files = entry["files"]
        else:
            files = entry.get("partitions", {}).get(partition, {}).get("files", [])
        return [self.directory / p for p in files]

    def iter_batches(
        self, table: str, columns: list[str] | None = None, partition: str | None = None
    ) -> Iterator[pa.Table]:
        """Yield the table part by part (bounded memory)."""
        for path in self.parts(table, partition):
            yield pq.read_table(path, columns=columns)

    def table(
        self, table: str, columns: list[str] | None = None, partition: str | None = None
    ) -> pa.Table:
        """The whole table (or one partition) as one ``pyarrow.Table``."""
        parts = list(self.iter_batches(table, columns, partition))
        if not parts:
            schema = contract_for(table).schema if table in CONTRACTS else pa.schema([])
            if columns:
                schema = pa.schema([schema.field(c) for c in columns])
            return schema.empty_table()
        return pa.concat_tables(parts, promote_options="default")

    def frame(
        self, table: str, columns: list[str] | None = None, partition: str | None = None
    ):  # -> pandas.DataFrame
        """The whole table (or one partition) as a pandas DataFrame."""
        return self.table(table, columns, partition).to_pandas()


def read_dataset(directory: str | Path) -> Dataset:
    """Open a dataset directory written by :class:`DatasetWriter`."""
    return Dataset(directory)


def write_dataset(
    directory: str | Path,
    tables: Mapping[str, Any],
    *,
    seed: int | None = None,
    sources: Iterable[str] = (),
    meta: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write whole tables as a one-part-per-table dataset; returns the manifest."""
    writer = DatasetWriter(directory, seed=seed, sources=sources, overwrite=overwrite)
    for name, data in tables.items():
        writer.write(name, data)
    writer.meta.update(meta or {})
    return writer.close()
