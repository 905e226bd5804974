"""Pages: goal setting (seed: /goal/set/)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for
from werkzeug.wrappers import Response

from target_app.auth import login_required
from target_app.context import read_db, write_db
from target_app.pages.helpers import PageResult, form_page
from target_app.services import assets, goals

bp = Blueprint("pages_goals", __name__)


@bp.route("/goal/set/", methods=["GET", "POST"])
@login_required
def set_goal() -> PageResult:
    """Pick a preset or write a goal; the list below shows progress."""

    def submit() -> Response:
        goals.create_goal(write_db(), g.user_id, goals.GOAL_CREATE.parse(request.form, mode="form"))
        flash("목표를 저장했어요.")
        return redirect(url_for("pages_goals.set_goal"))

    total = assets.summary(read_db(), g.user_id).total
    return form_page(
        "goals.html",
        submit,
        goals=[goals.goal_dict(goal, total) for goal in goals.list_goals(read_db(), g.user_id)],
        presets=goals.PRESETS,
    )


@bp.post("/goal/<int:goal_id>/achieved/")
@login_required
def mark_achieved(goal_id: int) -> Response:
    """Mark a goal achieved."""
    goals.update_goal(write_db(), g.user_id, goal_id, {"achieved": True})
    flash("목표 달성을 축하해요!")
    return redirect(url_for("pages_goals.set_goal"))
