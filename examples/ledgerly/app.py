"""The Ledgerly application factory.

:func:`create_app` wires the storage (one SQLite connection per request), the cookie
session and its CSRF check, the JSON API and the HTML pages. Errors never leak as HTML
tracebacks: the API answers ``{"error": "..."}`` for every HTTP error (404, 405, 413, …)
and the pages render a small error page. The session secret comes from ``LEDGERLY_SECRET``,
or is random per start (sessions then end when the app restarts).
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from examples.ledgerly import api, pages
from examples.ledgerly.db import close_db, init_db
from examples.ledgerly.security import csrf_token, enforce_csrf

MAX_BODY_BYTES = 1024 * 1024
SECRET_ENV = "LEDGERLY_SECRET"

log = logging.getLogger(__name__)


def create_app(database: str | Path) -> Flask:
    """A Ledgerly app storing its data in the SQLite file ``database`` (tables created).

    Args:
        database: Path of the SQLite file; created with its tables when missing.

    Returns:
        The Flask application.
    """
    app = Flask(__name__)
    app.config.update(
        LEDGERLY_DATABASE=str(database),
        SECRET_KEY=os.environ.get(SECRET_ENV) or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        SESSION_COOKIE_NAME="ledgerly_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    init_db(database)
    app.teardown_appcontext(close_db)
    app.before_request(enforce_csrf)
    app.context_processor(lambda: {"csrf_token": csrf_token})
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _http_error(exc: HTTPException) -> Any:
    """An HTTP error as JSON (API) or as the error page (HTML pages)."""
    status = exc.code or 500
    message = exc.description or exc.name
    if request.blueprint == "pages":
        return render_template("error.html", status=status, message=message), status
    return jsonify(error=message), status


def _unexpected_error(exc: Exception) -> Any:
    """A bug: logged with its traceback, answered as a plain 500."""
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _http_error(InternalServerError("internal error"))
