"""The ledger's reads and writes: users, transfers, balances (plain functions on a connection).

Nothing here knows about Flask, so the lab or a test can read the same tables offline.
Writes are safe to retry: a transfer's idempotency key is its ``reference``, unique per
user, and :func:`record_transfer` tells a first write, a replay and a conflicting reuse
apart without a race (``INSERT ... ON CONFLICT DO NOTHING``, then read what is stored).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from enum import Enum
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from examples.ledgerly.validation import ListQuery, Registration, TransferInput

PASSWORD_HASH_METHOD = "pbkdf2:sha256:10000"
"""Cheap on purpose: Ledgerly is a load target, and the lab should load the app, not PBKDF2."""

_TRANSFER_COLUMNS = "id, reference, amount, category, merchant, at"


class WriteOutcome(Enum):
    """What a transfer write did."""

    CREATED = "created"
    REPLAYED = "replayed"
    CONFLICT = "conflict"


class EmailTaken(Exception):
    """A sign-up with an address that already has an account."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def public_user(row: sqlite3.Row) -> dict[str, Any]:
    """The user as the API shows it (no hash)."""
    return {"id": row["id"], "email": row["email"], "name": row["name"]}


def create_user(conn: sqlite3.Connection, form: Registration) -> dict[str, Any]:
    """Store a new user and return it as shown (EmailTaken when the address exists)."""
    digest = generate_password_hash(form.password, method=PASSWORD_HASH_METHOD)
    try:
        with conn:
            cursor = conn.execute(
                "INSERT INTO users (email, password_hash, name, agent_id, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (form.email, digest, form.name, form.agent_id, _now()),
            )
    except sqlite3.IntegrityError:
        raise EmailTaken(form.email) from None
    return {"id": cursor.lastrowid, "email": form.email, "name": form.name}


def user_by_id(conn: sqlite3.Connection, user_id: int) -> sqlite3.Row | None:
    """The user with this id, or None."""
    return conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def authenticate(conn: sqlite3.Connection, email: Any, password: Any) -> sqlite3.Row | None:
    """The user whose email and password match, or None."""
    if not isinstance(email, str) or not isinstance(password, str):
        return None
    row = conn.execute("SELECT * FROM users WHERE email = ?", (email.strip().lower(),)).fetchone()
    if row is None or not check_password_hash(row["password_hash"], password):
        return None
    return row


def record_transfer(
    conn: sqlite3.Connection, user_id: int, reference: str, transfer: TransferInput
) -> tuple[WriteOutcome, dict[str, Any]]:
    """Store a transfer once per (user, reference); a replay returns the stored record."""
    with conn:
        cursor = conn.execute(
            "INSERT INTO transfers (user_id, reference, amount, category, merchant, at,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, reference) DO NOTHING",
            (user_id, reference, transfer.amount, transfer.category, transfer.merchant,
             transfer.at, _now()),
        )  # fmt: skip
        stored = conn.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE user_id = ? AND reference = ?",
            (user_id, reference),
        ).fetchone()
    record = dict(stored)
    if cursor.rowcount == 1:
        return WriteOutcome.CREATED, record
    same = TransferInput(
        amount=record["amount"],
        category=record["category"],
        merchant=record["merchant"],
        at=record["at"],
    )
    return (WriteOutcome.REPLAYED if same == transfer else WriteOutcome.CONFLICT), record


def _month_filter(month: str | None) -> tuple[str, tuple[str, ...]]:
    """SQL and parameters keeping transfers of one ``YYYY-MM`` month (ISO text compares)."""
    if month is None:
        return "", ()
    year, number = (int(part) for part in month.split("-"))
    following = f"{year + number // 12:04d}-{number % 12 + 1:02d}"
    return " AND at >= ? AND at < ?", (month, following)


def list_transfers(
    conn: sqlite3.Connection, user_id: int, query: ListQuery
) -> tuple[list[dict[str, Any]], int]:
    """One page of the user's transfers (newest first, then by id) and the total."""
    where, params = _month_filter(query.month)
    rows = conn.execute(
        f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE user_id = ?{where}"
        " ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
        (user_id, *params, query.limit, query.offset),
    ).fetchall()
    total = conn.execute(
        f"SELECT COUNT(*) FROM transfers WHERE user_id = ?{where}", (user_id, *params)
    ).fetchone()[0]
    return [dict(row) for row in rows], int(total)


def balance(conn: sqlite3.Connection, user_id: int) -> dict[str, int]:
    """The total spent and the number of transfers."""
    spent, count = conn.execute(
        "SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM transfers WHERE user_id = ?",
        (user_id,),
    ).fetchone()
    return {"spent": int(spent), "transfers": int(count)}
