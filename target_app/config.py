"""App configuration: defaults, then environment variables, then explicit overrides.

Read when an app is created (never at import). Keys and their environment variables:

=========================  ==========================  ====================================
key                        environment                 default
=========================  ==========================  ====================================
SECRET_KEY                 MONILAB_SECRET_KEY          ``secrets.token_hex(32)`` per app
MONILAB_DATA_DIR           MONILAB_DATA_DIR            ``./data``
DATABASE_URL               DATABASE_URL                SQLite file in the data directory
REQUEST_LOG_DIR            MONILAB_REQUEST_LOG_DIR     ``<data dir>/request-log``
MONILAB_TYPE_MODEL         MONILAB_TYPE_MODEL          none (type answers not_enough_data)
MONILAB_MODELS_DIR         MONILAB_MODELS_DIR          none (``monilab train``'s output: model
                                                       alerts, forecast, recommendations)
PASSWORD_HASH_METHOD       MONILAB_PASSWORD_HASH       ``scrypt`` (werkzeug)
SESSION_COOKIE_SECURE      MONILAB_SECURE_COOKIES      off (``1``: the session cookie is only
                                                       sent over HTTPS; set it behind TLS)
DB_POOL_SIZE               MONILAB_DB_POOL_SIZE        8
LOGIN_FAILURES             MONILAB_LOGIN_FAILURES      10 failed logins per account in 15 min,
LOGIN_FAILURES_PER_ADDRESS MONILAB_LOGIN_FAILURES_...  20 per client address (then 429)
HASH_SLOTS                 MONILAB_HASH_SLOTS          1 password hash at a time per process
=========================  ==========================  ====================================

A generated secret key differs per process: behind several workers, sessions only survive
when every worker gets the same key, which is why ``monilab serve`` sets
``MONILAB_SECRET_KEY`` for its workers.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from target_app.db import ensure_sqlite_dir, sqlite_url

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1 << 20
"""Largest request body (1 MiB); larger ones get 413."""
SESSION_LIFETIME = dt.timedelta(hours=12)
"""A page session ends 12 hours after its login (the signed cookie carries its age)."""


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


_ENV = {
    "SECRET_KEY": "MONILAB_SECRET_KEY",
    "MONILAB_DATA_DIR": "MONILAB_DATA_DIR",
    "DATABASE_URL": "DATABASE_URL",
    "REQUEST_LOG_DIR": "MONILAB_REQUEST_LOG_DIR",
    "MONILAB_TYPE_MODEL": "MONILAB_TYPE_MODEL",
    "MONILAB_MODELS_DIR": "MONILAB_MODELS_DIR",
    "PASSWORD_HASH_METHOD": "MONILAB_PASSWORD_HASH",
    "DB_POOL_SIZE": "MONILAB_DB_POOL_SIZE",
    "LOGIN_FAILURES": "MONILAB_LOGIN_FAILURES",
    "LOGIN_FAILURES_PER_ADDRESS": "MONILAB_LOGIN_FAILURES_PER_ADDRESS",
    "HASH_SLOTS": "MONILAB_HASH_SLOTS",
}
_INTEGERS = ("DB_POOL_SIZE", "LOGIN_FAILURES", "LOGIN_FAILURES_PER_ADDRESS", "HASH_SLOTS")


def database_url_for(data_dir: str | Path, explicit: str | None = None) -> str:
    """The database to use: ``explicit``, else ``$DATABASE_URL``, else SQLite in ``data_dir``."""
    return explicit or os.environ.get("DATABASE_URL") or sqlite_url(data_dir)


def build_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The full configuration of one app instance (see the module docstring)."""
    config: dict[str, Any] = {
        "MONILAB_DATA_DIR": "data",
        "PASSWORD_HASH_METHOD": "scrypt",
        "DB_POOL_SIZE": 8,
        "LOGIN_FAILURES": 10,
        "LOGIN_FAILURES_PER_ADDRESS": 20,
        "LOGIN_WINDOW_S": 900.0,
        "HASH_SLOTS": 1,
        "HASH_WAIT_S": 2.0,
        "MONILAB_TYPE_MODEL": None,
        "MONILAB_MODELS_DIR": None,
        "CREATE_TABLES": True,
        "MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _truthy(os.environ.get("MONILAB_SECURE_COOKIES")),
        "PERMANENT_SESSION_LIFETIME": SESSION_LIFETIME,
        "JSON_SORT_KEYS": False,
    }
    for key, env in _ENV.items():
        if os.environ.get(env):
            config[key] = os.environ[env]
    config.update(overrides or {})
    for key in _INTEGERS:
        config[key] = int(config[key])
    data_dir = Path(config["MONILAB_DATA_DIR"])
    config["DATABASE_URL"] = database_url_for(data_dir, config.get("DATABASE_URL"))
    ensure_sqlite_dir(config["DATABASE_URL"])
    config.setdefault("REQUEST_LOG_DIR", str(data_dir / "request-log"))
    if not config.get("SECRET_KEY"):
        log.warning(
            "MONILAB_SECRET_KEY is not set: using a random key for this process only "
            "(sessions will not be shared between server workers)"
        )
        config["SECRET_KEY"] = secrets.token_hex(32)
    model = config.get("MONILAB_TYPE_MODEL")
    if model and not Path(model).is_file():
        raise FileNotFoundError(f"MONILAB_TYPE_MODEL: no such file {model}")
    models = config.get("MONILAB_MODELS_DIR")
    if models and not Path(models).is_dir():
        raise FileNotFoundError(f"MONILAB_MODELS_DIR: no such directory {models}")
    return config
