"""Ledgerly's HTML pages: log in, the home page, a new-transfer form, log out.

Every form carries the session's CSRF token (checked in ``security.enforce_csrf``, a 403
page without it). The new-transfer form also carries an idempotency key made when the form
is rendered, so submitting the same form twice stores one transfer.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from examples.ledgerly import ledger, validation
from examples.ledgerly.db import get_db
from examples.ledgerly.security import (
    current_user,
    end_session,
    page_login_required,
    require_user,
    start_session,
)

bp = Blueprint("pages", __name__)

CATEGORIES = ("food", "transport", "shopping", "housing", "health", "leisure", "other")
HOME_LATEST = 10


@bp.get("/")
def index() -> Any:
    """The home page when logged in, else the login page."""
    return redirect(url_for("pages.home" if current_user() else "pages.login"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login form; a right email and password go to the home page."""
    if request.method == "GET":
        return render_template("login.html", error=None)
    user = ledger.authenticate(get_db(), request.form.get("email"), request.form.get("password"))
    if user is None:
        return render_template("login.html", error="Wrong email or password."), 401
    start_session(int(user["id"]))
    return redirect(url_for("pages.home"))


@bp.post("/logout")
def logout() -> Any:
    """Log out and go to the login page."""
    end_session()
    return redirect(url_for("pages.login"))


@bp.get("/home")
@page_login_required
def home() -> Any:
    """The balance and the latest transfers."""
    user = require_user()
    user_id = int(user["id"])
    latest, _ = ledger.list_transfers(
        get_db(), user_id, validation.ListQuery(limit=HOME_LATEST, offset=0, month=None)
    )
    return render_template(
        "home.html", user=user, balance=ledger.balance(get_db(), user_id), transfers=latest
    )


def _render_form(form: dict[str, str], error: str | None, status: int = 200) -> Any:
    return render_template(
        "new_transfer.html", form=form, error=error, categories=CATEGORIES
    ), status


def _form_transfer(form: dict[str, str]) -> validation.TransferInput:
    """The form's fields checked like the API's (the amount arrives as text)."""
    amount = form.get("amount", "").strip()
    if not (amount.isascii() and amount.isdigit()):
        raise validation.InvalidInput("amount must be a whole number")
    return validation.transfer({**form, "amount": int(amount)})


@bp.route("/transfers/new", methods=["GET", "POST"])
@page_login_required
def new_transfer() -> Any:
    """The new-transfer form; a stored transfer goes home with a "saved" message."""
    if request.method == "GET":
        now = dt.datetime.now().replace(second=0, microsecond=0).isoformat(timespec="minutes")
        return _render_form({"idempotency_key": secrets.token_urlsafe(16), "at": now}, None)
    form = request.form.to_dict()
    key = validation.idempotency_key(form.get("idempotency_key"))
    if key is None:
        return _render_form(form, "The form expired; please fill it in again.", 400)
    try:
        transfer = _form_transfer(form)
    except validation.InvalidInput as exc:
        return _render_form(form, str(exc), 422)
    user_id = int(require_user()["id"])
    outcome, _ = ledger.record_transfer(get_db(), user_id, key, transfer)
    if outcome is ledger.WriteOutcome.CONFLICT:
        return _render_form(form, "This form was already used for another transfer.", 409)
    flash("saved")
    return redirect(url_for("pages.home"))
