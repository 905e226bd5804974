"""Pages: spending analysis, spending type, assets and the model coach."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from target_app.auth import login_required
from target_app.context import current_type, read_db
from target_app.pages.helpers import render
from target_app.services import analysis, assets, coach, spending_type

bp = Blueprint("pages_insights", __name__)


@bp.get("/spending-analysis/")
@login_required
def analysis_page() -> str:
    """Monthly totals, category shares, weekday and hour patterns (``?month=YYYY-MM``)."""
    month = analysis.QUERY.parse(request.args, mode="form").get("month")
    result = analysis.analyse(read_db(), g.user_id, month, g.user.monthly_income)
    peak = max([row["spent"] for row in result.monthly] + [1])
    return render("analysis.html", result=result, peak=peak)


@bp.get("/spending-type/")
@login_required
def type_page() -> str:
    """The user's spending type, or why it is not known yet."""
    kind = spending_type.type_dict(read_db(), current_type(g.user))
    return render("type.html", result=kind, types=spending_type.all_types(read_db()))


@bp.get("/assets/")
@login_required
def assets_page() -> str:
    """Total assets and their composition."""
    summary = assets.summary(read_db(), g.user_id)
    return render("assets.html", assets=summary, accounts=assets.accounts(read_db(), g.user_id))


@bp.get("/coach/")
@login_required
def coach_page() -> str:
    """Recommended products and next week's forecast from the trained models."""
    slot = coach.slot_for(current_app)
    return render(
        "coach.html",
        recs=coach.recommendations(read_db(), g.user_id, slot),
        forecast=coach.forecast(read_db(), g.user_id, slot),
    )
