"""Datasets: a directory of Parquet files, one sub-directory per table, and a manifest.

::

    DIR/manifest.json
    DIR/users/part-00000.parquet
    DIR/transactions/part-00000.parquet  part-00001.parquet ...
    DIR/events/part-00000.parquet

:class:`DatasetWriter` writes one shard at a time (bounded memory, deterministic part
order); :class:`Dataset` reads lazily and validates against the table contracts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from monilab.contracts.errors import SchemaError
from monilab.contracts.tables import CONTRACTS, conform, contract_for

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"


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
