"""Mydata start (linked accounts with opening balances) and the assets summary.

Opening balances live on the accounts, not as spendings, so the exported transactions are
exactly what the user (or agent) sent. Balances are derived:

- checking (입출금) = opening balance + money in − money out;
- securities (증권) = opening balance + money out with category ``investment``;
- savings (적금) = money out with category ``savings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from target_app.models import MAX_AMOUNT, BankAccount, Spending
from target_app.validation import Field, Spec

MYDATA_START = Spec(
    (
        Field(
            "opening_balance",
            "integer",
            minimum=0,
            maximum=MAX_AMOUNT,
            default=0,
            description="KRW in the checking account (seed: 전월이월)",
        ),
        Field(
            "securities_balance",
            "integer",
            minimum=0,
            maximum=MAX_AMOUNT,
            default=0,
            description="KRW held in the securities account",
        ),
    )
)

_ACCOUNTS = (
    ("checking", "모니은행", "입출금 통장", "opening_balance"),
    ("securities", "모니증권", "증권 계좌", "securities_balance"),
)


def accounts(session: Session, user_id: int) -> list[BankAccount]:
    """The user's linked accounts (empty before mydata start)."""
    return list(
        session.scalars(
            select(BankAccount).where(BankAccount.user_id == user_id).order_by(BankAccount.id)
        )
    )


def start_mydata(
    session: Session, user_id: int, data: dict[str, Any]
) -> tuple[list[BankAccount], bool]:
    """Create the user's accounts once; later calls return them unchanged (created=False)."""
    existing = accounts(session, user_id)
    if existing:
        session.rollback()
        return existing, False
    session.add_all(
        BankAccount(
            user_id=user_id,
            kind=kind,
            institution=institution,
            name=name,
            opening_balance=data[field],
        )
        for kind, institution, name, field in _ACCOUNTS
    )
    try:
        session.commit()
    except IntegrityError:  # a concurrent start won the race
        session.rollback()
        return accounts(session, user_id), False
    return accounts(session, user_id), True


@dataclass(frozen=True)
class Holding:
    """One line of the assets summary."""

    kind: str
    label: str
    institution: str | None
    balance: int
    account_id: int | None = None


@dataclass(frozen=True)
class AssetSummary:
    """Total assets and their composition."""

    started: bool
    total: int
    holdings: list[Holding]


_A = BankAccount.__table__.c
_S = Spending.__table__.c
# Core statements built once (memoized cache keys).
_LINKED = select(_A.kind, _A.institution, _A.opening_balance, _A.id).where(
    _A.user_id == bindparam("user_id")
)
_FLOWS = (
    select(_S.direction, _S.category, func.sum(_S.amount))
    .where(_S.user_id == bindparam("user_id"))
    .group_by(_S.direction, _S.category)
)


def summary(session: Session, user_id: int) -> AssetSummary:
    """Balances per holding and the total (see the module docstring for the rules)."""
    connection = session.connection()
    linked = {row.kind: row for row in connection.execute(_LINKED, {"user_id": user_id})}
    flows = connection.execute(_FLOWS, {"user_id": user_id})
    money_in = money_out = invested = saved = 0
    for direction, category, amount in flows:
        amount = int(amount)
        if direction == "in":
            money_in += amount
            continue
        money_out += amount
        invested += amount if category == "investment" else 0
        saved += amount if category == "savings" else 0
    checking, securities = linked.get("checking"), linked.get("securities")
    holdings = [
        Holding(
            "checking",
            "입출금",
            checking.institution if checking else None,
            (checking.opening_balance if checking else 0) + money_in - money_out,
            checking.id if checking else None,
        ),
        Holding(
            "securities",
            "증권",
            securities.institution if securities else None,
            (securities.opening_balance if securities else 0) + invested,
            securities.id if securities else None,
        ),
        Holding("savings", "적금·저축", None, saved),
    ]
    return AssetSummary(bool(linked), sum(h.balance for h in holdings), holdings)


def account_dict(account: BankAccount) -> dict[str, Any]:
    """The JSON form of a linked account."""
    return {
        "id": account.id,
        "kind": account.kind,
        "institution": account.institution,
        "name": account.name,
        "opening_balance": account.opening_balance,
    }


def summary_dict(assets: AssetSummary) -> dict[str, Any]:
    """The JSON form of the assets summary."""
    return {
        "mydata_started": assets.started,
        "total": assets.total,
        "holdings": [
            {
                "kind": h.kind,
                "label": h.label,
                "institution": h.institution,
                "balance": h.balance,
                "account_id": h.account_id,
            }
            for h in assets.holdings
        ],
    }
