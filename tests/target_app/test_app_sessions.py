"""Per-request sessions: a write ends the request's read snapshot (SQLite WAL stays bounded)."""

from __future__ import annotations

from pathlib import Path

from moni_helpers import sign_up, spending
from sqlalchemy import text

from target_app import create_app
from target_app.context import read_db, write_db
from target_app.db import sqlite_path


def test_opening_the_write_session_ends_the_read_snapshot(app):
    with app.test_request_context("/"):
        read_db().execute(text("SELECT 1"))
        assert read_db().in_transaction()
        write_db()
        assert not read_db().in_transaction()
        read_db().execute(text("SELECT 1"))  # still usable: a new snapshot begins
        assert read_db().in_transaction()


def test_sqlite_wal_stays_bounded_under_read_then_write_requests(tmp_path: Path):
    """Each POST reads (token) then writes; a held read snapshot would stop WAL resets."""
    app = create_app(
        {
            "SECRET_KEY": "test",
            "MONILAB_DATA_DIR": str(tmp_path),
            "REQUEST_LOG_DIR": None,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    try:
        user = sign_up(app.test_client())
        for i in range(700):
            answer = user.post("/api/v1/spendings", json=spending(client_txn_id=f"w-{i}"))
            assert answer.status_code == 201
        database = sqlite_path(app.config["DATABASE_URL"])
        wal = Path(f"{database}-wal")
        # SQLite checkpoints every 1,000 pages (4 MiB); without resets 700 writes pass 5 MiB.
        assert wal.stat().st_size <= 1000 * 4096 + 64 * 1024
    finally:
        app.extensions["monilab"].db.dispose()
