"""Database engines and sessions for SQLite (default) and PostgreSQL, without Flask.

SQLite is tuned for several server processes sharing one file: WAL journal, a 5 s busy
timeout and ``synchronous=NORMAL``, set on every new connection. Reads begin a deferred
transaction; write transactions ``BEGIN IMMEDIATE`` so that two writers queue on the busy
timeout instead of failing on a stale read snapshot. PostgreSQL needs none of this.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, make_url, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from target_app.models import Base, SpendingType

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000
DB_FILENAME = "moni.sqlite3"

SPENDING_TYPE_ROWS: tuple[tuple[str, str, str, str], ...] = (
    (
        "saver",
        "절약형",
        "아낄 수 있는 건 최대한 아낀다",
        "고정비 외 지출을 최소화하고 남는 돈을 꾸준히 저축하는 유형입니다.",
    ),
    (
        "stable",
        "안정형",
        "계획한 만큼만 쓴다",
        "매달 비슷한 금액을 비슷한 곳에 쓰며 큰 변동 없이 생활하는 유형입니다.",
    ),
    (
        "goal_setter",
        "목표요정형",
        "목표가 있으면 반드시 이룬다",
        "뚜렷한 저축 목표를 세우고 그에 맞춰 지출을 조절하는 유형입니다.",
    ),
    (
        "yolo",
        "YOLO형",
        "나를 위한 소비는 아끼지 않는다",
        "현재의 경험과 만족을 중시해 여행, 취미, 외식, 문화생활에 적극적으로 지출하는 유형입니다.",
    ),
    (
        "investor",
        "진격의 투자형",
        "돈이 일하게 만든다",
        "지출보다 투자와 자산 증식에 관심이 많아 투자 비중이 높은 유형입니다.",
    ),
)


def sqlite_url(data_dir: str | Path) -> str:
    """The SQLAlchemy URL of the app's SQLite file inside a data directory."""
    return f"sqlite:///{Path(data_dir).resolve() / DB_FILENAME}"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases or an in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def ensure_sqlite_dir(url: str) -> None:
    """Create the directory of a SQLite file URL (nothing for other databases)."""
    db_file = sqlite_path(url)
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(engine: Engine) -> None:
    """Install the connection pragmas and explicit BEGIN handling on a SQLite engine."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL with the settings described above.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:////data/moni.sqlite3`` or
            ``postgresql+psycopg://user@host/db``.
        pool_size: Connections kept per process (match the server's threads per worker).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


@dataclass
class Database:
    """An engine with its two session factories: ``read`` (deferred) and ``write`` (immediate)."""

    engine: Engine
    read: sessionmaker[Session]
    write: sessionmaker[Session]

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 8) -> Database:
        """Open a database by URL (tables are not created; see :func:`init_db`)."""
        engine = make_engine(url, pool_size=pool_size)
        writer = engine.execution_options(sqlite_begin="IMMEDIATE")
        return cls(
            engine=engine,
            read=sessionmaker(bind=engine, expire_on_commit=False),
            write=sessionmaker(bind=writer, expire_on_commit=False),
        )

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A write session that commits on success and rolls back on error."""
        with self.write() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection (e.g. after a fork or at shutdown)."""
        self.engine.dispose()


ADDED_COLUMNS = {("users", "session_version"): "INTEGER NOT NULL DEFAULT 0"}
"""Columns added after a database may have been created (``create_all`` adds no column)."""


def _add_missing_columns(connection: Any) -> None:
    """Add the :data:`ADDED_COLUMNS` an older database lacks."""
    inspector = inspect(connection)
    for (table, column), ddl in ADDED_COLUMNS.items():
        present = {c["name"] for c in inspector.get_columns(table)}
        if column not in present:
            connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))


def init_db(db: Database, *, attempts: int = 5) -> None:
    """Create missing tables and the spending types, safe when several processes race.

    On SQLite the check-and-create runs in one ``BEGIN IMMEDIATE`` transaction, so racing
    workers queue. On PostgreSQL a loser of the race gets a duplicate-object error; it then
    retries, finds the tables and returns.
    """
    for attempt in range(1, attempts + 1):
        try:
            with db.writing() as session:
                Base.metadata.create_all(session.connection())
                _add_missing_columns(session.connection())
                known = set(session.scalars(select(SpendingType.code)))
                session.add_all(
                    SpendingType(code=code, name=name, tagline=tagline, description=text)
                    for code, name, tagline, text in SPENDING_TYPE_ROWS
                    if code not in known
                )
            return
        except DBAPIError as exc:
            if attempt == attempts:
                raise
            log.debug("create tables raced another process (%s); retrying", exc.orig)
            time.sleep(0.05 * attempt)
