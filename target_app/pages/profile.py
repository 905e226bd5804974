"""Pages: my page and profile edit (seed: /mypage/, /profile/edit/)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from werkzeug.wrappers import Response

from target_app.auth import log_in, login_required
from target_app.context import write_db
from target_app.pages.helpers import PageResult, form_page, render
from target_app.services import users

bp = Blueprint("pages_profile", __name__)


@bp.get("/mypage/")
@login_required
def mypage() -> str:
    """The user's information with links to edit and log out."""
    return render("mypage.html")


@bp.route("/profile/edit/", methods=["GET", "POST"])
@login_required
def edit() -> PageResult:
    """Edit name, email, profile attributes; the password only when a new one is typed."""

    def submit() -> Response:
        profile = users.PROFILE_UPDATE.parse(request.form, mode="form", partial=True)
        if request.form.get("new_password"):
            version = users.change_password(
                write_db(),
                g.user,
                users.PASSWORD_CHANGE.parse(request.form, mode="form"),
                hash_method=current_app.config["PASSWORD_HASH_METHOD"],
            )
            log_in(g.user, version)  # this session goes on; every other one has ended
        users.update_profile(write_db(), g.user_id, profile)
        flash("내 정보를 저장했어요.")
        return redirect(url_for("pages_profile.mypage"))

    return form_page("profile_edit.html", submit, form=users.user_dict(g.user))
