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

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from target_app.models import Notification, Spending, now_kst
from target_app.services.common import CATEGORY_LABELS, iso, iso_date, owned
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


def alert_day(session: Session, user_id: int) -> dt.date | None:
    """The day the next anomaly alert is about, or None (no spendings, or already sent)."""
    latest = session.scalar(select(func.max(Spending.spent_at)).where(Spending.user_id == user_id))
    if latest is None:
        return None
    if latest.date() == dt.date.min:
        return None
    day = latest.date() - dt.timedelta(days=1)
    sent = session.scalar(
        select(Notification.id).where(
            Notification.user_id == user_id, Notification.day == day, Notification.kind == "anomaly"
        )
    )
    return None if sent else day


def check_day(session: Session, user_id: int, day: dt.date) -> list[CategoryCheck]:
    """Categories whose outflow on ``day`` is above their upper fence, largest excess first."""
    first = dt.date.fromordinal(max(1, day.toordinal() - HISTORY_DAYS))
    start = dt.datetime.combine(first, dt.time())
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    rows = session.execute(
        select(Spending.spent_at, Spending.category, Spending.amount).where(
            Spending.user_id == user_id,
            Spending.direction == "out",
            Spending.spent_at >= start,
            Spending.spent_at < end,
        )
    )
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


def store_alert(session: Session, user_id: int, day: dt.date, message: str) -> Notification | None:
    """Store the day's anomaly alert; None when another request stored it first.

    Compute ``message`` (:func:`alert_message` of :func:`check_day`) on a read session
    first: on SQLite the write session holds the database's write lock.
    """
    alert = Notification(user_id=user_id, day=day, kind="anomaly", message=message)
    session.add(alert)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return alert


def list_notifications(
    session: Session, user_id: int, *, unread: bool = False
) -> list[Notification]:
    """The user's notifications, newest first (at most 200)."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return list(
        session.scalars(query.order_by(Notification.day.desc(), Notification.id.desc()).limit(200))
    )


def mark_read(session: Session, user_id: int, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (idempotent; else NotFound)."""
    note = owned(session, Notification, user_id, notification_id)
    if note.read_at is None:
        note.read_at = now_kst()
    session.commit()
    return note


def notification_dict(note: Notification) -> dict[str, Any]:
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
