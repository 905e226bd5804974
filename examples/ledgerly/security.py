"""Cookie sessions and their CSRF token.

Flask's signed session cookie holds the user id and a random CSRF token. Every
state-changing request of a logged-in user must echo the token, in the ``X-CSRF-Token``
header (JSON clients) or the ``csrf_token`` form field (HTML forms); a cross-site page can
make the browser send the cookie but cannot read the token. Sign-up and ``POST /session``
are exempt (there is no session yet); the HTML login form is checked against the token of
the anonymous session that rendered it. Logging in starts a fresh session with a new token.
"""

from __future__ import annotations

import hmac
import secrets
import sqlite3
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, jsonify, redirect, render_template, request, session, url_for
from werkzeug.exceptions import Unauthorized

from examples.ledgerly.db import get_db
from examples.ledgerly.ledger import user_by_id

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
CSRF_ERROR = "CSRF token missing or wrong"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT_ENDPOINTS = frozenset({"api.register", "api.open_session"})
ANONYMOUS_CHECKED = frozenset({"pages.login"})
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def csrf_token() -> str:
    """This session's CSRF token, created on first use."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return str(session[CSRF_FIELD])


def start_session(user_id: int) -> str:
    """Log the user in on a fresh session; returns its new CSRF token."""
    session.clear()
    session["user_id"] = user_id
    return csrf_token()


def end_session() -> None:
    """Log out: forget the user and the token."""
    session.clear()


def current_user() -> sqlite3.Row | None:
    """The logged-in user (cached for the request), or None."""
    if "ledgerly_user" not in g:
        user_id = session.get("user_id")
        g.ledgerly_user = user_by_id(get_db(), user_id) if isinstance(user_id, int) else None
    return g.ledgerly_user


def require_user() -> sqlite3.Row:
    """The logged-in user (``Unauthorized``, a 401, when there is none)."""
    user = current_user()
    if user is None:
        raise Unauthorized("log in first (POST /session)")
    return user


def _sent_token() -> str:
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.mimetype in _FORM_TYPES:
        sent = request.form.get(CSRF_FIELD)
    return sent or ""


def enforce_csrf() -> Any:
    """A ``before_request`` hook: 403 when a state-changing request lacks the token."""
    endpoint = request.endpoint
    if request.method not in STATE_CHANGING or endpoint is None or endpoint in EXEMPT_ENDPOINTS:
        return None
    if "user_id" not in session and endpoint not in ANONYMOUS_CHECKED:
        return None
    expected = session.get(CSRF_FIELD)
    if isinstance(expected, str) and hmac.compare_digest(_sent_token(), expected):
        return None
    if request.blueprint == "pages":
        return render_template("error.html", status=403, message=CSRF_ERROR), 403
    return jsonify(error=CSRF_ERROR), 403


def api_login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """A JSON view for logged-in users only (401 JSON otherwise)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return jsonify(error="log in first (POST /session)"), 401
        return view(*args, **kwargs)

    return wrapper


def page_login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """An HTML view for logged-in users only (a redirect to the login page otherwise)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("pages.login"))
        return view(*args, **kwargs)

    return wrapper
