"""API: notifications (list, mark read); listing first stores a due daily alert."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from target_app.api.helpers import query
from target_app.auth import token_required
from target_app.context import read_db, refresh_alerts, write_db
from target_app.services import notifications

bp = Blueprint("api_notifications", __name__, url_prefix="/api/v1/notifications")


@bp.get("")
@token_required
def list_all() -> dict[str, Any]:
    """The user's notifications, newest first (``?unread=true`` for unread only)."""
    refresh_alerts(g.user_id)
    unread = bool(query(notifications.LIST_QUERY).get("unread"))
    items = notifications.list_notifications(read_db(), g.user_id, unread=unread)
    return {"items": [notifications.notification_dict(note) for note in items]}


@bp.post("/<int:notification_id>/read")
@token_required
def mark_read(notification_id: int) -> dict[str, Any]:
    """Mark a notification read (404 for another user's)."""
    note = notifications.mark_read(write_db(), g.user_id, notification_id)
    return notifications.notification_dict(note)
