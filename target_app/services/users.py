"""Users: sign-up, password check, API tokens and the profile."""

from __future__ import annotations

import functools
import hashlib
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from monilab.contracts.vocabulary import GENDERS
from target_app.errors import Conflict, Forbidden, Unauthorized, ValidationError
from target_app.models import MAX_AMOUNT, ApiToken, User, table_of
from target_app.services.common import iso
from target_app.throttle import hashing_slot
from target_app.validation import Field, Spec

_PROFILE_FIELDS = (
    Field("age", "integer", minimum=10, maximum=110, nullable=True),
    Field("gender", choices=GENDERS, nullable=True, description="m or f"),
    Field("occupation", max_length=64, nullable=True),
    Field("region", max_length=64, nullable=True),
    Field("monthly_income", "integer", minimum=0, maximum=MAX_AMOUNT, nullable=True),
)
_EMAIL = Field("email", "email", required=True, min_length=3, max_length=254)
_NAME = Field("name", required=True, min_length=1, max_length=50)
_NEW_PASSWORD = Field("password", "password", required=True, min_length=8, max_length=128)

SIGNUP = Spec(
    (
        _EMAIL,
        _NEW_PASSWORD,
        _NAME,
        Field("persona", min_length=1, max_length=64, description="lab persona name"),
        Field("agent_id", min_length=1, max_length=128, description="lab agent id"),
        *_PROFILE_FIELDS,
    )
)
LOGIN = Spec(
    (
        _EMAIL,
        Field("password", "password", required=True, min_length=1, max_length=128),
    )
)
PROFILE_UPDATE = Spec((_EMAIL, _NAME, *_PROFILE_FIELDS))
"""Profile edit: every field optional (the password has its own request)."""
PASSWORD_CHANGE = Spec(
    (
        Field("current_password", "password", required=True, min_length=1, max_length=128),
        Field("new_password", "password", required=True, min_length=8, max_length=128),
    )
)

_DUMMY_HASH = "scrypt:32768:8:1$dummydummydummy$" + "0" * 128


def hash_password(password: str, method: str) -> str:
    """A werkzeug password hash (``method`` e.g. ``scrypt`` or ``pbkdf2:sha256:600000``),
    computed in one of the process's hashing slots (:mod:`target_app.throttle`)."""
    with hashing_slot():
        return generate_password_hash(password, method=method)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the hash (in a hashing slot)."""
    with hashing_slot():
        return check_password_hash(password_hash, password)


def _commit_unique_email(session: Session) -> None:
    """Commit; a clash on the unique email (also a concurrent one) is a 409 on ``email``."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("email is already registered", "email") from None


COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of very common passwords (lower-case)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def check_password_strength(
    password: str, *, email: str, name: str | None, field: str = "password"
) -> None:
    """ValidationError (422) for a password that is very common, made of too few characters,
    or that contains (or is contained in) the email's name part or the user's name."""
    lowered = password.lower()
    if lowered in common_passwords():
        raise ValidationError("password is one of the most common passwords; choose another", field)
    if len(set(lowered)) < 4:
        raise ValidationError("password needs at least 4 different characters", field)
    for own in (email.split("@")[0].lower(), (name or "").lower()):
        if len(own) >= 4 and (own in lowered or lowered in own):
            raise ValidationError("password must not contain your email or name", field)


def sign_up(
    session: Session, data: dict[str, Any], *, hash_method: str, run_id: str | None = None
) -> User:
    """Create a user from validated :data:`SIGNUP` data; Conflict if the email is taken,
    ValidationError for a weak password (:func:`check_password_strength`)."""
    check_password_strength(data["password"], email=data["email"], name=data.get("name"))
    fields = dict(data)
    password_hash = hash_password(fields.pop("password"), hash_method)  # before any lock
    user = User(password_hash=password_hash, run_id=run_id, **fields)
    session.add(user)
    _commit_unique_email(session)
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """The user with this email and password, else Unauthorized (same message for both)."""
    user = session.scalars(select(User).where(User.email == email.lower())).first()
    if user is None:
        password_matches(_DUMMY_HASH, password)  # same work whether or not the user exists
        raise Unauthorized("wrong email or password", "password")
    if not password_matches(user.password_hash, password):
        raise Unauthorized("wrong email or password", "password")
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_TOKEN_TABLE = table_of(ApiToken)
_TOKENS = _TOKEN_TABLE.c
_TOKEN_OWNER = select(_TOKENS.user_id).where(_TOKENS.token_hash == bindparam("token_hash"))
_NEW_TOKEN = insert(_TOKEN_TABLE)
_REVOKE = delete(_TOKEN_TABLE).where(_TOKENS.token_hash == bindparam("token_hash"))
"""Core statements built once: their cache keys are memoized, and they skip the ORM."""


def issue_token(session: Session, user_id: int) -> str:
    """A new bearer token for the user; only its SHA-256 digest is stored."""
    token = secrets.token_urlsafe(32)
    session.connection().execute(_NEW_TOKEN, {"user_id": user_id, "token_hash": _digest(token)})
    session.commit()
    return token


def user_id_for_token(session: Session, token: str) -> int | None:
    """The id of the user a bearer token belongs to, or None (one indexed Core query).

    Runs on every authenticated request, so it reads the database each time (no cache):
    a revoked token is refused by every server process as soon as the logout commits.
    """
    if not token or len(token) > 256:
        return None
    result = session.connection().execute(_TOKEN_OWNER, {"token_hash": _digest(token)})
    return result.scalar()


def revoke_token(session: Session, token: str) -> None:
    """Forget a bearer token (logout): every server process refuses it from the commit on."""
    session.connection().execute(_REVOKE, {"token_hash": _digest(token)})
    session.commit()


_INCOME = select(User.__table__.c.monthly_income).where(User.__table__.c.id == bindparam("id"))


def monthly_income(session: Session, user_id: int) -> int | None:
    """The user's monthly income (None when not given), without loading the whole user."""
    return session.connection().execute(_INCOME, {"id": user_id}).scalar()


def get_user(session: Session, user_id: int) -> User | None:
    """The user by id, or None."""
    return session.get(User, user_id)


def update_profile(session: Session, user_id: int, data: dict[str, Any]) -> User:
    """Apply validated :data:`PROFILE_UPDATE` data; Conflict if the new email is taken."""
    user = session.get(User, user_id)
    if user is None:
        raise Unauthorized("the user no longer exists")
    for key, value in data.items():
        setattr(user, key, value)
    _commit_unique_email(session)
    return user


def change_password(
    session: Session,
    user: User,
    data: dict[str, Any],
    *,
    hash_method: str,
    keep_token: str | None = None,
) -> int:
    """Set a new password after checking the current one (Forbidden when it is wrong), and
    end every other way in: all the user's API tokens but ``keep_token`` are revoked and
    every page session ends (the session version moves on). Returns the new version.

    The check and the new hash are computed from ``user`` (as loaded for authentication)
    before ``session`` is touched, so no database lock is held during the slow hashing.
    """
    if not password_matches(user.password_hash, data["current_password"]):
        raise Forbidden("current_password is wrong", "current_password")
    check_password_strength(
        data["new_password"], email=user.email, name=user.name, field="new_password"
    )
    new_hash = hash_password(data["new_password"], hash_method)
    revoke = delete(_TOKEN_TABLE).where(_TOKENS.user_id == user.id)
    if keep_token:
        revoke = revoke.where(_TOKENS.token_hash != _digest(keep_token))
    session.connection().execute(revoke)
    session.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))
    version = _next_session_version(session, user.id)
    session.commit()
    return version


def end_page_sessions(session: Session, user_id: int) -> int:
    """End every page session of the user (logout): returns the new session version."""
    version = _next_session_version(session, user_id)
    session.commit()
    return version


def _next_session_version(session: Session, user_id: int) -> int:
    bumped = (
        update(User)
        .where(User.id == user_id)
        .values(session_version=User.session_version + 1)
        .returning(User.session_version)
    )
    return int(session.execute(bumped).scalar_one())


def user_dict(user: User) -> dict[str, Any]:
    """The public JSON form of a user (never the password hash)."""
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "persona": user.persona,
        "agent_id": user.agent_id,
        "age": user.age,
        "gender": user.gender,
        "occupation": user.occupation,
        "region": user.region,
        "monthly_income": user.monthly_income,
        "spending_type": user.spending_type_code,
        "created_at": iso(user.created_at),
    }
