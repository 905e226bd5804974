"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, make_response, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect

from target_app import bodylimit, headers, requestlog, throttle
from target_app.api import app_error_json, register_api, wants_json
from target_app.config import build_config
from target_app.context import AppState, init_app
from target_app.db import Database, init_db
from target_app.errors import AppError
from target_app.pages import app_error_page, register_pages
from target_app.services.spending_type import TypeModelSlot

log = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create a Moni app.

    Args:
        test_config: Config values that override the defaults and the environment (see
            :mod:`target_app.config`), e.g. ``{"DATABASE_URL": ..., "SECRET_KEY": ...}``.
            ``REQUEST_LOG_DIR: None`` turns the request log off; ``CREATE_TABLES: False``
            skips ``create_all``.

    Returns:
        The Flask app, its tables created and its request log installed.
    """
    app = Flask(__name__)
    app.config.from_mapping(build_config(test_config))
    app.json.sort_keys = False  # type: ignore[attr-defined]

    db = Database.connect(app.config["DATABASE_URL"], pool_size=app.config["DB_POOL_SIZE"])
    if app.config["CREATE_TABLES"]:
        init_db(db)
    init_app(app, AppState(db=db, type_model=TypeModelSlot(app.config["MONILAB_TYPE_MODEL"])))

    if app.config.get("REQUEST_LOG_DIR"):
        request_log = requestlog.RequestLog(Path(app.config["REQUEST_LOG_DIR"]))
        app.extensions["monilab_request_log"] = request_log
        requestlog.install(app, request_log)  # first, so its clock starts before CSRF checks

    app.extensions["monilab_login_throttle"] = throttle.LoginThrottle(
        app.config["LOGIN_FAILURES"],
        app.config["LOGIN_FAILURES_PER_ADDRESS"],
        app.config["LOGIN_WINDOW_S"],
    )
    throttle.configure_hashing(app.config["HASH_SLOTS"], app.config["HASH_WAIT_S"])
    headers.install(app)
    bodylimit.install(app)  # before CSRF: it reads form bodies
    csrf = CSRFProtect(app)
    register_api(app, csrf)
    register_pages(app)

    @app.errorhandler(AppError)
    def _app_error(exc: AppError) -> Response:
        answer = make_response(app_error_json(exc) if wants_json() else app_error_page(exc))
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            answer.headers["Retry-After"] = str(retry_after)
        return answer

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> tuple[str, int]:
        message = "보안 토큰이 만료되었어요. 페이지를 새로고침한 뒤 다시 시도해 주세요."
        error = AppError(message, "csrf_token", status=400)
        return render_template("error.html", error=error), 400

    return app
