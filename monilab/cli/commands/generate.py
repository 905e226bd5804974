"""``monilab generate``: a seeded synthetic population written as a Parquet dataset."""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Callable
from typing import Any


def _bounded(kind: type, low: float, high: float, what: str) -> Callable[[str], Any]:
    """An argparse type: a number of ``kind`` within ``[low, high]``."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


_positive_int = _bounded(int, 1, math.inf, "a positive integer")
_seed = _bounded(int, 0, math.inf, "a non-negative integer")
_rate = _bounded(float, 0.0, 0.5, "a rate between 0 and 0.5")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``generate`` subcommand."""
    parser = subparsers.add_parser(
        "generate",
        help="generate users, transactions and daily population metrics (Parquet)",
        description="Simulate a seeded population of persona-driven Moni users and write "
        "users, transactions (with labelled anomalies) and population_daily as a Parquet "
        "dataset with manifest.json. The same seed gives the same bytes for any --workers.",
    )
    parser.add_argument("--users", type=_positive_int, required=True, help="number of users")
    parser.add_argument("--days", type=_positive_int, required=True, help="simulated days")
    parser.add_argument(
        "--start",
        type=_date,
        default=dt.date(2024, 1, 1),
        help="first simulated day, YYYY-MM-DD (default 2024-01-01)",
    )
    parser.add_argument("--seed", type=_seed, required=True, help="root seed")
    parser.add_argument("--personas", metavar="FILE", help="persona TOML (default: bundled)")
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="worker processes (default 1; output does not depend on it)",
    )
    parser.add_argument(
        "--anomaly-rate",
        type=_rate,
        default=0.01,
        help="anomaly episodes per normal payment before persona propensity (default 0.01)",
    )
    parser.add_argument(
        "--shard-size",
        type=_positive_int,
        default=None,
        help="users per shard (default 5000; changes the data)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--overwrite", action="store_true", help="write into a non-empty output directory"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Generate the dataset and print a one-line summary."""
    from sim.agents.generate import generate_dataset
    from sim.agents.population import SHARD_SIZE

    manifest = generate_dataset(
        args.out,
        users=args.users,
        days=args.days,
        start=args.start,
        seed=args.seed,
        personas=args.personas,
        workers=args.workers,
        anomaly_rate=args.anomaly_rate,
        shard_size=args.shard_size or SHARD_SIZE,
        overwrite=args.overwrite,
        progress=False if args.no_progress else None,
    )
    counts, run_info = manifest["counts"], manifest["run"]
    print(
        f"wrote {counts['users']:,} users, {counts['transactions']:,} transactions "
        f"({counts['anomalies']:,} anomalous) to {args.out} in {run_info['seconds']:.1f} s "
        f"({run_info['rows_per_second']:,} rows/s, {run_info['workers']} worker(s))"
    )
    return 0
