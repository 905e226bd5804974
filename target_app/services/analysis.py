"""Spending analysis (seed: 소비패턴 분석): monthly totals, category shares, patterns, trend.

Everything is about outflows (``direction = out``) and aggregated in SQL with portable
functions, so SQLite and PostgreSQL give the same numbers. The reference month is the one
asked for, else the month of the user's latest spending (the lab's simulated clock), else
the current month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from target_app.models import Spending, now_kst
from target_app.services.common import (
    CATEGORY_LABELS,
    WEEKDAY_LABELS,
    add_months,
    month_bounds,
)
from target_app.services.spendings import OUTFLOWS, latest_spent_at
from target_app.validation import Field, Spec

MONTHS = 12
PATTERN_MONTHS = 3
"""Months (ending with the reference month) behind the weekday and hour patterns."""

QUERY = Spec((Field("month", "month", description="reference month YYYY-MM"),))


@dataclass(frozen=True)
class Analysis:
    """The analysis of one user around a reference month."""

    month: str
    monthly: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    weekdays: list[dict[str, Any]]
    hours: list[dict[str, Any]]
    change: dict[str, float | None]
    insights: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (its lists already hold plain dicts, so no deep copy)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


_C = Spending.__table__.c
_YEAR, _MONTH = extract("year", _C.spent_at), extract("month", _C.spent_at)
_DOW, _HOUR = extract("dow", _C.spent_at), extract("hour", _C.spent_at)  # dow 0 is Sunday

# Core statements built once (memoized cache keys): outflow sums and counts grouped in SQL.
_BY_MONTH = (
    select(_YEAR, _MONTH, func.sum(_C.amount), func.count())
    .where(*OUTFLOWS)
    .group_by(_YEAR, _MONTH)
)
_BY_CATEGORY = select(_C.category, func.sum(_C.amount)).where(*OUTFLOWS).group_by(_C.category)
_BY_DOW_HOUR = (
    select(_DOW, _HOUR, func.sum(_C.amount), func.count()).where(*OUTFLOWS).group_by(_DOW, _HOUR)
)


def reference_month(session: Session, user_id: int, month: dt.date | None) -> dt.date:
    """The month asked for, else that of the latest spending, else this month."""
    if month is not None:
        return month
    when = latest_spent_at(session, user_id) or now_kst()
    return dt.date(when.year, when.month, 1)


def _percent_change(now: int, before: float) -> float | None:
    return None if before <= 0 else round((now - before) / before * 100, 1)


def analyse(
    session: Session, user_id: int, month: dt.date | None = None, monthly_income: int | None = None
) -> Analysis:
    """Compute the analysis (see the module docstring)."""
    ref = reference_month(session, user_id, month)
    connection = session.connection()
    first = add_months(ref, -(MONTHS - 1))
    start, end = month_bounds(first)[0], month_bounds(ref)[1]
    window = {"user_id": user_id, "start": start, "end": end}
    totals = {
        (int(y), int(m)): (int(amount), int(count))
        for y, m, amount, count in connection.execute(_BY_MONTH, window)
    }
    months = [add_months(first, i) for i in range(MONTHS)]
    monthly: list[dict[str, Any]] = [
        {
            "month": f"{m.year:04d}-{m.month:02d}",
            "spent": totals.get((m.year, m.month), (0, 0))[0],
            "count": totals.get((m.year, m.month), (0, 0))[1],
        }
        for m in months
    ]

    ref_start, ref_end = month_bounds(ref)
    by_category = connection.execute(
        _BY_CATEGORY, {"user_id": user_id, "start": ref_start, "end": ref_end}
    ).all()
    ref_total = sum(int(amount) for _, amount in by_category)
    categories = sorted(
        (
            {
                "category": category,
                "label": CATEGORY_LABELS[category],
                "spent": int(amount),
                "share": round(int(amount) / ref_total, 4) if ref_total else 0.0,
            }
            for category, amount in by_category
        ),
        key=lambda row: (-row["spent"], row["category"]),
    )

    pattern_start = month_bounds(add_months(ref, -(PATTERN_MONTHS - 1)))[0]
    by_dow, by_hour = _patterns(connection, user_id, pattern_start, ref_end)
    monday_first = [(day, by_dow[(day + 1) % 7]) for day in range(7)]
    weekdays = [
        {"weekday": day, "label": WEEKDAY_LABELS[day], **sums} for day, sums in monday_first
    ]
    hours = [{"hour": hour, **by_hour[hour]} for hour in range(24)]

    spent = [row["spent"] for row in monthly]
    previous = spent[-2] if len(spent) > 1 else 0
    prior = spent[-1 - PATTERN_MONTHS : -1]
    change = {
        "vs_previous_month_pct": _percent_change(spent[-1], previous),
        "vs_previous_3_months_avg_pct": _percent_change(spent[-1], sum(prior) / len(prior)),
    }
    analysis = Analysis(
        month=f"{ref.year:04d}-{ref.month:02d}",
        monthly=monthly,
        categories=categories,
        weekdays=weekdays,
        hours=hours,
        change=change,
    )
    analysis.insights.extend(_insights(analysis, monthly_income))
    return analysis


def _patterns(
    connection: Any, user_id: int, start: dt.datetime, end: dt.datetime
) -> tuple[list[dict[str, int]], list[dict[str, int]]]:
    """Outflow sum and count per weekday (0 is Sunday) and per hour, from one grouped query."""
    dow = [[0, 0] for _ in range(7)]
    hour = [[0, 0] for _ in range(24)]
    params = {"user_id": user_id, "start": start, "end": end}
    for d, h, amount, count in connection.execute(_BY_DOW_HOUR, params):
        for slot in (dow[int(d)], hour[int(h)]):
            slot[0] += int(amount)
            slot[1] += int(count)
    return (
        [{"spent": spent, "count": count} for spent, count in dow],
        [{"spent": spent, "count": count} for spent, count in hour],
    )


def _insights(analysis: Analysis, monthly_income: int | None) -> list[str]:
    """Short Korean sentences in the style of the seed's report."""
    lines = []
    active = [row["spent"] for row in analysis.monthly if row["spent"]]
    if not active:
        return ["아직 분석할 소비 내역이 없어요. 소비를 기록해 보세요!"]
    average = sum(active) // len(active)
    lines.append(f"월 평균 지출은 {average:,}원 수준이에요.")
    if monthly_income:
        lines.append(f"수입의 {round(average / monthly_income * 100)}%를 소비에 사용 중이에요.")
    if analysis.categories:
        top = analysis.categories[0]
        lines.append(
            f"이번 달은 {top['label']} 지출 비중이 {round(top['share'] * 100)}%로 가장 커요."
        )
    change = analysis.change["vs_previous_month_pct"]
    if change is not None and change != 0:
        direction = "늘었어요" if change > 0 else "줄었어요"
        lines.append(f"지난달보다 지출이 {abs(change):g}% {direction}.")
    busiest = max(analysis.weekdays, key=lambda row: row["spent"])
    if busiest["spent"]:
        lines.append(f"{busiest['label']}요일에 지출이 가장 많아요.")
    return lines
