"""Write a population's users, transactions and daily metrics as a Parquet dataset.

Each shard is simulated by one task that writes its own part files
(``users/part-KKKKK.parquet``, ``labels/part-KKKKK.parquet``: the monthly ground truth,
``transactions/part-KKKKK.parquet``) streaming the
transactions in bounded chunks; the parent records the parts in shard order and writes
``population_daily`` and ``manifest.json``. Shards depend only on the seed, so the files
are byte-identical whatever the number of worker processes.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing as mp
import platform
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from monilab.contracts.datasets import DatasetWriter
from monilab.contracts.errors import MonilabError
from monilab.contracts.tables import TRANSACTIONS, conform
from sim.agents.identity import register_labels
from sim.agents.metrics import POPULATION_DAILY, register_population_daily
from sim.agents.personas import PersonaSet, default_personas, load_personas
from sim.agents.population import SHARD_SIZE, Population
from sim.agents.rows import Rows

log = logging.getLogger(__name__)

CHUNK_ROWS = 500_000
"""Transactions buffered per shard before a row group is written."""
COMPRESSION = "zstd"
DICTIONARY_COLUMNS = ["user_id", "method", "merchant", "category", "direction", "anomaly_kind"]
"""Columns worth Parquet dictionary encoding (ids, times and amounts are not)."""
SOURCE = "monilab generate"


@dataclass(frozen=True)
class PopulationSpec:
    """The picklable recipe of a :class:`Population` (sent once to each worker)."""

    personas: PersonaSet
    users: int
    seed: int
    start: dt.date
    days: int
    anomaly_rate: float
    shard_size: int

    def build(self) -> Population:
        """The population this spec describes."""
        return Population(
            self.personas,
            users=self.users,
            seed=self.seed,
            start=self.start,
            days=self.days,
            anomaly_rate=self.anomaly_rate,
            shard_size=self.shard_size,
        )


@dataclass(frozen=True)
class ShardReport:
    """What a shard task wrote and measured."""

    shard: int
    users: int
    labels: int
    transactions: int
    anomalies: int
    daily: pa.Table
    seconds: float
    peak_rss_kib: int


class _TransactionPart:
    """A shard's transactions part file, written in row groups of :data:`CHUNK_ROWS`."""

    def __init__(self, pop: Population, shard: int, path: Path) -> None:
        self.pop, self.shard = pop, shard
        self.user_ids = pop.shard_user_ids(shard)
        self.writer = pq.ParquetWriter(
            path, TRANSACTIONS.schema, compression=COMPRESSION, use_dictionary=DICTIONARY_COLUMNS
        )
        self.buffer: list[Rows] = []
        self.buffered = self.written = self.anomalies = 0

    def add(self, rows: Rows) -> None:
        """Buffer a day's rows; write a row group when the buffer is full."""
        self.buffer.append(rows)
        self.buffered += len(rows)
        if self.buffered >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        """Validate and write the buffered rows as the next row group."""
        rows = Rows.concat(self.buffer)
        self.buffer, self.buffered = [], 0
        first = self.pop.first_txn_id(self.shard) + self.written
        table = conform("transactions", self.pop.arrow_rows(self.user_ids, rows, first))
        self.writer.write_table(table, row_group_size=CHUNK_ROWS)
        self.written += len(rows)
        self.anomalies += int((rows.anomaly >= 0).sum())

    def close(self) -> None:
        """Write what is left and close the file."""
        if self.buffer or not self.written:
            self.flush()
        self.writer.close()


def part_path(out: Path, table: str, shard: int) -> Path:
    """Where a shard writes its part of a table (``out/TABLE/part-KKKKK.parquet``)."""
    return out / table / f"part-{shard:05d}.parquet"


def write_shard(pop: Population, shard: int, out: Path) -> ShardReport:
    """Simulate one shard and write its users and transactions part files."""
    began = time.perf_counter()
    part = _TransactionPart(pop, shard, part_path(out, "transactions", shard))
    try:
        model = pop.run_shard(shard, part.add)
    finally:
        part.close()
    users = conform("users", pop.users_table(model))
    pq.write_table(users, part_path(out, "users", shard), compression=COMPRESSION)
    labels = conform("labels", model.label_table())
    pq.write_table(labels, part_path(out, "labels", shard), compression=COMPRESSION)
    return ShardReport(
        shard=shard,
        users=users.num_rows,
        labels=labels.num_rows,
        transactions=part.written,
        anomalies=part.anomalies,
        daily=model.daily_table(),
        seconds=time.perf_counter() - began,
        peak_rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    )


_WORKER: dict[str, Any] = {}


def _init_worker(spec: PopulationSpec, out: str) -> None:
    register_population_daily()
    register_labels()
    _WORKER["pop"] = spec.build()
    _WORKER["out"] = Path(out)


def _worker_task(shard: int) -> ShardReport:
    return write_shard(_WORKER["pop"], shard, _WORKER["out"])


def _reports(spec: PopulationSpec, out: Path, workers: int) -> Iterator[ShardReport]:
    """Shard reports in shard order, from this process or a pool of ``workers``."""
    shards = range(-(-spec.users // spec.shard_size))
    if workers <= 1 or len(shards) == 1:
        pop = spec.build()
        for shard in shards:
            yield write_shard(pop, shard, out)
        return
    context = mp.get_context("spawn")  # workers are our children (their rusage is counted)
    with context.Pool(min(workers, len(shards)), _init_worker, (spec, str(out))) as pool:
        yield from pool.imap(_worker_task, shards, chunksize=1)


@dataclass(frozen=True)
class PersonaChoice:
    """The persona set a dataset is generated from and the file its manifest names."""

    personas: PersonaSet
    file: str


def choose_personas(personas: PersonaSet | str | Path | None) -> PersonaChoice:
    """A persona set (the bundled one by default) and the name of its file."""
    if personas is None:
        bundled = default_personas()
        # "personas/default.toml", the same on every machine
        return PersonaChoice(bundled, bundled.source)
    if isinstance(personas, PersonaSet):
        return PersonaChoice(personas, personas.source)
    return PersonaChoice(load_personas(personas), str(personas))


@dataclass
class ShardTotals:
    """The shard reports summed in shard order."""

    daily: list[pa.Table] = field(default_factory=list)
    transactions: int = 0
    anomalies: int = 0
    shard_seconds: float = 0.0
    peak_rss_kib: int = 0

    def add(self, report: ShardReport) -> None:
        """Count one more shard."""
        self.daily.append(report.daily)
        self.transactions += report.transactions
        self.anomalies += report.anomalies
        self.shard_seconds += report.seconds
        self.peak_rss_kib = max(self.peak_rss_kib, report.peak_rss_kib)

    def daily_table(self) -> pa.Table:
        """The ``population_daily`` rows of every shard."""
        return pa.concat_tables(self.daily) if self.daily else POPULATION_DAILY.schema.empty_table()


def _open_dataset(out: Path, *, seed: int, overwrite: bool) -> DatasetWriter:
    """A writer for the dataset directory, with the directories the shards write into."""
    register_population_daily()
    register_labels()
    writer = DatasetWriter(out, seed=seed, sources=[SOURCE], overwrite=overwrite)
    for table in ("users", "labels", "transactions"):
        (out / table).mkdir(exist_ok=True)
    return writer


def _write_shards(
    spec: PopulationSpec,
    out: Path,
    writer: DatasetWriter,
    *,
    n_shards: int,
    workers: int,
    progress: bool | None,
) -> ShardTotals:
    """Simulate and write every shard, recording its part files in shard order."""
    totals = ShardTotals()
    bar = tqdm(
        total=n_shards,
        unit="shard",
        desc="generate",
        file=sys.stderr,
        disable=None if progress is None else not progress,
    )
    with bar:
        for report in _reports(spec, out, workers):
            writer.add_part("users", part_path(out, "users", report.shard), report.users)
            writer.add_part("labels", part_path(out, "labels", report.shard), report.labels)
            writer.add_part(
                "transactions", part_path(out, "transactions", report.shard), report.transactions
            )
            totals.add(report)
            bar.update(1)
    return totals


def _manifest_meta(
    spec: PopulationSpec,
    persona_file: str,
    *,
    n_shards: int,
    workers: int,
    totals: ShardTotals,
    seconds: float,
) -> dict[str, Any]:
    """What ``monilab generate`` adds to the manifest: the recipe, the counts, the run."""
    personas = spec.personas
    return {
        "generator": "sim.agents",
        "persona_file": persona_file,
        "persona_file_sha256": personas.sha256,
        "personas": personas.names,
        "users": spec.users,
        "days": spec.days,
        "start": spec.start.isoformat(),
        "anomaly_rate": spec.anomaly_rate,
        "shard_size": spec.shard_size,
        "shards": n_shards,
        "counts": {
            "users": spec.users,
            "transactions": totals.transactions,
            "anomalies": totals.anomalies,
        },
        "run": {
            "workers": workers,
            "seconds": round(seconds, 3),
            "shard_seconds": round(totals.shard_seconds, 3),
            "rows_per_second": round(totals.transactions / max(seconds, 1e-9)),
            "worker_peak_rss_mib": round(totals.peak_rss_kib / 1024, 1),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pyarrow": pa.__version__,
            "mesa": mesa.__version__,
        },
    }


def generate_dataset(
    out: str | Path,
    *,
    users: int,
    days: int,
    start: dt.date | str,
    seed: int,
    personas: PersonaSet | str | Path | None = None,
    workers: int = 1,
    anomaly_rate: float = 0.01,
    shard_size: int = SHARD_SIZE,
    overwrite: bool = False,
    progress: bool | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Generate a dataset directory and return its manifest.

    Args:
        out: Output directory (must be empty unless ``overwrite``).
        users: Number of users.
        days: Number of simulated days.
        start: First simulated day (``date`` or ``YYYY-MM-DD``).
        seed: Root seed; the same seed gives the same bytes for any ``workers``.
        personas: Persona set or file (the bundled personas by default).
        workers: Worker processes (1 = in this process).
        anomaly_rate: Anomaly episodes per normal payment, × persona propensity.
        shard_size: Users per shard (changes the data; recorded in the manifest).
        overwrite: Allow a non-empty output directory.
        progress: Show a progress bar (None: only on a terminal).
        meta: More manifest entries (e.g. ``perturb`` and ``perturb_seed``).
    """
    began = time.perf_counter()
    if not isinstance(workers, int) or workers < 1:
        raise MonilabError(f"workers must be a positive integer (got {workers!r})")
    chosen = choose_personas(personas)
    pop = Population(
        chosen.personas,
        users=users,
        seed=seed,
        start=start,
        days=days,
        anomaly_rate=anomaly_rate,
        shard_size=shard_size,
    )
    spec = PopulationSpec(
        chosen.personas, users, seed, pop.start, days, pop.anomaly_rate, shard_size
    )
    out = Path(out)
    writer = _open_dataset(out, seed=seed, overwrite=overwrite)
    log.info(
        "generating %d users × %d days in %d shards with %d worker(s)",
        users,
        days,
        pop.n_shards,
        workers,
    )
    totals = _write_shards(
        spec, out, writer, n_shards=pop.n_shards, workers=workers, progress=progress
    )
    writer.write("population_daily", totals.daily_table())
    (out / "personas.toml").write_text(chosen.personas.to_toml(), encoding="utf-8")
    seconds = time.perf_counter() - began
    writer.meta.update(
        _manifest_meta(
            spec,
            chosen.file,
            n_shards=pop.n_shards,
            workers=workers,
            totals=totals,
            seconds=seconds,
        )
    )
    writer.meta.update(meta or {})
    manifest = writer.close()
    log.info(
        "wrote %s transactions in %.1f s (%.0f rows/s)",
        f"{totals.transactions:,}",
        seconds,
        totals.transactions / max(seconds, 1e-9),
    )
    return manifest
