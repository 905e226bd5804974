"""The user's spending type (seed 5.2), served from a model artifact when one is configured.

Loading interface (what ``analysis`` must ship): a file readable by ``joblib.load`` (a
plain pickle works too) holding an object with

- ``predict_user(spendings: pandas.DataFrame) -> str``: one of
  :data:`monilab.contracts.vocabulary.SPENDING_TYPES`, given one user's spendings as a frame
  with the ``transactions`` columns (see :func:`target_app.frames.transactions_frame`), newest
  :data:`MAX_ROWS` rows at most;
- optionally ``min_spendings: int``: fewer spendings give ``not_enough_data``
  (default :data:`MIN_SPENDINGS`).

The path comes from the app config key ``MONILAB_TYPE_MODEL`` (env of the same name). The
artifact is loaded once per process, on first use. Without a model, or with too few
spendings, the answer is ``{"status": "not_enough_data", "reason": ...}``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from monilab.contracts.vocabulary import SPENDING_TYPES
from target_app.frames import transactions_frame
from target_app.models import Spending, SpendingType, User

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

MIN_SPENDINGS = 30
MAX_ROWS = 5000


class TypeModel(Protocol):
    """What a spending-type artifact must provide."""

    def predict_user(self, spendings: pd.DataFrame) -> str:
        """The spending type code of the user whose spendings these are."""
        ...


def load_type_model(path: str | Path) -> TypeModel:
    """Load an artifact and check it has ``predict_user`` (TypeError otherwise)."""
    import joblib

    model = joblib.load(path)
    if not callable(getattr(model, "predict_user", None)):
        raise TypeError(f"{path}: the object has no predict_user(spendings) method")
    return model


class TypeModelSlot:
    """The configured artifact of one app, loaded lazily and at most once per process."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self._model: TypeModel | None = None
        self._error: str | None = None
        self._lock = threading.Lock()

    def get(self) -> tuple[TypeModel | None, str | None]:
        """The model, or None and the reason it is not available."""
        if self.path is None:
            return None, "no spending type model is configured"
        with self._lock:
            if self._model is None and self._error is None:
                try:
                    self._model = load_type_model(self.path)
                except Exception as exc:  # any unpickling problem: report, do not crash
                    log.exception("cannot load the spending type model %s", self.path)
                    self._error = (
                        f"the spending type model could not be loaded ({type(exc).__name__})"
                    )
        return self._model, self._error


_COUNT = (
    select(func.count())
    .select_from(Spending.__table__)
    .where(Spending.__table__.c.user_id == bindparam("user_id"))
)
"""The user's spending count (a Core statement built once)."""


@dataclass(frozen=True)
class TypeResult:
    """The answer for one user: ``status`` is ``ok`` or ``not_enough_data``."""

    status: str
    spendings: int
    code: str | None = None
    reason: str | None = None
    min_spendings: int | None = None


def predict(session: Session, user_id: int, slot: TypeModelSlot) -> TypeResult:
    """Predict the user's type from their newest spendings, if a model and data allow it."""
    count = session.connection().execute(_COUNT, {"user_id": user_id}).scalar() or 0
    model, reason = slot.get()
    if model is None:
        return TypeResult("not_enough_data", count, reason=reason)
    needed = int(getattr(model, "min_spendings", MIN_SPENDINGS))
    if count < needed:
        return TypeResult(
            "not_enough_data",
            count,
            reason=f"at least {needed} spendings are needed",
            min_spendings=needed,
        )
    rows = session.scalars(
        select(Spending)
        .where(Spending.user_id == user_id)
        .order_by(Spending.spent_at.desc(), Spending.id.desc())
        .limit(MAX_ROWS)
    )
    try:
        code = str(model.predict_user(transactions_frame(rows)))
    except Exception as exc:
        log.exception("the spending type model failed for user %s", user_id)
        return TypeResult(
            "not_enough_data", count, reason=f"the model failed ({type(exc).__name__})"
        )
    if code not in SPENDING_TYPES:
        log.error("the spending type model returned %r, not one of %s", code, SPENDING_TYPES)
        return TypeResult("not_enough_data", count, reason="the model returned an unknown type")
    return TypeResult("ok", count, code=code, min_spendings=needed)


def remember(session: Session, user_id: int, code: str) -> None:
    """Store a predicted type on the user (seed: User N:1 Type)."""
    session.execute(update(User).where(User.id == user_id).values(spending_type_code=code))
    session.commit()


def type_dict(session: Session, result: TypeResult) -> dict[str, Any]:
    """The JSON form, with the type's Korean name and description when there is one."""
    data: dict[str, Any] = {"status": result.status, "spendings": result.spendings}
    if result.code:
        kind = session.get(SpendingType, result.code)
        data.update(
            type=result.code,
            name=kind.name if kind else result.code,
            tagline=kind.tagline if kind else None,
            description=kind.description if kind else None,
        )
    if result.reason:
        data["reason"] = result.reason
    if result.min_spendings is not None:
        data["min_spendings"] = result.min_spendings
    return data


def all_types(session: Session) -> list[SpendingType]:
    """The five spending types in the seed's order."""
    order = {code: index for index, code in enumerate(SPENDING_TYPES)}
    return sorted(session.scalars(select(SpendingType)), key=lambda kind: order[kind.code])
