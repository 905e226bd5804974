"""Small helpers the services share: output formats, id checks, 'this month'."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from target_app.errors import NotFound
from target_app.models import KST, Base

MAX_ID = 2_147_483_647
"""Largest id a path may name (32-bit primary keys); larger ones are simply not found."""

ModelT = TypeVar("ModelT", bound=Base)


def iso(value: dt.datetime | None) -> str | None:
    """A stored (naive KST) timestamp as RFC 3339 text with the +09:00 offset."""
    return None if value is None else value.replace(tzinfo=KST).isoformat()


def iso_date(value: dt.date | None) -> str | None:
    """A date as ``YYYY-MM-DD``."""
    return None if value is None else value.isoformat()


def owned(session: Session, model: type[ModelT], user_id: int, row_id: int) -> ModelT:
    """The row of ``model`` with this id if it belongs to the user, else NotFound.

    Another user's row and a missing row give the same answer, so ids leak nothing.
    """
    name = model.__name__.lower()
    if not 0 < row_id <= MAX_ID:
        raise NotFound(f"{name} {row_id} not found")
    row = session.scalars(
        select(model).where(model.id == row_id, model.user_id == user_id)  # type: ignore[attr-defined]
    ).first()
    if row is None:
        raise NotFound(f"{name} {row_id} not found")
    return row


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Start (inclusive) and end (exclusive) timestamps of the month containing ``month``.

    The end of December 9999 is ``datetime.max`` (the calendar ends there).
    """
    start = dt.datetime(month.year, month.month, 1)
    if month.year == dt.MAXYEAR and month.month == 12:
        return start, dt.datetime.max
    end = dt.datetime(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return start, end


def add_months(month: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months after (or before) ``month``.

    Clamped to the calendar Python knows (January of year 1 to December of 9999).
    """
    index = month.year * 12 + month.month - 1 + count
    index = min(max(index, dt.MINYEAR * 12), dt.MAXYEAR * 12 + 11)
    return dt.date(index // 12, index % 12 + 1, 1)


CATEGORY_LABELS: dict[str, str] = {
    "food": "식비",
    "coffee": "카페",
    "shopping": "쇼핑",
    "transport": "교통",
    "living": "생활",
    "health": "건강",
    "beauty": "뷰티",
    "entertainment": "문화·여가",
    "education": "교육",
    "travel": "여행",
    "savings": "저축",
    "investment": "투자",
    "transfer": "이체",
    "income": "수입",
    "etc": "기타",
}
"""Korean labels of :data:`monilab.contracts.vocabulary.CATEGORIES` for pages and messages."""

METHOD_LABELS: dict[str, str] = {
    "card": "카드",
    "transfer": "계좌이체",
    "auto_debit": "자동이체",
    "cash": "현금",
}
"""Korean labels of :data:`monilab.contracts.vocabulary.METHODS`."""

WEEKDAY_LABELS: tuple[str, ...] = ("월", "화", "수", "목", "금", "토", "일")
"""Korean weekday names, Monday first."""
