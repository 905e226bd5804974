"""Who is asking: bearer tokens for the JSON API, the login session for the HTML pages.

Both set ``g.user_id`` (also written to the request log); pages also set ``g.user`` (the
:class:`~target_app.models.User`), API views load it on demand with :func:`current_user`.
The API answers 401 JSON without a valid token; pages redirect to the login page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for

from target_app.context import read_db, write_db
from target_app.errors import Unauthorized
from target_app.models import User
from target_app.services import users

F = TypeVar("F", bound=Callable[..., Any])

SESSION_KEY = "user_id"
VERSION_KEY = "v"
"""The user's ``session_version`` when the page session started (checked on every page)."""


def set_user(user: User) -> None:
    """Make ``user`` the request's user (and the request log's ``user_id``)."""
    g.user = user
    g.user_id = user.id


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def token_required(view: F) -> F:
    """API views: require a valid bearer token (401 JSON otherwise).

    Sets ``g.user_id`` only; views that need the whole user call :func:`current_user`.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        user_id = users.user_id_for_token(read_db(), token) if token else None
        if user_id is None:
            raise Unauthorized("a valid bearer token is required (POST /api/v1/auth/login)")
        g.user_id = user_id
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_user() -> User:
    """The request's user, loaded on first use after :func:`token_required` (or a login)."""
    user = g.get("user")
    if user is None:
        user = users.get_user(read_db(), g.user_id)
        if user is None:
            raise Unauthorized("the user no longer exists")
        g.user = user
    return user


def session_user() -> User | None:
    """The user logged in to the HTML pages, or None (also when the session was ended on the
    server: a logout or password change since the session started)."""
    user_id = session.get(SESSION_KEY)
    if not isinstance(user_id, int):
        return None
    user = users.get_user(read_db(), user_id)
    if user is None or session.get(VERSION_KEY) != user.session_version:
        session.clear()
        return None
    set_user(user)
    return user


def login_required(view: F) -> F:
    """Page views: require a logged-in session (redirect to the login page otherwise)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if session_user() is None:
            return redirect(url_for("pages_auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def authenticate(email: str, password: str) -> User:
    """The user with this email and password, through the login throttle (429 with
    ``Retry-After`` after too many failures for the account or the client address)."""
    guard = current_app.extensions["monilab_login_throttle"]
    address = request.remote_addr or "unknown"
    guard.check(email, address)
    try:
        user = users.authenticate(read_db(), email, password)
    except Unauthorized:
        guard.failed(email, address)
        raise
    guard.succeeded(email)
    return user


def log_in(user: User, version: int | None = None) -> None:
    """Start a fresh page session for ``user`` (bounded by ``PERMANENT_SESSION_LIFETIME``)."""
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = user.id
    session[VERSION_KEY] = user.session_version if version is None else version
    set_user(user)


def log_out() -> None:
    """End the page session, on the server too (a copied cookie stops working)."""
    user_id = session.get(SESSION_KEY)
    if isinstance(user_id, int) and session.get(VERSION_KEY) is not None:
        current = users.get_user(read_db(), user_id)
        if current is not None and current.session_version == session.get(VERSION_KEY):
            users.end_page_sessions(write_db(), user_id)
    session.clear()


def safe_next(target: str | None, default: str) -> str:
    """A same-site path to go to after login (never an absolute or protocol-relative URL)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target
