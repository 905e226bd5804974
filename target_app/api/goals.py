"""API: savings goals."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from target_app.api.helpers import body
from target_app.auth import token_required
from target_app.context import read_db, write_db
from target_app.services import assets, goals

bp = Blueprint("api_goals", __name__, url_prefix="/api/v1/goals")


def _total_assets() -> int:
    return assets.summary(read_db(), g.user_id).total


@bp.get("")
@token_required
def list_all() -> dict[str, Any]:
    """The user's goals with progress against total assets."""
    total = _total_assets()
    return {
        "items": [goals.goal_dict(goal, total) for goal in goals.list_goals(read_db(), g.user_id)]
    }


@bp.post("")
@token_required
def create() -> tuple[dict[str, Any], int]:
    """Create a goal."""
    goal = goals.create_goal(write_db(), g.user_id, body(goals.GOAL_CREATE))
    return goals.goal_dict(goal, _total_assets()), 201


@bp.patch("/<int:goal_id>")
@token_required
def update(goal_id: int) -> dict[str, Any]:
    """Change a goal's title, amount, deadline or achieved flag (404 for another user's)."""
    goal = goals.update_goal(write_db(), g.user_id, goal_id, body(goals.GOAL_UPDATE, partial=True))
    return goals.goal_dict(goal, _total_assets())
