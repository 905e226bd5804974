"""``monilab describe``: a readable summary of a dataset, and its stylized facts.

``monilab describe DIR`` prints the summary of a generated dataset. ``--facts`` prints the
stylized-facts battery instead (each fact's value, its reference band, the verdict and the
band's source; see ``docs/realism.md``); ``--check`` also exits 1 naming every fact that
fails: outside its band, or not computable when ``bands.toml`` does not mark it optional.
With ``--mapping FILE`` the PATH is microdata (CSV or Parquet) read through that mapping,
like ``monilab calibrate --reference PATH --mapping FILE``; without PATH the mapping's own
file in the shared reference directory is read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monilab.contracts.errors import MonilabError

EXIT_CHECK_FAILED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``describe`` subcommand."""
    parser = subparsers.add_parser(
        "describe",
        help="summarise a dataset, or measure its stylized facts against reference bands",
        description="Users per persona, rows per category, spending per user-month and "
        "anomaly counts of a dataset written by `monilab generate`; or, with --facts, the "
        "stylized-facts battery on any dataset in the lab's schema (or on microdata with "
        "--mapping): each fact's value, reference band, verdict and source.",
    )
    parser.add_argument(
        "directory",
        metavar="PATH",
        nargs="?",
        help="dataset directory (with --mapping: a microdata CSV/Parquet file)",
    )
    parser.add_argument(
        "--facts", action="store_true", help="print the stylized facts instead of the summary"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="imply --facts; exit 1 naming every fact outside its band (or required and n/a)",
    )
    parser.add_argument(
        "--mapping",
        type=Path,
        help="TOML mapping: PATH is microdata read through it (implies --facts; without PATH, "
        "the mapping's file in the reference directory)",
    )
    parser.add_argument(
        "--bands", type=Path, help="bands file (default: calibration/facts/bands.toml)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the summary or the facts; with ``--check``, 1 when a fact fails."""
    if args.check or args.facts or args.mapping is not None:
        return run_facts(args)
    if args.directory is None:
        raise MonilabError("give a dataset directory")
    print_summary(args.directory)
    return 0


def run_facts(args: argparse.Namespace) -> int:
    """Print the facts table (and the check verdict); return the exit status."""
    from calibration.facts import failure_lines, format_facts, run_facts

    if args.mapping is None and args.directory is None:
        raise MonilabError("give a dataset directory, or --mapping FILE for microdata")
    if args.directory is not None and not Path(args.directory).exists():
        raise MonilabError(f"{args.directory} not found")
    results = run_facts(args.directory, mapping=args.mapping, bands=args.bands)
    what = args.directory or f"the reference file of {args.mapping}"
    print(f"stylized facts of {what}")
    print(format_facts(results))
    if not args.check:
        return 0
    failures = failure_lines(results)
    if not failures:
        print("\ncheck passed: every required fact is in its band")
        return 0
    print(f"\ncheck failed: {len(failures)} facts", file=sys.stderr)
    for line in failures:
        print(f"  {line}", file=sys.stderr)
    return EXIT_CHECK_FAILED


def print_summary(directory: str) -> None:
    """Print the summary tables of a generated dataset."""
    from sim.agents.summary import format_table, summarize

    summary = summarize(directory)
    manifest = summary.dataset.manifest
    rows = {name: summary.dataset.rows(name) for name in summary.dataset.tables}
    print(f"dataset {directory}")
    print(
        f"  seed {manifest.get('seed')}, {manifest.get('users', '?')} users × "
        f"{manifest.get('days', '?')} days from {manifest.get('start', '?')}, "
        f"anomaly rate {manifest.get('anomaly_rate', '?')}"
    )
    print("  rows: " + ", ".join(f"{name} {count:,}" for name, count in rows.items()))
    sections = [
        ("Users per persona", summary.personas, {"share": ".1%"}),
        ("Rows per category", summary.categories, {"share": ".1%"}),
        (
            "Outgoing spending per user-month, KRW (savings/investment excluded)",
            summary.spend,
            {"user_months": ",.0f"},
        ),
        ("Anomalies", summary.anomalies, {"share": ".2%"}),
    ]
    for title, frame, formats in sections:
        print(f"\n{title}")
        print(format_table(frame, formats))
