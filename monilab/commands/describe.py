"""``monilab describe``: a readable summary of a generated dataset."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``describe`` subcommand."""
    parser = subparsers.add_parser(
        "describe",
        help="summarise a generated dataset",
        description="Users per persona, rows per category, spending per user-month and "
        "anomaly counts of a dataset written by `monilab generate`.",
    )
    parser.add_argument("directory", metavar="DIR", help="dataset directory")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the summary tables."""
    from sim.agents.summary import format_table, summarize

    summary = summarize(args.directory)
    manifest = summary.dataset.manifest
    rows = {name: summary.dataset.rows(name) for name in summary.dataset.tables}
    print(f"dataset {args.directory}")
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
    return 0
