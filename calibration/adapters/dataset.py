"""Read a dataset in the lab's own schema as reference data, with no mapping.

A dataset directory (``manifest.json`` plus Parquet tables, as written by ``monilab
generate`` or ``monilab export``) is already in the schema, so nothing is translated: every
row keeps its timestamp (``has_time`` True: the schema's ``ts`` carries the time of day),
amounts are KRW (scale 1), users come from the ``users`` table when there is one. A field
that is null on every row is declared missing, as a mapping would declare it, so the
fidelity report never scores a field the source does not have.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from calibration.adapters.mapping import ANY_KIND, TRANSACTION_FIELDS_MAPPABLE, USER_FIELDS
from calibration.adapters.microdata import ReferenceData
from calibration.frames import HAS_TIME
from monilab.contracts.datasets import MANIFEST_NAME, Dataset, read_dataset
from monilab.contracts.errors import MonilabError
from monilab.contracts.tables import conform


def load_dataset_reference(directory: str | Path) -> ReferenceData:
    """Read a dataset directory as :class:`ReferenceData` (KRW, every time of day known).

    Args:
        directory: A dataset directory with ``manifest.json`` and a ``transactions`` table.

    Raises:
        MonilabError: Not a directory, no manifest, no or empty transactions table, rows
            that break the schema, or transactions of users missing from the users table.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise MonilabError(f"reference {directory} is not a directory")
    if not (directory / MANIFEST_NAME).is_file():
        raise MonilabError(f"reference {directory} is not a dataset (no {MANIFEST_NAME})")
    dataset = read_dataset(directory)
    if "transactions" not in dataset.tables:
        raise MonilabError(f"reference {directory} has no transactions table")
    transactions = _read(dataset, "transactions")
    if transactions.empty:
        raise MonilabError(f"reference {directory} has no transactions")
    transactions[HAS_TIME] = True
    users = _users(dataset, transactions) if "users" in dataset.tables else None
    return ReferenceData(
        name=directory.resolve().name,
        transactions=transactions,
        users=users,
        declared_missing=_declared_missing(transactions, users),
        currency="KRW",
        currency_scale=1.0,
        source_counts={ANY_KIND: len(transactions)},
        excluded={},
    )


def _read(dataset: Dataset, table: str) -> pd.DataFrame:
    """One table, conformed to its contract; unreadable parts are a one-line error."""
    try:
        return conform(table, dataset.table(table)).to_pandas()
    except (OSError, KeyError, pa.ArrowException) as exc:
        raise MonilabError(f"reference {dataset.directory}: cannot read {table}: {exc}") from None


def _users(dataset: Dataset, transactions: pd.DataFrame) -> pd.DataFrame:
    """The conformed users table; every transaction's user must be in it."""
    users = _read(dataset, "users")
    unknown = ~transactions["user_id"].isin(users["user_id"])
    if unknown.any():
        user = int(transactions["user_id"][unknown].iloc[0])
        raise MonilabError(
            f"reference {dataset.directory}: user {user} has transactions but is not in users"
        )
    return users


def _declared_missing(transactions: pd.DataFrame, users: pd.DataFrame | None) -> frozenset[str]:
    """Mappable fields that are null on every row (every user field without a users table).

    ``anomaly_kind`` is null on every normal row, so it counts as missing only when
    ``is_anomaly`` does not say every row is normal.
    """
    missing = {name for name in TRANSACTION_FIELDS_MAPPABLE if transactions[name].isna().all()}
    if not transactions["is_anomaly"].fillna(True).any():
        missing.discard("anomaly_kind")
    if users is None:
        missing.update(USER_FIELDS)
    else:
        missing.update(name for name in USER_FIELDS if users[name].isna().all())
    return frozenset(missing)
