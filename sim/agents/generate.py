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
from dataclasses import dataclass
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


def write_shard(pop: Population, shard: int, out: Path) -> ShardReport:
    """Simulate one shard and write its users and transactions part files."""
    began = time.perf_counter()
    part = _TransactionPart(pop, shard, out / "transactions" / f"part-{shard:05d}.parquet")
    try:
        model = pop.run_shard(shard, part.add)
    finally:
        part.close()
    users = conform("users", pop.users_table(model))
    pq.write_table(users, out / "users" / f"part-{shard:05d}.parquet", compression=COMPRESSION)
    labels = conform("labels", model.label_table())
    pq.write_table(labels, out / "labels" / f"part-{shard:05d}.parquet", compression=COMPRESSION)
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
    """
    began = time.perf_counter()
    if not isinstance(workers, int) or workers < 1:
        raise MonilabError(f"workers must be a positive integer (got {workers!r})")
    persona_file: str
    if personas is None:
        personas = default_personas()
        persona_file = personas.source  # "personas/default.toml", the same on every machine
    elif isinstance(personas, PersonaSet):
        persona_file = personas.source
    else:
        persona_file = str(personas)
        personas = load_personas(personas)
    pop = Population(
        personas,
        users=users,
        seed=seed,
        start=start,
        days=days,
        anomaly_rate=anomaly_rate,
        shard_size=shard_size,
    )
    spec = PopulationSpec(personas, users, seed, pop.start, days, pop.anomaly_rate, shard_size)
    register_population_daily()
    register_labels()
    out = Path(out)
    writer = DatasetWriter(out, seed=seed, sources=[SOURCE], overwrite=overwrite)
    for table in ("users", "labels", "transactions"):
        (out / table).mkdir(exist_ok=True)
    log.info(
        "generating %d users × %d days in %d shards with %d worker(s)",
        users,
        days,
        pop.n_shards,
        workers,
    )
    daily, totals, shard_seconds, peak_kib = [], {"transactions": 0, "anomalies": 0}, 0.0, 0
    bar = tqdm(
        total=pop.n_shards,
        unit="shard",
        desc="generate",
        file=sys.stderr,
        disable=None if progress is None else not progress,
    )
    with bar:
        for report in _reports(spec, out, workers):
            writer.add_part(
                "users", out / "users" / f"part-{report.shard:05d}.parquet", report.users
            )
            writer.add_part(
                "labels", out / "labels" / f"part-{report.shard:05d}.parquet", report.labels
            )
            writer.add_part(
                "transactions",
                out / "transactions" / f"part-{report.shard:05d}.parquet",
                report.transactions,
            )
            daily.append(report.daily)
            totals["transactions"] += report.transactions
            totals["anomalies"] += report.anomalies
            shard_seconds += report.seconds
            peak_kib = max(peak_kib, report.peak_rss_kib)
            bar.update(1)
    writer.write(
        "population_daily",
        pa.concat_tables(daily) if daily else POPULATION_DAILY.schema.empty_table(),
    )
    (out / "personas.toml").write_text(personas.to_toml(), encoding="utf-8")
    seconds = time.perf_counter() - began
    writer.meta.update(
        {
            "generator": "sim.agents",
            "persona_file": persona_file,
            "persona_file_sha256": personas.sha256,
            "personas": personas.names,
            "users": users,
            "days": days,
            "start": pop.start.isoformat(),
            "anomaly_rate": pop.anomaly_rate,
            "shard_size": shard_size,
            "shards": pop.n_shards,
            "counts": {"users": users, **totals},
            "run": {
                "workers": workers,
                "seconds": round(seconds, 3),
                "shard_seconds": round(shard_seconds, 3),
                "rows_per_second": round(totals["transactions"] / max(seconds, 1e-9)),
                "worker_peak_rss_mib": round(peak_kib / 1024, 1),
                "python": platform.python_version(),
                "numpy": np.__version__,
                "pyarrow": pa.__version__,
                "mesa": mesa.__version__,
            },
        }
    )
    manifest = writer.close()
    log.info(
        "wrote %s transactions in %.1f s (%.0f rows/s)",
        f"{totals['transactions']:,}",
        seconds,
        totals["transactions"] / max(seconds, 1e-9),
    )
    return manifest
