"""Reconcile a load run's ledger with the app's *exported database* (not its API).

``monilab load`` already reads every agent's spendings back through the JSON API. The lab
run checks a second way, independent of the API: the exported ``transactions`` table
(``user_id``, ``client_txn_id``) against the ledger's sent and acknowledged writes, the
ledger's ``agent`` lines giving each agent's app ``user_id``. Only the load's users are
compared (browser journeys write too, as other users).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from monilab.contracts.datasets import read_dataset
from monilab.contracts.errors import MonilabError
from sim.reconcile.check import Reconciliation, WriteKey, reconcile_writes
from sim.reconcile.ledger import expand_batches, read_ledger


def reconcile_export(ledger_dir: str | Path, export_dir: str | Path) -> Reconciliation:
    """Compare the ledger in ``ledger_dir`` with the dataset written by ``monilab export``.

    Keys are (app user id, ``client_txn_id``); a write of an agent whose sign-up never
    returned a user id keeps the agent's e-mail as its key, so an acknowledged one counts
    as missing rather than vanishing from the comparison.
    """
    ledger_dir = Path(ledger_dir)
    if not ledger_dir.is_dir():
        raise MonilabError(f"{ledger_dir}: no load ledger (did the load stage run?)")
    user_of: dict[str, str] = {}
    writes: dict[str, list[WriteKey]] = {"sent": [], "ack": []}
    for line in expand_batches(read_ledger(ledger_dir)):
        kind = line.get("type")
        if kind == "agent" and line.get("user_id") is not None:
            user_of[line["email"]] = str(line["user_id"])
        elif kind in writes:
            writes[kind].append((line["email"], line["client_txn_id"]))

    def by_user(keys: list[WriteKey]) -> list[WriteKey]:
        return [(user_of.get(email, email), txn) for email, txn in keys]

    load_users = set(user_of.values())
    stored_keys = [key for key in _stored_keys(export_dir) if key[0] in load_users]
    return reconcile_writes(by_user(writes["sent"]), by_user(writes["ack"]), stored_keys)


def _stored_keys(export_dir: str | Path) -> list[WriteKey]:
    """(user id, client_txn_id) of every exported spending, part by part."""
    keys: list[WriteKey] = []
    dataset = read_dataset(export_dir)
    for path in dataset.parts("transactions"):
        part = pq.read_table(path)
        if "client_txn_id" not in part.column_names:  # an empty export has no optional columns
            continue
        users = part["user_id"].to_pylist()
        keys += zip(map(str, users), part["client_txn_id"].to_pylist(), strict=True)
    return keys
