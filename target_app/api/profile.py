"""API: the user's profile (get, edit) and password change."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g

from target_app.api.helpers import body
from target_app.auth import bearer_token, current_user, token_required
from target_app.context import write_db
from target_app.services import users

bp = Blueprint("api_profile", __name__, url_prefix="/api/v1/profile")


@bp.get("")
@token_required
def get_profile() -> dict[str, Any]:
    """The user's profile."""
    return users.user_dict(current_user())


@bp.patch("")
@token_required
def edit() -> dict[str, Any]:
    """Change name, email or profile attributes."""
    data = body(users.PROFILE_UPDATE, partial=True)
    return users.user_dict(users.update_profile(write_db(), g.user_id, data))


@bp.post("/password")
@token_required
def change_password() -> tuple[str, int]:
    """Set a new password (needs the current one); the token of this request stays valid,
    every other token of the user and every page session end."""
    users.change_password(
        write_db(),
        current_user(),
        body(users.PASSWORD_CHANGE),
        hash_method=current_app.config["PASSWORD_HASH_METHOD"],
        keep_token=bearer_token(),
    )
    return "", 204
