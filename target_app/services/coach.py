"""Model-driven coaching: product recommendations, next week's forecast and the model's daily
alerts, served from ``monilab train``'s artifacts when ``MONILAB_MODELS_DIR`` is configured.

Loading interface (what ``analysis`` ships in the models directory, read with ``joblib``):

- ``recommendations.joblib``: ``recommend_user(spendings, spending_type) -> list[dict]``
  (``product``, ``kind``, ``kind_label``, ``score``, ``reason``) and ``min_spendings``;
- ``alerts.joblib``: ``anomaly_alert(spendings, day) -> dict`` (``message``) and
  ``forecast_alert(spendings) -> dict`` (``status``, ``overrun_probability``, ``message``,
  ``categories`` …).

``spendings`` is one user's frame in the ``transactions`` columns
(:func:`target_app.frames.transactions_frame`), newest :data:`MAX_ROWS` at most. Each
artifact is loaded once per process, on first use; a missing or broken artifact answers
``not_configured`` with the reason, never a 500.

Notifications: with an alerts artifact, the daily anomaly alert (kind ``anomaly``, about the
day before the user's latest spending) takes the model's message instead of the IQR rule's,
and a ``forecast`` notification (next week's overrun probability) is stored for the day of
the latest spending. Both keep the app's rule: at most one per user, day and kind.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from target_app.frames import transactions_frame
from target_app.models import Notification, Spending, User
from target_app.services import notifications

log = logging.getLogger(__name__)

MAX_ROWS = 5000
ARTIFACTS = ("recommendations", "alerts")
EXTENSION = "monilab_models"
_CREATE_LOCK = threading.Lock()


class ModelsSlot:
    """The artifacts of one models directory, each loaded lazily and at most once."""

    def __init__(self, directory: str | Path | None) -> None:
        self.directory = Path(directory) if directory else None
        self._loaded: dict[str, Any] = {}
        self._errors: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        """True when a models directory is configured."""
        return self.directory is not None

    def get(self, name: str) -> tuple[Any | None, str | None]:
        """The artifact ``<name>.joblib``, or None and the reason it is not available."""
        if self.directory is None:
            return None, "no models directory is configured (MONILAB_MODELS_DIR)"
        with self._lock:
            if name not in self._loaded and name not in self._errors:
                path = self.directory / f"{name}.joblib"
                try:
                    import joblib

                    self._loaded[name] = joblib.load(path)
                except FileNotFoundError:
                    self._errors[name] = f"the models directory has no {name}.joblib"
                except Exception as exc:  # any unpickling problem: report, do not crash
                    log.exception("cannot load the model artifact %s", path)
                    self._errors[name] = f"{name}.joblib could not be loaded ({type(exc).__name__})"
        return self._loaded.get(name), self._errors.get(name)


def slot_for(app: Flask) -> ModelsSlot:
    """The app's :class:`ModelsSlot` (created on first use from ``MONILAB_MODELS_DIR``)."""
    slot = app.extensions.get(EXTENSION)
    if slot is None:
        with _CREATE_LOCK:
            slot = app.extensions.setdefault(
                EXTENSION, ModelsSlot(app.config.get("MONILAB_MODELS_DIR"))
            )
    return slot


def spendings_frame(session: Session, user_id: int) -> Any:
    """The user's newest spendings as a ``transactions`` frame, oldest first."""
    rows = session.scalars(
        select(Spending)
        .where(Spending.user_id == user_id)
        .order_by(Spending.spent_at.desc(), Spending.id.desc())
        .limit(MAX_ROWS)
    )
    return transactions_frame(rows).sort_values(["ts", "txn_id"]).reset_index(drop=True)


def _count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).where(Spending.user_id == user_id)) or 0


def recommendations(session: Session, user_id: int, slot: ModelsSlot) -> dict[str, Any]:
    """Recommended products: ``status`` ok, not_enough_data or not_configured.

    The user's stored spending type (set when the type model last answered) picks the
    seed's savings rule for YOLO users.
    """
    model, reason = slot.get("recommendations")
    count = _count(session, user_id)
    answer: dict[str, Any] = {"status": "ok", "spendings": count, "items": []}
    if model is None:
        return {**answer, "status": "not_configured", "reason": reason}
    needed = int(getattr(model, "min_spendings", 30))
    if count < needed:
        reason = f"at least {needed} spendings are needed"
        return {**answer, "status": "not_enough_data", "reason": reason}
    spending_type = session.scalar(select(User.spending_type_code).where(User.id == user_id))
    try:
        items = model.recommend_user(spendings_frame(session, user_id), spending_type)
    except Exception as exc:
        log.exception("the recommendation model failed for user %s", user_id)
        return {**answer, "status": "not_enough_data", "reason": f"model failed ({exc!r})"[:200]}
    return {**answer, "spending_type": spending_type, "items": items}


def forecast(session: Session, user_id: int, slot: ModelsSlot) -> dict[str, Any]:
    """Next week's forecast and overrun probability (``status`` as for recommendations)."""
    model, reason = slot.get("alerts")
    if model is None:
        return {"status": "not_configured", "reason": reason}
    if _count(session, user_id) == 0:
        return {"status": "not_enough_data", "reason": "no spendings yet"}
    try:
        result = dict(model.forecast_alert(spendings_frame(session, user_id)))
    except Exception as exc:
        log.exception("the forecast model failed for user %s", user_id)
        return {"status": "not_enough_data", "reason": f"model failed ({exc!r})"[:200]}
    if result.get("status") != "ok":
        days = result.get("min_history_days", 90)
        return {"status": "not_enough_data", "reason": f"at least {days} days of history"}
    return result


def _stored(session: Session, user_id: int, day: dt.date, kind: str) -> bool:
    return (
        session.scalar(
            select(Notification.id).where(
                Notification.user_id == user_id, Notification.day == day, Notification.kind == kind
            )
        )
        is not None
    )


def refresh_model_alerts(
    read: Session, write: Callable[[], Session], user_id: int, slot: ModelsSlot
) -> bool:
    """Store the model's due alerts (anomaly about yesterday, today's forecast).

    Computes on the ``read`` session and opens the write session only to store. Returns
    False when no alerts artifact is available (the caller then uses the IQR rule).
    """
    model, _ = slot.get("alerts")
    if model is None:
        return False
    first, latest = read.execute(
        select(func.min(Spending.spent_at), func.max(Spending.spent_at)).where(
            Spending.user_id == user_id
        )
    ).one()
    if latest is None:
        return True
    today = latest.date()
    anomaly_day = notifications.alert_day(read, user_id)
    history = (latest - first).days >= int(getattr(model, "min_history_days", 90))
    want_forecast = history and not _stored(read, user_id, today, "forecast")
    if anomaly_day is None and not want_forecast:
        return True
    frame = spendings_frame(read, user_id)
    due: list[tuple[dt.date, str, str]] = []
    try:
        if anomaly_day is not None:
            alert = model.anomaly_alert(frame, anomaly_day)
            due.append((anomaly_day, "anomaly", str(alert["message"])))
        if want_forecast:
            result = model.forecast_alert(frame)
            if result.get("status") == "ok":
                due.append((today, "forecast", str(result["message"])))
    except Exception:
        log.exception("the alerts model failed for user %s; falling back to the IQR rule", user_id)
        return False
    read.commit()  # end the read snapshot before writing
    for day, kind, message in due:
        if kind == "anomaly":
            notifications.store_alert(write(), user_id, day, message[:500])
        else:
            store_forecast(write(), user_id, day, message[:500])
    return True


def store_forecast(session: Session, user_id: int, day: dt.date, message: str) -> None:
    """Store the day's forecast notification (a concurrent duplicate fails harmlessly)."""
    session.add(Notification(user_id=user_id, day=day, kind="forecast", message=message))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
