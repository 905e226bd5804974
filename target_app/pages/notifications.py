"""Pages: notification list and mark read."""

from __future__ import annotations

from flask import Blueprint, g, redirect, url_for
from werkzeug.wrappers import Response

from target_app.auth import login_required
from target_app.context import read_db, refresh_alerts, write_db
from target_app.pages.helpers import render
from target_app.services import notifications

bp = Blueprint("pages_notifications", __name__)


@bp.get("/notifications/")
@login_required
def list_page() -> str:
    """Every notification, newest first."""
    refresh_alerts(g.user_id)
    return render(
        "notifications.html", items=notifications.list_notifications(read_db(), g.user_id)
    )


@bp.post("/notifications/<int:notification_id>/read/")
@login_required
def mark_read(notification_id: int) -> Response:
    """Mark one notification read."""
    notifications.mark_read(write_db(), g.user_id, notification_id)
    return redirect(url_for("pages_notifications.list_page"))
