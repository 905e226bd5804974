"""Fixtures for the Moni app: a fresh database per test on SQLite and PostgreSQL.

The ``database_url`` fixture is parametrized over ``sqlite`` (a file in the test's tmp
directory) and ``postgres`` (a new schema in the server named by
``MONILAB_TEST_POSTGRES_URL``, dropped afterwards; skipped when the variable is unset).
Every test that uses ``app``/``client``/``api`` therefore runs on both databases.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from moni_helpers import ApiUser, sign_up
from sqlalchemy import create_engine, text

from target_app import create_app
from target_app.db import sqlite_url

POSTGRES_ENV = "MONILAB_TEST_POSTGRES_URL"
FAST_HASH = "pbkdf2:sha256:1000"


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The PostgreSQL server for tests, or skip."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(
            f"{POSTGRES_ENV} is not set; start a throwaway server with "
            "`source scripts/pg_throwaway.sh start` to run the PostgreSQL variant"
        )
    return url


@pytest.fixture
def postgres_schema_url(postgres_server_url: str) -> Iterator[str]:
    """A URL whose connections use a new, empty schema (dropped after the test)."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in postgres_server_url else "?"
    yield f"{postgres_server_url}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A fresh, empty database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return request.getfixturevalue("postgres_schema_url")


@pytest.fixture
def app_config(database_url: str, tmp_path: Any) -> dict[str, Any]:
    """Config of the test app (CSRF on, fast password hashing, log in tmp)."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "MONILAB_DATA_DIR": str(tmp_path),
        "REQUEST_LOG_DIR": str(tmp_path / "request-log"),
        "PASSWORD_HASH_METHOD": FAST_HASH,
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """A Moni app on the fresh database."""
    application = create_app(app_config)
    yield application
    application.extensions["monilab"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def alice(client: FlaskClient) -> ApiUser:
    """A signed-up API user."""
    return sign_up(client, "alice")


@pytest.fixture
def bob(app: Flask) -> ApiUser:
    """Another signed-up API user (own client)."""
    return sign_up(app.test_client(), "bob")
