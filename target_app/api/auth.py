"""API: sign-up, login (bearer token) and logout."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from target_app.api.helpers import body
from target_app.auth import authenticate, bearer_token, set_user, token_required
from target_app.context import write_db
from target_app.services import users

bp = Blueprint("api_auth", __name__, url_prefix="/api/v1/auth")


def _token_answer(user: users.User, status: int) -> tuple[dict, int]:
    set_user(user)
    token = users.issue_token(write_db(), user.id)
    return {"token": token, "token_type": "Bearer", "user": users.user_dict(user)}, status


@bp.post("/signup")
def signup() -> tuple[dict, int]:
    """Create an account; answers 201 with the user and a bearer token."""
    user = users.sign_up(
        write_db(),
        body(users.SIGNUP),
        hash_method=current_app.config["PASSWORD_HASH_METHOD"],
        run_id=request.headers.get("X-Run-Id", "")[:128] or None,
    )
    return _token_answer(user, 201)


@bp.post("/login")
def login() -> tuple[dict, int]:
    """Check email and password; answers a new bearer token."""
    data = body(users.LOGIN)
    user = authenticate(data["email"], data["password"])
    return _token_answer(user, 200)


@bp.post("/logout")
@token_required
def logout() -> tuple[str, int]:
    """Revoke the bearer token used for this request."""
    users.revoke_token(write_db(), bearer_token() or "")
    return "", 204
