"""``monilab export``: the app's database and request log as a Parquet dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand."""
    parser = subparsers.add_parser(
        "export",
        help="export the app's users, spendings and request log as a dataset",
        description=(
            "Write the Moni app's users and spendings (as the users and transactions "
            "tables) and its request log (as events) to a Parquet dataset directory."
        ),
    )
    parser.add_argument("--out", type=Path, required=True, help="dataset directory to write")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data"),
        help="the app's data directory (default ./data)",
    )
    parser.add_argument("--database-url", default=None, help="SQLAlchemy URL of the app database")
    parser.add_argument("--run-id", default=None, help="keep only this run's users and events")
    parser.add_argument("--overwrite", action="store_true", help="write into a non-empty --out")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Export and print the row counts."""
    from target_app.config import database_url_for
    from target_app.export import export_dataset

    manifest = export_dataset(
        args.out,
        database_url=database_url_for(args.data_dir, args.database_url),
        request_log_dir=args.data_dir / "request-log",
        run_id=args.run_id,
        overwrite=args.overwrite,
    )
    counts = ", ".join(f"{name} {info['rows']}" for name, info in manifest["tables"].items())
    print(f"monilab export: wrote {args.out} ({counts})", file=sys.stdout)
    return 0
