"""Pages: sign-up, login and logout (seed: /signup/, /login/, /logout/)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from target_app.auth import authenticate, log_in, log_out, login_required, safe_next
from target_app.context import write_db
from target_app.pages.helpers import PageResult, form_page, render
from target_app.services import users

bp = Blueprint("pages_auth", __name__)


@bp.route("/signup/", methods=["GET", "POST"])
def signup() -> PageResult:
    """Sign-up form; ``?persona=&agent_id=`` prefill the lab's hidden fields."""

    def submit() -> Response:
        user = users.sign_up(
            write_db(),
            users.SIGNUP.parse(request.form, mode="form"),
            hash_method=current_app.config["PASSWORD_HASH_METHOD"],
            run_id=request.headers.get("X-Run-Id", "")[:128] or None,
        )
        log_in(user)
        flash("가입을 환영해요! 마이데이터를 연결해 볼까요?")
        return redirect(url_for("pages_home.mydata_start"))

    return form_page("signup.html", submit, form=request.args)


@bp.route("/login/", methods=["GET", "POST"])
def login() -> PageResult:
    """Login form; redirects to ``?next=`` (same site only) or home."""

    def submit() -> Response:
        data = users.LOGIN.parse(request.form, mode="form")
        log_in(authenticate(data["email"], data["password"]))
        return redirect(safe_next(request.args.get("next"), url_for("pages_home.home")))

    return form_page("login.html", submit)


@bp.get("/logout/")
@login_required
def logout_confirm() -> str:
    """'로그아웃 하시겠어요?' confirmation (logging out itself is a POST)."""
    return render("logout.html")


@bp.post("/logout/")
def logout() -> Response:
    """End the session and go to the login page."""
    log_out()
    flash("로그아웃했어요.")
    return redirect(url_for("pages_auth.login"))
