"""Models and database setup: Flask-free import, constraints, racing table creation."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from target_app.db import Database, init_db
from target_app.models import Notification, Spending, SpendingType, User


def test_models_import_without_flask():
    code = (
        "import sys, target_app.models, target_app.db, target_app.frames, target_app.export;"
        "assert 'flask' not in sys.modules, sorted(m for m in sys.modules if 'flask' in m)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture
def db(database_url):
    database = Database.connect(database_url)
    init_db(database)
    yield database
    database.dispose()


def _user(session) -> User:
    user = User(email="m@example.com", name="m", password_hash="x")
    session.add(user)
    session.commit()
    return user


def test_tables_and_spending_types_are_created(db):
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "spendings", "bank_accounts", "goals", "notifications"} <= tables
    with db.read() as session:
        codes = set(session.scalars(select(SpendingType.code)))
    assert codes == {"saver", "stable", "goal_setter", "yolo", "investor"}
    indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("spendings")}
    assert "ix_spending_user_time" in indexes


def test_database_enforces_one_client_txn_id_per_user(db):
    with db.writing() as session:
        user_id = _user(session).id
    row = {"user_id": user_id, "spent_at": dt.datetime(2024, 1, 1), "method": "card",
           "amount": 1, "category": "food", "direction": "out", "client_txn_id": "x"}  # fmt: skip
    with db.writing() as session:
        session.add(Spending(**row))
    with pytest.raises(IntegrityError), db.writing() as session:
        session.add(Spending(**row))
    with db.writing() as session:  # no client id: no constraint
        session.add_all([Spending(**{**row, "client_txn_id": None}) for _ in range(2)])
    with pytest.raises(IntegrityError), db.writing() as session:
        session.add(Spending(**{**row, "client_txn_id": "y", "amount": 0}))


def test_database_enforces_one_alert_per_user_day_and_kind(db):
    with db.writing() as session:
        user_id = _user(session).id
    note = {"user_id": user_id, "day": dt.date(2024, 1, 1), "kind": "anomaly", "message": "m"}
    with db.writing() as session:
        session.add(Notification(**note))
    with pytest.raises(IntegrityError), db.writing() as session:
        session.add(Notification(**note))


def test_racing_table_creation_is_safe(database_url):
    databases = [Database.connect(database_url) for _ in range(4)]
    barrier = threading.Barrier(len(databases))
    errors: list[BaseException] = []

    def create(database: Database) -> None:
        barrier.wait()
        try:
            init_db(database)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(d,)) for d in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with databases[0].read() as session:
        assert len(session.scalars(select(SpendingType)).all()) == 5
    for database in databases:
        database.dispose()
