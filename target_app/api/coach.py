"""API: product recommendations and next week's forecast from the trained models."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g

from target_app.auth import token_required
from target_app.context import read_db
from target_app.services import coach

bp = Blueprint("api_coach", __name__, url_prefix="/api/v1")


@bp.get("/recommendations")
@token_required
def recommendations() -> dict[str, Any]:
    """Financial products similar users hold (savings products for YOLO users)."""
    slot = coach.slot_for(current_app)
    return coach.recommendations(read_db(), g.user_id, slot)


@bp.get("/forecast")
@token_required
def forecast() -> dict[str, Any]:
    """Next week's spend per category and the probability of going over the weekly budget."""
    return coach.forecast(read_db(), g.user_id, coach.slot_for(current_app))
