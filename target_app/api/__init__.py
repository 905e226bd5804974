"""The JSON API under ``/api/v1``: blueprints, CSRF exemption and JSON error answers.

Every error under ``/api`` is JSON ``{"error": "...", "field": ...}``: refusals of the
service layer (4xx with the field at fault), routing errors (404, 405 with ``Allow``),
too-large bodies (413), a busy or unreachable database (503 with ``Retry-After``) and,
should one happen, an unexpected failure (500, logged).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response as WerkzeugResponse

from target_app.api import (
    assets,
    auth,
    coach,
    goals,
    insights,
    meta,
    notifications,
    profile,
    spendings,
)
from target_app.errors import AppError

log = logging.getLogger(__name__)

BLUEPRINTS = (
    auth.bp,
    assets.bp,
    spendings.bp,
    insights.bp,
    coach.bp,
    goals.bp,
    notifications.bp,
    profile.bp,
    meta.bp,
)


def wants_json() -> bool:
    """True for API and health-check requests, whose errors are JSON."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_json(status: int, message: str, field: str | None = None) -> Response:
    """A JSON error response."""
    response = jsonify({"error": message, "field": field})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _http_error(exc: HTTPException) -> WerkzeugResponse | HTTPException:
    if not wants_json():
        return exc
    response = exc.get_response()
    body = error_json(exc.code or 500, exc.description or exc.name)
    response.set_data(body.get_data())
    response.content_type = "application/json"
    return response


def _database_unavailable(exc: OperationalError) -> Response | tuple[str, int]:
    """SQLite busy past its timeout, or PostgreSQL unreachable: 503, worth a retry."""
    log.warning("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
    if not wants_json():
        return "데이터베이스가 잠시 바빠요. 잠시 후 다시 시도해 주세요.", 503
    response = error_json(503, "the database is busy or unavailable; retry")
    response.headers["Retry-After"] = "1"
    return response


def _unexpected(exc: Exception) -> Response | HTTPException:
    log.exception("unexpected error on %s %s", request.method, request.path)
    if not wants_json():
        return InternalServerError()
    return error_json(500, "internal server error")


def register_api(app: Flask, csrf: CSRFProtect) -> None:
    """Register the API blueprints (CSRF-exempt: they authenticate by token) and handlers."""
    for blueprint in BLUEPRINTS:
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(Exception, _unexpected)


def app_error_json(exc: AppError) -> Response:
    """The JSON answer to a service-layer refusal."""
    return error_json(exc.status, exc.message, exc.field)
