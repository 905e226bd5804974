"""Spendings: idempotent create (one or a batch), list with filters, history by month.

Idempotency: a spending sent with a ``client_txn_id`` is stored at most once per user.
A replay with the same fields is answered with the stored row (``created=False``); a
reuse of the id with different fields is a 409 Conflict. The database's
UNIQUE(user_id, client_txn_id) is the last word: when two identical requests race, the
loser's insert fails, its transaction is rolled back and the lookup is repeated.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, extract, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monilab.contracts.vocabulary import CATEGORIES, DIRECTIONS, METHODS
from target_app.errors import AppError, BadRequest, Conflict, ValidationError
from target_app.models import MAX_AMOUNT, Spending, table_of
from target_app.services.common import iso, month_bounds, owned
from target_app.validation import Field, Spec

log = logging.getLogger(__name__)

MAX_BATCH = 500
"""Most spendings one batch request may carry."""

SPENDING = Spec(
    (
        Field(
            "spent_at",
            "datetime",
            required=True,
            description="When the money moved; without an offset it is Korean local time.",
        ),
        Field("amount", "integer", required=True, minimum=1, maximum=MAX_AMOUNT, description="KRW"),
        Field("category", required=True, choices=CATEGORIES),
        Field("direction", choices=DIRECTIONS, default="out", description="in (입금), out (출금)"),
        Field("method", choices=METHODS, default="card"),
        Field("merchant", max_length=100, description="merchant or details (seed: details)"),
        Field("memo", max_length=200),
        Field(
            "client_txn_id",
            min_length=1,
            max_length=64,
            description="Client-chosen id that makes retries safe (stored once per user).",
        ),
    )
)

LIST_QUERY = Spec(
    (
        Field("from", "date", description="first day (inclusive)"),
        Field("to", "date", description="last day (inclusive)"),
        Field("category", choices=CATEGORIES),
        Field("direction", choices=DIRECTIONS),
        Field("limit", "integer", minimum=1, maximum=500, default=50),
        Field("offset", "integer", minimum=0, maximum=1_000_000_000, default=0),
    )
)

_COMPARED = ("spent_at", "amount", "category", "direction", "method", "merchant", "memo")
_ATTEMPTS = 3


def batch_json_schema() -> dict[str, Any]:
    """The batch body as an OpenAPI schema: ``{"items": [spending, ...]}``."""
    return {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BATCH,
                "items": SPENDING.json_schema(),
            }
        },
        "additionalProperties": False,
    }


def parse_batch(payload: Any) -> list[dict[str, Any]]:
    """Validate a batch body ``{"items": [...]}``; errors name e.g. ``items[3].amount``."""
    if not isinstance(payload, dict):
        raise BadRequest("request body must be a JSON object")
    extra = [key for key in payload if key != "items"]
    if extra:
        raise ValidationError(f"{extra[0]} is not a known field", extra[0])
    items = payload.get("items")
    if items is None:
        raise ValidationError("items is required", "items")
    if not isinstance(items, list):
        raise ValidationError("items must be an array", "items")
    if not 1 <= len(items) <= MAX_BATCH:
        raise ValidationError(f"items must hold 1 to {MAX_BATCH} spendings", "items")
    return [SPENDING.parse(item, prefix=f"items[{i}].") for i, item in enumerate(items)]


_TABLE = table_of(Spending)
_C = _TABLE.c
_COLUMNS = (
    _C.id,
    _C.spent_at,
    _C.amount,
    _C.category,
    _C.direction,
    _C.method,
    _C.merchant,
    _C.memo,
    _C.client_txn_id,
    _C.created_at,
)
"""What a stored spending is read as: every column but ``user_id`` (a Core row)."""
_FIELDS = tuple(f.name for f in SPENDING.fields)

# Core statements built once (their cache keys are memoized): no ORM unit of work and no
# expression building on the hot path.
_BY_TXN = select(*_COLUMNS).where(
    _C.user_id == bindparam("user_id"), _C.client_txn_id.in_(bindparam("ids", expanding=True))
)
_INSERT = insert(_TABLE).returning(*_COLUMNS, sort_by_parameter_order=True)
_ORDER = (_C.spent_at.desc(), _C.id.desc())

_LATEST = select(func.max(_C.spent_at)).where(_C.user_id == bindparam("user_id"))
OUTFLOWS = (
    _C.user_id == bindparam("user_id"),
    _C.direction == "out",
    _C.spent_at >= bindparam("start"),
    _C.spent_at < bindparam("end"),
)
"""Where-conditions of a user's outflows in ``[start, end)`` (binds user_id, start, end)."""

SpendingRow = Row[*tuple[Any, ...]]
"""A stored spending as read by this module; its attributes are :class:`Spending`'s columns."""


def latest_spent_at(session: Session, user_id: int) -> dt.datetime | None:
    """When the user's latest spending happened (the lab's simulated clock), or None."""
    return session.connection().execute(_LATEST, {"user_id": user_id}).scalar()


def create(session: Session, user_id: int, data: dict[str, Any]) -> tuple[SpendingRow, bool]:
    """Store one validated spending; returns the stored row and whether it is new."""
    return store(session, user_id, [data], field_prefix=lambda _: "")[0]


def create_batch(
    session: Session, user_id: int, items: Sequence[dict[str, Any]]
) -> list[tuple[SpendingRow, bool]]:
    """Store validated spendings atomically (all or none); per item: row and whether new."""
    return store(session, user_id, items, field_prefix=lambda i: f"items[{i}].")


def stored_by_txn(
    connection: Connection, user_id: int, ids: Sequence[str]
) -> dict[str, SpendingRow]:
    """The user's stored spendings with these client_txn_ids, by id."""
    rows = connection.execute(_BY_TXN, {"user_id": user_id, "ids": list(set(ids))})
    return {row.client_txn_id: row for row in rows}


def store(
    session: Session,
    user_id: int,
    items: Sequence[dict[str, Any]],
    *,
    field_prefix: Any,
) -> list[tuple[SpendingRow, bool]]:
    """Insert the items that are not stored yet, in one transaction, retrying lost races.

    Args:
        session: A write session.
        user_id: Owner of the spendings.
        items: Validated spendings (see :data:`SPENDING`).
        field_prefix: Maps an item index to the prefix of its field names in errors.
    """
    ids = [item["client_txn_id"] for item in items if item.get("client_txn_id")]
    for attempt in range(1, _ATTEMPTS + 1):
        connection = session.connection()
        known: dict[str, SpendingRow] = stored_by_txn(connection, user_id, ids) if ids else {}
        first_new: dict[str, int] = {}  # client_txn_id -> position in ``new``
        new: list[dict[str, Any]] = []
        slots: list[SpendingRow | int] = []  # a stored row, or the position of a new one
        for index, item in enumerate(items):
            key = item.get("client_txn_id")
            if key and key in known:
                same = all(getattr(known[key], name) == item.get(name) for name in _COMPARED)
            elif key and key in first_new:
                same = all(new[first_new[key]][name] == item.get(name) for name in _COMPARED)
            else:
                if key:
                    first_new[key] = len(new)
                slots.append(len(new))
                new.append({"user_id": user_id, **{name: item.get(name) for name in _FIELDS}})
                continue
            if not same:
                where = f"{field_prefix(index)}client_txn_id"
                session.rollback()
                raise Conflict(f"{where} was already used for a different spending", where)
            slots.append(known[key] if key in known else -1 - first_new[key])
        try:
            inserted = list(connection.execute(_INSERT, new)) if new else []
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            log.debug("spending insert lost a race (attempt %d): %s", attempt, exc.orig)
            continue
        return [
            (slot, False)
            if not isinstance(slot, int)
            else (inserted[slot], True)
            if slot >= 0
            else (inserted[-1 - slot], False)
            for slot in slots
        ]
    raise AppError("too many concurrent writes for the same spendings; retry", status=409)


def get(session: Session, user_id: int, spending_id: int) -> Spending:
    """One of the user's spendings, else NotFound."""
    return owned(session, Spending, user_id, spending_id)


@dataclass(frozen=True)
class Page:
    """One page of a list: the rows, the total matching and the window."""

    items: list[SpendingRow]
    total: int
    limit: int
    offset: int


@functools.cache
def _list_statements(filters: frozenset[str]) -> tuple[Select[Any], Select[Any]]:
    """The count and page statements for a set of bound filters (built once per set)."""
    conditions = [_C.user_id == bindparam("user_id")]
    for name in sorted(filters):
        if name == "start":
            conditions.append(_C.spent_at >= bindparam("start"))
        elif name == "end":
            conditions.append(_C.spent_at < bindparam("end"))
        else:
            conditions.append(_C[name] == bindparam(name))
    count = select(func.count()).select_from(_TABLE).where(*conditions)
    page = (
        select(*_COLUMNS)
        .where(*conditions)
        .order_by(*_ORDER)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return count, page


def list_spendings(session: Session, user_id: int, query: dict[str, Any]) -> Page:
    """The user's spendings matching a validated :data:`LIST_QUERY`, newest first."""
    filters: dict[str, Any] = {}
    if query.get("from") is not None:
        filters["start"] = dt.datetime.combine(query["from"], dt.time())
    if query.get("to") is not None and query["to"] < dt.date.max:
        filters["end"] = dt.datetime.combine(query["to"] + dt.timedelta(days=1), dt.time())
    for name in ("category", "direction"):
        if query.get(name) is not None:
            filters[name] = query[name]
    count, page = _list_statements(frozenset(filters))
    params = {"user_id": user_id, "limit": query["limit"], "offset": query["offset"], **filters}
    connection = session.connection()
    total = connection.execute(count, params).scalar() or 0
    rows = connection.execute(page, params).all()
    return Page(list(rows), int(total), query["limit"], query["offset"])


@dataclass(frozen=True)
class DayTotal:
    """Money in and out on one day of a month."""

    day: dt.date
    spent: int
    received: int
    count: int


def daily_totals(session: Session, user_id: int, month: dt.date) -> list[DayTotal]:
    """Every day of the month with its totals (days without spendings give zeros)."""
    start, end = month_bounds(month)
    day = extract("day", Spending.spent_at)
    rows = session.execute(
        select(day, Spending.direction, func.sum(Spending.amount), func.count())
        .where(Spending.user_id == user_id, Spending.spent_at >= start, Spending.spent_at < end)
        .group_by(day, Spending.direction)
    )
    sums: dict[int, dict[str, int]] = {}
    for day_number, direction, amount, count in rows:
        entry = sums.setdefault(int(day_number), {"in": 0, "out": 0, "count": 0})
        entry[direction] += int(amount)
        entry["count"] += int(count)
    days = (end - start).days
    return [
        DayTotal(
            day=start.date() + dt.timedelta(days=i),
            spent=sums.get(i + 1, {}).get("out", 0),
            received=sums.get(i + 1, {}).get("in", 0),
            count=sums.get(i + 1, {}).get("count", 0),
        )
        for i in range(days)
    ]


def spending_dict(row: Spending | SpendingRow) -> dict[str, Any]:
    """The JSON form of a stored spending (same body on first write and on replay)."""
    return {
        "id": row.id,
        "spent_at": iso(row.spent_at),
        "amount": row.amount,
        "category": row.category,
        "direction": row.direction,
        "method": row.method,
        "merchant": row.merchant,
        "memo": row.memo,
        "client_txn_id": row.client_txn_id,
        "created_at": iso(row.created_at),
    }
