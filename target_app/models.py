"""The Moni tables as SQLAlchemy 2.0 typed models, after the seed ERD.

This module imports only SQLAlchemy and :mod:`monilab.contracts`, so the lab can open an app
database offline (``monilab export``) without Flask. Times are naive Korean local time,
money is integer KRW, like the data contracts.

Tables: ``users``, ``spending_types`` (the seed's Type), ``api_tokens`` (hashed bearer
tokens), ``bank_accounts``, ``spendings``, ``goals`` and ``notifications``. The request log
is not a table: each server process appends JSON lines to its own file (see
:mod:`target_app.requestlog`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from monilab.contracts.vocabulary import CATEGORIES, DIRECTIONS, GENDERS, METHODS, SPENDING_TYPES

KST = dt.timezone(dt.timedelta(hours=9), "KST")
"""Korean Standard Time (no daylight saving): the clock of every stored timestamp."""

ACCOUNT_KINDS: tuple[str, ...] = ("checking", "securities")
"""Bank account kinds created by mydata start (seed: 입출금, 증권)."""

NOTIFICATION_KINDS: tuple[str, ...] = ("anomaly", "forecast")
"""Alert kinds; at most one of each kind per user and day."""

MAX_AMOUNT = 1_000_000_000_000
"""Largest accepted amount or balance in KRW (one trillion won)."""


def now_kst() -> dt.datetime:
    """The current time as a naive Korean local timestamp (microseconds dropped)."""
    return dt.datetime.now(KST).replace(tzinfo=None, microsecond=0)


def _in(column: str, values: tuple[str, ...]) -> str:
    """SQL text of a ``column IN (...)`` check over fixed identifiers (no user input)."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base of every Moni table."""


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class, typed as a ``Table`` (SQLAlchemy types it loosely)."""
    table = model.__table__
    if not isinstance(table, Table):  # pragma: no cover - every Moni model maps one table
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


class SpendingType(Base):
    """One of the seed's five spending types (절약형, 안정형, 목표요정형, YOLO형, 투자형)."""

    __tablename__ = "spending_types"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    tagline: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000))

    __table_args__ = (CheckConstraint(_in("code", SPENDING_TYPES), name="ck_type_code"),)


class User(Base):
    """A Moni user.

    ``persona`` and ``agent_id`` are optional sign-up fields the lab's load tool sends;
    ``run_id`` is the ``X-Run-Id`` header of the sign-up request, so an export can keep
    one run's users. ``session_version`` ends page sessions on the server (logout, password
    change).
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(255))
    persona: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(128), index=True)
    run_id: Mapped[str | None] = mapped_column(String(128), index=True)
    age: Mapped[int | None] = mapped_column(SmallInteger)
    gender: Mapped[str | None] = mapped_column(String(1))
    occupation: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    monthly_income: Mapped[int | None] = mapped_column(BigInteger)
    spending_type_code: Mapped[str | None] = mapped_column(
        ForeignKey("spending_types.code", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now_kst)
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Page sessions carry it and must match it: logout and a password change bump it, so a
    copied session cookie stops working on the server, not only in the browser."""

    spending_type: Mapped[SpendingType | None] = relationship()

    __table_args__ = (CheckConstraint(_in("gender", GENDERS), name="ck_user_gender"),)


class ApiToken(Base):
    """A bearer token of the JSON API, stored as its SHA-256 hex digest only."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now_kst)


class BankAccount(Base):
    """A linked account created by mydata start, with its opening balance."""

    __tablename__ = "bank_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    institution: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(50))
    opening_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now_kst)

    __table_args__ = (
        UniqueConstraint("user_id", "kind", name="uq_account_user_kind"),
        CheckConstraint(_in("kind", ACCOUNT_KINDS), name="ck_account_kind"),
        CheckConstraint("opening_balance >= 0", name="ck_account_balance"),
    )


class Spending(Base):
    """One money movement (seed: Spending); ``direction`` says in (입금) or out (출금)."""

    __tablename__ = "spendings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    spent_at: Mapped[dt.datetime] = mapped_column(DateTime)
    method: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    merchant: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(3))
    memo: Mapped[str | None] = mapped_column(String(200))
    client_txn_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now_kst)

    __table_args__ = (
        UniqueConstraint("user_id", "client_txn_id", name="uq_spending_client_txn"),
        Index("ix_spending_user_time", "user_id", "spent_at"),
        CheckConstraint("amount > 0", name="ck_spending_amount"),
        CheckConstraint(_in("method", METHODS), name="ck_spending_method"),
        CheckConstraint(_in("category", CATEGORIES), name="ck_spending_category"),
        CheckConstraint(_in("direction", DIRECTIONS), name="ck_spending_direction"),
    )


class Goal(Base):
    """A savings goal (seed: 목표), e.g. 오천만원 모으기."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    target_amount: Mapped[int] = mapped_column(BigInteger)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    achieved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now_kst)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now_kst, onupdate=now_kst)

    __table_args__ = (CheckConstraint("target_amount > 0", name="ck_goal_amount"),)


class Notification(Base):
    """An alert; UNIQUE(user, day, kind) so the same alert is never sent twice a day."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now_kst)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("user_id", "day", "kind", name="uq_notification_user_day_kind"),
        CheckConstraint(_in("kind", NOTIFICATION_KINDS), name="ck_notification_kind"),
    )
