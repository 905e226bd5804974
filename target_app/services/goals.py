"""Savings goals (seed: 목표 설정): create, list, update; progress against total assets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from target_app.models import MAX_AMOUNT, Goal
from target_app.services.common import iso, iso_date, owned
from target_app.validation import Field, Spec

_TITLE = Field(
    "title", required=True, min_length=1, max_length=100, description="e.g. 오천만원 모으기"
)
_TARGET = Field("target_amount", "integer", required=True, minimum=1, maximum=MAX_AMOUNT)
_DEADLINE = Field("deadline", "date", nullable=True)

GOAL_CREATE = Spec((_TITLE, _TARGET, _DEADLINE))
GOAL_UPDATE = Spec((_TITLE, _TARGET, _DEADLINE, Field("achieved", "boolean")))
"""Goal edit: every field optional."""

PRESETS: tuple[tuple[str, int], ...] = (
    ("천만원 모으기", 10_000_000),
    ("삼천만원 모으기", 30_000_000),
    ("오천만원 모으기", 50_000_000),
    ("일억원 모으기", 100_000_000),
    ("삼억원 모으기", 300_000_000),
    ("오억원 모으기", 500_000_000),
)
"""The seed's goal choices, offered on the goal page."""


def list_goals(session: Session, user_id: int) -> list[Goal]:
    """The user's goals, newest first."""
    return list(
        session.scalars(select(Goal).where(Goal.user_id == user_id).order_by(Goal.id.desc()))
    )


def create_goal(session: Session, user_id: int, data: dict[str, Any]) -> Goal:
    """Store a goal from validated :data:`GOAL_CREATE` data."""
    goal = Goal(user_id=user_id, **data)
    session.add(goal)
    session.commit()
    return goal


def update_goal(session: Session, user_id: int, goal_id: int, data: dict[str, Any]) -> Goal:
    """Apply validated :data:`GOAL_UPDATE` data to one of the user's goals (else NotFound)."""
    goal = owned(session, Goal, user_id, goal_id)
    for key, value in data.items():
        setattr(goal, key, value)
    session.commit()
    return goal


def goal_dict(goal: Goal, total_assets: int) -> dict[str, Any]:
    """The JSON form of a goal with its progress (0 to 1) against total assets."""
    progress = min(1.0, max(0.0, total_assets / goal.target_amount))
    return {
        "id": goal.id,
        "title": goal.title,
        "target_amount": goal.target_amount,
        "deadline": iso_date(goal.deadline),
        "achieved": goal.achieved,
        "progress": round(progress, 4),
        "created_at": iso(goal.created_at),
        "updated_at": iso(goal.updated_at),
    }
