"""App rows in the lab's table shapes (monilab.contracts ``users`` and ``transactions``).

Shared by ``monilab export`` (Parquet) and the spending-type model (a pandas frame), so a
model sees the same columns whether it was fed a generated dataset or the live app.
Flask-free, like :mod:`target_app.models`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from monilab.contracts.tables import contract_for
from target_app.models import Spending, User

if TYPE_CHECKING:
    import pandas as pd

UNKNOWN_PERSONA = "unknown"


def _null(_: object) -> None:
    return None


TRANSACTION_FIELDS: Mapping[str, Callable[[Spending], Any]] = {
    "txn_id": attrgetter("id"),
    "user_id": attrgetter("user_id"),
    "ts": attrgetter("spent_at"),
    "method": attrgetter("method"),
    "amount": attrgetter("amount"),
    "merchant": attrgetter("merchant"),
    "category": attrgetter("category"),
    "direction": attrgetter("direction"),
    "is_anomaly": _null,  # the app does not know the ground truth
    "anomaly_kind": _null,
    "client_txn_id": attrgetter("client_txn_id"),
    "memo": attrgetter("memo"),
}
"""``transactions`` columns (with the optional ``client_txn_id`` and ``memo``) of a spending."""

USER_FIELDS: Mapping[str, Callable[[User], Any]] = {
    "user_id": attrgetter("id"),
    "persona": lambda user: user.persona or UNKNOWN_PERSONA,
    "spending_type": _null,  # ground truth, unknown to the app
    "age": attrgetter("age"),
    "gender": attrgetter("gender"),
    "occupation": attrgetter("occupation"),
    "region": attrgetter("region"),
    "monthly_income": attrgetter("monthly_income"),
    "signup_at": attrgetter("created_at"),
    "name": attrgetter("name"),
    "agent_id": attrgetter("agent_id"),
}
"""``users`` columns (with the optional ``name`` and ``agent_id``) of a user."""


def arrow_table(
    table: str, rows: Iterable[Any], fields: Mapping[str, Callable[[Any], Any]]
) -> pa.Table:
    """Rows (ORM objects or table rows) as an Arrow table typed by the named contract."""
    rows = list(rows)
    contract = contract_for(table)
    return pa.table(
        {
            name: pa.array([get(row) for row in rows], type=contract.field_for(name).type)  # type: ignore[union-attr]
            for name, get in fields.items()
        }
    )


def transactions_frame(rows: Iterable[Spending]) -> pd.DataFrame:
    """Spendings as a pandas frame with the ``transactions`` columns (for models)."""
    return arrow_table("transactions", rows, TRANSACTION_FIELDS).to_pandas()
