"""Pages: add a spending, history by month and by day (seed: /spending-history/)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from werkzeug.wrappers import Response

from target_app.auth import login_required
from target_app.context import read_db, write_db
from target_app.models import now_kst
from target_app.pages.helpers import PageResult, form_page, render
from target_app.services import analysis, spendings
from target_app.services.common import add_months
from target_app.validation import parse_date

bp = Blueprint("pages_spendings", __name__)


@bp.route("/spending/new/", methods=["GET", "POST"])
@login_required
def add_spending() -> PageResult:
    """Spending form; a hidden client_txn_id makes a double submit store once."""

    def submit() -> Response:
        data = spendings.SPENDING.parse(request.form, mode="form")
        row, created = spendings.create(write_db(), g.user_id, data)
        flash("소비를 기록했어요." if created else "이미 기록된 소비예요.")
        return redirect(url_for("pages_spendings.history_day", day=row.spent_at.date().isoformat()))

    defaults = {
        "spent_at": now_kst().strftime("%Y-%m-%dT%H:%M"),
        "direction": "out",
        "method": "card",
        "client_txn_id": uuid.uuid4().hex,
    }
    return form_page("spending_new.html", submit, form=defaults)


@bp.get("/spending-history/")
@login_required
def history() -> str:
    """The month's days with money out and in (``?month=YYYY-MM``, default: latest)."""
    asked = analysis.QUERY.parse(request.args, mode="form").get("month")
    month = analysis.reference_month(read_db(), g.user_id, asked)
    days = spendings.daily_totals(read_db(), g.user_id, month)
    return render(
        "history.html",
        days=days,
        month=month,
        total=sum(day.spent for day in days),
        previous=add_months(month, -1),
        following=add_months(month, 1),
    )


@bp.get("/spending-history/<day>/")
@login_required
def history_day(day: str) -> str:
    """Every spending of one day (``YYYY-MM-DD``)."""
    try:
        date = parse_date(day)
    except ValueError:
        abort(404)
    page = spendings.list_spendings(
        read_db(), g.user_id, {"from": date, "to": date, "limit": 500, "offset": 0}
    )
    spent = sum(row.amount for row in page.items if row.direction == "out")
    received = sum(row.amount for row in page.items if row.direction == "in")
    return render("history_day.html", day=date, rows=page.items, spent=spent, received=received)
