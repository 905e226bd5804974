"""Notifications: the daily anomaly alert (seed 5.3, IQR rule), list and mark read.

The app's "today" is the day of the user's latest spending (the simulated clock of the
lab), so the alert is about the day before it ("어제"). For each category, the daily
outflow totals of the previous :data:`HISTORY_DAYS` days give an upper fence
``Q3 + 1.5 IQR``; yesterday's total above the fence is an anomaly. One alert per user,
day and kind: the UNIQUE constraint makes a concurrent second alert fail harmlessly.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from target_app.errors import NotFound
from target_app.models import Notification, Spending, now_kst, table_of
from target_app.services.common import CATEGORY_LABELS, MAX_ID, iso, iso_date
from target_app.services.spendings import OUTFLOWS, latest_spent_at
from target_app.validation import Field, Spec

HISTORY_DAYS = 90
MIN_HISTORY_DAYS = 4
"""Days with spending in a category needed before its fence is trusted."""
OVERSPEND_KRW = 10_000
"""Excess over the fence from which the alert says 과소비 rather than 평소보다 높음."""

LIST_QUERY = Spec((Field("unread", "boolean", description="only unread notifications"),))


@dataclass(frozen=True)
class CategoryCheck:
    """Yesterday's total of one category against its fence."""

    category: str
    total: int
    upper_fence: float

    @property
    def excess(self) -> int:
        """How far above the fence the total is (0 when it is not)."""
        return max(0, round(self.total - self.upper_fence))


_N = Notification.__table__.c
_S = Spending.__table__.c
_COLUMNS = (_N.id, _N.day, _N.kind, _N.message, _N.created_at, _N.read_at)

# Core statements built once (memoized cache keys).
_SENT = select(_N.id).where(
    _N.user_id == bindparam("user_id"), _N.day == bindparam("day"), _N.kind == "anomaly"
)
_OUTFLOWS = select(_S.spent_at, _S.category, _S.amount).where(*OUTFLOWS)
_INSERT = insert(table_of(Notification))
_NEWEST_FIRST = (_N.day.desc(), _N.id.desc())
_LIST = select(*_COLUMNS).where(_N.user_id == bindparam("user_id"))
_LISTS = {
    False: _LIST.order_by(*_NEWEST_FIRST).limit(200),
    True: _LIST.where(_N.read_at.is_(None)).order_by(*_NEWEST_FIRST).limit(200),
}
_OWNED = (_N.id == bindparam("b_id"), _N.user_id == bindparam("b_user_id"))
_MARK_READ = (
    update(table_of(Notification))
    .where(*_OWNED, _N.read_at.is_(None))
    .values(read_at=bindparam("read_at"))
)
_ONE = select(*_COLUMNS).where(*_OWNED)

NotificationRow = Row[*tuple[Any, ...]]
"""A stored notification as read by this module (its attributes are the columns)."""


def alert_day(session: Session, user_id: int) -> dt.date | None:
    """The day the next anomaly alert is about, or None (no spendings, or already sent)."""
    latest = latest_spent_at(session, user_id)
    if latest is None:
        return None
    if latest.date() == dt.date.min:
        return None
    day = latest.date() - dt.timedelta(days=1)
    sent = session.connection().execute(_SENT, {"user_id": user_id, "day": day}).first()
    return None if sent else day


def check_day(session: Session, user_id: int, day: dt.date) -> list[CategoryCheck]:
    """Categories whose outflow on ``day`` is above their upper fence, largest excess first."""
    first = dt.date.fromordinal(max(1, day.toordinal() - HISTORY_DAYS))
    start = dt.datetime.combine(first, dt.time())
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    rows = session.connection().execute(_OUTFLOWS, {"user_id": user_id, "start": start, "end": end})
    daily: dict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for spent_at, category, amount in rows:
        daily[category][spent_at.date()] += int(amount)
    found = []
    for category, per_day in daily.items():
        total = per_day.pop(day, 0)
        history = list(per_day.values())
        if total == 0 or len(history) < MIN_HISTORY_DAYS:
            continue
        q1, _, q3 = statistics.quantiles(history, n=4, method="inclusive")
        fence = q3 + 1.5 * (q3 - q1)
        if total > fence:
            found.append(CategoryCheck(category, total, fence))
    return sorted(found, key=lambda check: check.excess, reverse=True)


def alert_message(checks: list[CategoryCheck]) -> str:
    """The alert text in the seed's style."""
    if not checks:
        return "어제는 충동적인 소비가 없었어요 >,<!"
    top = checks[0]
    label = CATEGORY_LABELS[top.category]
    if top.excess >= OVERSPEND_KRW:
        text = f"어제 {label}에서 {top.excess:,}원만큼 과소비가 발생했어요 T.T"
    else:
        text = f"어제 {label}에서 평소보다 소비가 높았어요"
    if len(checks) > 1:
        text += f" (외 {len(checks) - 1}개 항목)"
    return text


def store_alert(session: Session, user_id: int, day: dt.date, message: str) -> bool:
    """Store the day's anomaly alert; False when another request stored it first.

    Compute ``message`` (:func:`alert_message` of :func:`check_day`) on a read session
    first: on SQLite the write session holds the database's write lock.
    """
    values = {"user_id": user_id, "day": day, "kind": "anomaly", "message": message}
    try:
        session.connection().execute(_INSERT, values)
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def list_notifications(
    session: Session, user_id: int, *, unread: bool = False
) -> list[NotificationRow]:
    """The user's notifications, newest first (at most 200)."""
    return list(session.connection().execute(_LISTS[unread], {"user_id": user_id}))


def mark_read(session: Session, user_id: int, notification_id: int) -> NotificationRow:
    """Mark one of the user's notifications read (idempotent; else NotFound)."""
    if not 0 < notification_id <= MAX_ID:
        raise NotFound(f"notification {notification_id} not found")
    owner = {"b_id": notification_id, "b_user_id": user_id}
    connection = session.connection()
    connection.execute(_MARK_READ, {**owner, "read_at": now_kst()})
    note = connection.execute(_ONE, owner).first()
    session.commit()
    if note is None:
        raise NotFound(f"notification {notification_id} not found")
    return note


def notification_dict(note: Notification | NotificationRow) -> dict[str, Any]:
    """The JSON form of a notification."""
    return {
        "id": note.id,
        "day": iso_date(note.day),
        "kind": note.kind,
        "message": note.message,
        "read": note.read_at is not None,
        "created_at": iso(note.created_at),
        "read_at": iso(note.read_at),
    }
