"""Export the app's data as a lab dataset (``monilab export``); no Flask needed.

- ``users``: one row per user; ``persona`` is what the client sent at sign-up, else
  ``unknown``; ``spending_type`` (ground truth) is null; ``agent_id`` and ``name`` ride along.
- ``transactions``: one row per stored spending (``txn_id`` is the spending id) with the
  optional ``client_txn_id`` and ``memo``; ``is_anomaly``/``anomaly_kind`` are null.
- ``events``: one row per request-log line, ``source`` exactly as logged.

Rows are streamed in chunks of ``chunk_rows`` (one Parquet part per chunk), so memory
stays bounded however big the database or the log. With ``run_id``, only the users who
signed up with that ``X-Run-Id`` (and their spendings) and that run's events are kept.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import inspect, make_url, select

from monilab.contracts.datasets import DatasetWriter
from monilab.contracts.errors import MonilabError
from monilab.contracts.tables import EVENTS, empty_table
from monilab.contracts.vocabulary import EVENT_SOURCES
from target_app.db import Database, sqlite_path
from target_app.frames import TRANSACTION_FIELDS, USER_FIELDS, arrow_table
from target_app.models import Spending, User
from target_app.requestlog import DEFAULT_SOURCE, read_records

log = logging.getLogger(__name__)

CHUNK_ROWS = 50_000
EVENT_COLUMNS = [field.name for field in EVENTS.schema]


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _open_database(url: str) -> Database:
    db_file = sqlite_path(url)
    if db_file is not None and not db_file.is_file():
        raise MonilabError(f"no app database at {db_file} (run `monilab serve` first?)")
    db = Database.connect(url)
    if not inspect(db.engine).has_table(User.__tablename__):
        db.dispose()
        raise MonilabError(
            f"{make_url(url).render_as_string(hide_password=True)} has no Moni tables"
        )
    return db


def _event_row(record: dict[str, Any]) -> dict[str, Any]:
    """A request-log record as an events row (KeyError/ValueError when it is not one)."""
    source = record.get("source")
    return {
        "ts": dt.datetime.fromisoformat(record["ts"]),
        "run_id": record.get("run_id"),
        "user_id": record.get("user_id"),
        "agent_id": record.get("agent_id"),
        "source": source if source in EVENT_SOURCES else DEFAULT_SOURCE,
        "method": str(record["method"]),
        "route": str(record["route"]),
        "status": int(record["status"]),
        "latency_ms": float(record["latency_ms"]),
        "bytes": record.get("bytes"),
    }


def iter_events(directory: Path, run_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Events rows from the request log files; bad lines are logged and skipped."""
    if not directory.is_dir():
        return
    for path, number, record in read_records(directory):
        try:
            if record is None:
                raise ValueError("not a JSON object")
            row = _event_row(record)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("%s line %d skipped: %s", path.name, number, exc)
            continue
        if run_id is None or row["run_id"] == run_id:
            yield row


def _check_run_id(db: Database, run_id: str) -> None:
    """MonilabError (naming some known run ids) when no user signed up with ``run_id``: an
    export of nobody is a mistake, not an empty dataset."""
    with db.read() as session:
        if session.scalar(select(User.id).where(User.run_id == run_id).limit(1)) is not None:
            return
        known = session.scalars(
            select(User.run_id).where(User.run_id.is_not(None)).distinct().limit(5)
        ).all()
    db.dispose()
    hint = f" (known: {', '.join(str(k) for k in known)})" if known else " (no user has a run id)"
    raise MonilabError(f"--run-id {run_id}: no user signed up with that run id{hint}")


def export_dataset(
    out: str | Path,
    *,
    database_url: str,
    request_log_dir: str | Path,
    run_id: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write users, transactions and events of the app to a dataset; returns its manifest."""
    db = _open_database(database_url)
    if run_id is not None:
        _check_run_id(db, run_id)
    log_dir = Path(request_log_dir)
    writer = DatasetWriter(out, sources=["monilab export"], overwrite=overwrite)
    users = select(*User.__table__.c).order_by(User.id)
    spendings = select(*Spending.__table__.c).order_by(Spending.id)
    if run_id is not None:
        users = users.where(User.run_id == run_id)
        spendings = spendings.join(User, User.id == Spending.user_id).where(User.run_id == run_id)
    try:
        with db.read() as session:
            for table, query, fields in (
                ("users", users, USER_FIELDS),
                ("transactions", spendings, TRANSACTION_FIELDS),
            ):
                # Plain rows (no ORM identity map), fetched chunk by chunk.
                result = session.execute(query.execution_options(yield_per=chunk_rows))
                written = False
                for chunk in result.partitions():
                    writer.write(table, arrow_table(table, chunk, fields))
                    written = True
                if not written:
                    writer.write(table, empty_table(table))
    finally:
        db.dispose()
    events_written = False
    for chunk in _chunks(iter_events(log_dir, run_id), chunk_rows):
        # One partition per source (source=locust, source=browser, source=api), so a
        # run's HTTP and browser traffic are read apart without scanning each other.
        by_source: dict[str, list[dict[str, Any]]] = {}
        for row in chunk:
            by_source.setdefault(row["source"], []).append(row)
        for source, rows in sorted(by_source.items()):
            columns = {name: [row[name] for row in rows] for name in EVENT_COLUMNS}
            table = pa.table(columns, schema=EVENTS.schema)
            writer.write("events", table, partition=f"source={source}")
        events_written = True
    if not events_written:
        writer.write("events", empty_table("events"))
    writer.meta.update(
        made_by="monilab export",
        database=make_url(database_url).render_as_string(hide_password=True),
        request_log_dir=str(log_dir),
        request_log_files=len(list(log_dir.glob("*.jsonl"))) if log_dir.is_dir() else 0,
        run_id=run_id,
    )
    return writer.close()
