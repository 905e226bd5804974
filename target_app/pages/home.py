"""Pages: home dashboard and mydata start."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for
from werkzeug.wrappers import Response

from target_app.auth import login_required
from target_app.context import current_type, read_db, refresh_alerts, write_db
from target_app.pages.helpers import PageResult, form_page, render
from target_app.services import analysis, assets, goals, notifications, spending_type, spendings

bp = Blueprint("pages_home", __name__)


@bp.get("/")
@login_required
def home() -> str:
    """Dashboard: latest alert, type, goal, total assets, this month and recent spendings."""
    db = read_db()
    refresh_alerts(g.user_id)
    summary = assets.summary(db, g.user_id)
    alerts = notifications.list_notifications(db, g.user_id, unread=True)
    month = analysis.reference_month(db, g.user_id, None)
    recent = spendings.list_spendings(db, g.user_id, {"limit": 5, "offset": 0}).items
    this_month = sum(day.spent for day in spendings.daily_totals(db, g.user_id, month))
    goal_list = goals.list_goals(db, g.user_id)
    kind = spending_type.type_dict(db, current_type(g.user))
    return render(
        "home.html",
        assets=summary,
        alert=alerts[0] if alerts else None,
        month=month,
        month_spent=this_month,
        recent=recent,
        goal=goal_list[0] if goal_list else None,
        spending_type=kind,
    )


@bp.route("/mydata/start/", methods=["GET", "POST"])
@login_required
def mydata_start() -> PageResult:
    """Link the (virtual) accounts with an opening balance; idempotent."""

    def submit() -> Response:
        data = assets.MYDATA_START.parse(request.form, mode="form")
        _, created = assets.start_mydata(write_db(), g.user_id, data)
        flash("마이데이터를 연결했어요." if created else "이미 연결된 마이데이터예요.")
        return redirect(url_for("pages_home.home"))

    linked = assets.accounts(read_db(), g.user_id)
    return form_page("mydata_start.html", submit, accounts=linked)
