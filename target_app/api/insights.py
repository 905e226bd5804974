"""API: spending analysis and spending type."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from target_app.api.helpers import query
from target_app.auth import current_user, token_required
from target_app.context import current_type, read_db
from target_app.services import analysis, spending_type, users

bp = Blueprint("api_insights", __name__, url_prefix="/api/v1")


@bp.get("/analysis")
@token_required
def analyse() -> dict[str, Any]:
    """Monthly totals, category shares, weekday/hour patterns and change vs earlier months."""
    month = query(analysis.QUERY).get("month")
    income = users.monthly_income(read_db(), g.user_id)
    return analysis.analyse(read_db(), g.user_id, month, income).as_dict()


@bp.get("/type")
@token_required
def spending_type_view() -> dict[str, Any]:
    """The user's spending type from the model, or ``not_enough_data``."""
    return spending_type.type_dict(read_db(), current_type(current_user()))
