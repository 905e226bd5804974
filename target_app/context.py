"""Per-app and per-request state for views: database sessions, the type model slot.

Each request gets at most two sessions, opened on first use and closed at teardown:
``read_db()`` (deferred transactions; authentication and reads) and ``write_db()``
(``BEGIN IMMEDIATE`` on SQLite). Keeping reads apart means slow work (password hashing,
model prediction) never runs while SQLite's write lock is held.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from target_app.db import Database
from target_app.models import User
from target_app.services import coach, notifications, spending_type
from target_app.services.spending_type import TypeModelSlot

EXTENSION = "monilab"


@dataclass
class AppState:
    """What one app instance holds: its database and its spending-type model slot."""

    db: Database
    type_model: TypeModelSlot


def state() -> AppState:
    """The current app's :class:`AppState`."""
    return current_app.extensions[EXTENSION]


def read_db() -> Session:
    """The request's read session."""
    if "read_session" not in g:
        g.read_session = state().db.read()
    return g.read_session


def write_db() -> Session:
    """The request's write session; opening it ends the read session's snapshot.

    Why: on SQLite a reader that keeps its snapshot across a commit stops the WAL from being
    reset, so the WAL grows without bound and every later commit pays for a checkpoint
    (measured: logins 2x slower in wall time, the WAL at 20 MB after 1,500 requests). The
    read session stays usable; its next query starts a fresh snapshot that sees the write.
    """
    if "write_session" not in g:
        read = g.get("read_session")
        if read is not None:
            read.commit()  # a read-only transaction: nothing to write, objects stay loaded
        g.write_session = state().db.write()
    return g.write_session


def _close_sessions(_exc: BaseException | None) -> None:
    for name in ("write_session", "read_session"):
        session = g.pop(name, None)
        if session is not None:
            session.close()


def init_app(app: Flask, app_state: AppState) -> None:
    """Attach the state to the app and close the request's sessions at teardown."""
    app.extensions[EXTENSION] = app_state
    app.teardown_appcontext(_close_sessions)


def refresh_alerts(user_id: int) -> None:
    """Store the daily anomaly alert if it is due (checked cheaply on the read session).

    With a models directory (``MONILAB_MODELS_DIR``) the trained models' alerts replace the
    IQR rule (:func:`target_app.services.coach.refresh_model_alerts`).
    """
    if coach.refresh_model_alerts(read_db(), write_db, user_id, coach.slot_for(current_app)):
        return
    day = notifications.alert_day(read_db(), user_id)
    if day is not None:
        message = notifications.alert_message(notifications.check_day(read_db(), user_id, day))
        notifications.store_alert(write_db(), user_id, day, message)
        read_db().commit()  # end the read snapshot so the new alert is visible


def current_type(user: User) -> spending_type.TypeResult:
    """Predict the user's type (read session); store it on the user if it changed."""
    result = spending_type.predict(read_db(), user.id, state().type_model)
    if result.code and result.code != user.spending_type_code:
        spending_type.remember(write_db(), user.id, result.code)
    return result
