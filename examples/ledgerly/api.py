"""Ledgerly's JSON API: sign-up, the cookie session, transfers and the balance.

Errors are always JSON ``{"error": "..."}`` with a 4xx status: 400 for a body that is not
a JSON object or a missing ``Idempotency-Key``, 401 without a session, 403 without the
CSRF token (``security``), 409 for a taken email or a reused key, 413 for a body over
1 MiB, 422 for fields that fail their checks.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from examples.ledgerly import ledger, validation
from examples.ledgerly.db import get_db
from examples.ledgerly.security import (
    api_login_required,
    csrf_token,
    end_session,
    require_user,
    start_session,
)

bp = Blueprint("api", __name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"


class ApiError(Exception):
    """An error answer: the status and the message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Any:
    return jsonify(error=exc.message), exc.status


@bp.errorhandler(validation.InvalidInput)
def _invalid_input(exc: validation.InvalidInput) -> Any:
    return jsonify(error=str(exc)), 422


def json_object() -> dict[str, Any]:
    """The request body as a JSON object (ApiError 400 otherwise; 413 when too large)."""
    try:
        data = request.get_json(force=True, silent=True)
    except RecursionError:  # nested too deeply for the decoder: still the client's error
        data = None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _user_id() -> int:
    return int(require_user()["id"])


@bp.get("/health")
def health() -> Any:
    """Liveness: the app answers."""
    return jsonify(status="ok")


@bp.post("/register")
def register() -> Any:
    """Create an account (201); 409 when the email is taken."""
    form = validation.registration(json_object())
    try:
        user = ledger.create_user(get_db(), form)
    except ledger.EmailTaken:
        raise ApiError(409, "an account with this email exists") from None
    return jsonify(user=user), 201


@bp.post("/session")
def open_session() -> Any:
    """Log in: sets the session cookie and returns the user and the CSRF token."""
    body = json_object()
    user = ledger.authenticate(get_db(), body.get("email"), body.get("password"))
    if user is None:
        raise ApiError(401, "wrong email or password")
    token = start_session(int(user["id"]))
    return jsonify(user=ledger.public_user(user), csrf_token=token)


@bp.delete("/session")
def close_session() -> Any:
    """Log out (204 whether or not a session was open)."""
    end_session()
    return "", 204


@bp.get("/csrf")
def csrf() -> Any:
    """The session's CSRF token (created for an anonymous session too)."""
    return jsonify(csrf_token=csrf_token())


@bp.get("/me")
@api_login_required
def me() -> Any:
    """The logged-in user."""
    return jsonify(user=ledger.public_user(require_user()))


@bp.post("/transfers")
@api_login_required
def add_transfer() -> Any:
    """Record a transfer once per ``Idempotency-Key``: 201 new, 200 replay, 409 reuse."""
    key = validation.idempotency_key(request.headers.get(IDEMPOTENCY_HEADER))
    if key is None:
        raise ApiError(400, f"the {IDEMPOTENCY_HEADER} header (1 to 128 characters) is required")
    transfer = validation.transfer(json_object())
    outcome, record = ledger.record_transfer(get_db(), _user_id(), key, transfer)
    if outcome is ledger.WriteOutcome.CONFLICT:
        raise ApiError(409, f"this {IDEMPOTENCY_HEADER} was used with a different transfer")
    return jsonify(record), 201 if outcome is ledger.WriteOutcome.CREATED else 200


@bp.get("/transfers")
@api_login_required
def transfers() -> Any:
    """A page of transfers, newest first: ``limit``, ``offset``, ``month=YYYY-MM``."""
    query = validation.list_query(request.args)
    items, total = ledger.list_transfers(get_db(), _user_id(), query)
    return jsonify(items=items, total=total, limit=query.limit, offset=query.offset)


@bp.get("/balance")
@api_login_required
def balance() -> Any:
    """The total spent and the number of transfers."""
    return jsonify(ledger.balance(get_db(), _user_id()))
