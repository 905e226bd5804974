"""``monilab export``: the app's database and request log as a Parquet dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monilab.contracts.options import option
from monilab.lab.commands import Command


@dataclass(frozen=True)
class ExportOptions:
    """What to export, and where."""

    out: Path = option(required=True, help="dataset directory to write")
    data_dir: Path = option(Path("data"), help="the app's data directory (default ./data)")
    database_url: str | None = option(None, help="SQLAlchemy URL of the app database")
    run_id: str | None = option(None, help="keep only this run's users and events")
    overwrite: bool = option(False, help="write into a non-empty --out")


def export(options: ExportOptions) -> dict[str, Any]:
    """Export; returns the dataset's manifest."""
    from target_app.config import database_url_for
    from target_app.export import export_dataset

    return export_dataset(
        options.out,
        database_url=database_url_for(options.data_dir, options.database_url),
        request_log_dir=options.data_dir / "request-log",
        run_id=options.run_id,
        overwrite=options.overwrite,
    )


def report(options: ExportOptions, manifest: dict[str, Any]) -> str:
    """One line: the row count of each table."""
    counts = ", ".join(f"{name} {info['rows']}" for name, info in manifest["tables"].items())
    return f"monilab export: wrote {options.out} ({counts})"


COMMAND = Command(
    name="export",
    help="export the app's users, spendings and request log as a dataset",
    description=(
        "Write the Moni app's users and spendings (as the users and transactions "
        "tables) and its request log (as events) to a Parquet dataset directory."
    ),
    options=ExportOptions,
    run=export,
    report=report,
)
