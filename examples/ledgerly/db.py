"""SQLite storage of Ledgerly: the schema and one connection per request.

Plain ``sqlite3`` with parameterised SQL keeps the example free of an ORM. The database
runs in WAL mode (readers do not block the writer) with a ``busy_timeout``, so several
gunicorn workers and threads can share one file; each request opens its own connection
and closes it when the request ends.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import current_app, g

BUSY_TIMEOUT_MS = 5000

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    name TEXT,
    agent_id TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transfers (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    reference TEXT NOT NULL,
    amount INTEGER NOT NULL,
    category TEXT NOT NULL,
    merchant TEXT,
    at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (user_id, reference)
);
CREATE INDEX IF NOT EXISTS transfers_by_user_time ON transfers (user_id, at DESC, id DESC);
"""


def connect(database: str | Path) -> sqlite3.Connection:
    """A connection with rows by name, foreign keys on and a busy timeout."""
    conn = sqlite3.connect(database, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def init_db(database: str | Path) -> None:
    """Switch the file to WAL mode and create the tables (idempotent)."""
    conn = connect(database)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(SCHEMA)
    finally:
        conn.close()


def get_db() -> sqlite3.Connection:
    """This request's connection, opened on first use."""
    if "ledgerly_db" not in g:
        g.ledgerly_db = connect(current_app.config["LEDGERLY_DATABASE"])
    return g.ledgerly_db


def close_db(_error: BaseException | None = None) -> None:
    """Close this request's connection, if one was opened (a teardown hook)."""
    conn = g.pop("ledgerly_db", None)
    if conn is not None:
        conn.close()
