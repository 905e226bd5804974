"""Benchmark ``monilab generate``: throughput, peak memory and the ratio to a write-only floor.

Runs the generator (default 100,000 users × 365 days, 2 workers), then a *floor*: the same
number of random rows drawn with NumPy and written with pyarrow (same columns, same
Parquet options and row-group size) in this process, with no behaviour at all. Prints rows
written, wall time, rows/s, peak RSS of the parent and of the largest worker, and the
time ratio to the floor.

Usage::

    .venv/bin/python benchmarks/generate.py                       # 100k users × 365 days
    .venv/bin/python benchmarks/generate.py --users 1000000 --days 30
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monilab.contracts.vocabulary import ANOMALY_KINDS, CATEGORIES, DIRECTIONS, METHODS  # noqa: E402
from sim.agents.generate import (  # noqa: E402
    CHUNK_ROWS,
    COMPRESSION,
    DICTIONARY_COLUMNS,
    generate_dataset,
)


def _mib(kib: int) -> float:
    return kib / 1024  # ru_maxrss is in KiB on Linux


def floor_write(rows: int, out: Path, seed: int) -> float:
    """Seconds to draw ``rows`` random transaction rows and write them as Parquet."""
    rng = np.random.default_rng(seed)
    merchants = pa.array([f"가맹점{i}" for i in range(250)])
    began = time.perf_counter()
    schema = None
    writer = None
    done = 0
    while done < rows:
        n = min(CHUNK_ROWS, rows - done)

        def coded(k: int, values: tuple[str, ...] | pa.Array, n: int = n) -> pa.Array:
            dictionary = values if isinstance(values, pa.Array) else pa.array(values)
            indices = pa.array(rng.integers(0, k, n, dtype=np.int32))
            return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())

        kinds = rng.integers(-60, len(ANOMALY_KINDS), n).astype(np.int32)
        table = pa.table(
            {
                "txn_id": pa.array(np.arange(done, done + n, dtype=np.int64)),
                "user_id": pa.array(rng.integers(1, 100_000, n)),
                "ts": pa.array(
                    (1_704_067_200 + np.sort(rng.integers(0, 86_400 * 365, n))) * 1_000_000
                ).cast(pa.timestamp("us")),
                "method": coded(len(METHODS), METHODS),
                "amount": pa.array(
                    np.maximum(100, (rng.lognormal(9, 1, n) // 100) * 100).astype(np.int64)
                ),
                "merchant": coded(len(merchants), merchants),
                "category": coded(len(CATEGORIES), CATEGORIES),
                "direction": coded(len(DIRECTIONS), DIRECTIONS),
                "is_anomaly": pa.array(kinds >= 0),
                "anomaly_kind": pa.DictionaryArray.from_arrays(
                    pa.array(np.maximum(kinds, 0), mask=kinds < 0), pa.array(ANOMALY_KINDS)
                ).cast(pa.string()),
            }
        )
        if writer is None:
            schema = table.schema
            writer = pq.ParquetWriter(
                out, schema, compression=COMPRESSION, use_dictionary=DICTIONARY_COLUMNS
            )
        writer.write_table(table, row_group_size=CHUNK_ROWS)
        done += n
    if writer is not None:
        writer.close()
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", default="2024-01-01")
    parser.add_argument("--out", type=Path, help="keep the dataset here (default: temp dir)")
    parser.add_argument("--no-floor", action="store_true", help="skip the write-only floor")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="monilab-bench-"))
    out = args.out or scratch / "dataset"
    try:
        began = time.perf_counter()
        manifest = generate_dataset(
            out,
            users=args.users,
            days=args.days,
            start=args.start,
            seed=args.seed,
            workers=args.workers,
            overwrite=True,
        )
        seconds = time.perf_counter() - began
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        parent_kib, child_kib = own.ru_maxrss, children.ru_maxrss
        cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
        rows = int(manifest["counts"]["transactions"])
        size = sum(p.stat().st_size for p in Path(out).rglob("*.parquet"))
        print(
            f"users × days        {args.users:,} × {args.days} ({args.workers} workers, "
            f"{manifest['shards']} shards)"
        )
        print(f"rows written        {rows:,} transactions ({size / 2**20:,.0f} MiB Parquet)")
        print(f"wall time           {seconds:.1f} s")
        print(f"throughput          {rows / seconds:,.0f} rows/s")
        print(
            f"CPU time            {cpu:.1f} s parent + workers ({rows / cpu:,.0f} rows per "
            f"CPU-second; wall/CPU shows how contended the machine was)"
        )
        print(f"peak RSS parent     {_mib(parent_kib):,.0f} MiB")
        print(
            f"peak RSS worker     {_mib(child_kib):,.0f} MiB (largest child; "
            f"{manifest['run']['worker_peak_rss_mib']:,.0f} MiB reported by the shards)"
        )
        print(
            f"peak RSS bound      {_mib(parent_kib + args.workers * child_kib):,.0f} MiB "
            f"(parent + workers × largest child)"
        )
        if not args.no_floor:
            cpu_before = time.process_time()
            floor = floor_write(rows, scratch / "floor.parquet", args.seed)
            floor_cpu = time.process_time() - cpu_before
            print(
                f"floor (draw+write)  {floor:.1f} s ({rows / floor:,.0f} rows/s, one process, "
                f"{floor_cpu:.1f} CPU-s)"
            )
            print(f"ratio to floor      {seconds / floor:.2f}× wall, {cpu / floor_cpu:.2f}× CPU")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
