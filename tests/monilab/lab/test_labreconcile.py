"""Reconciling a load ledger with the exported database (the lab run's second check)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from monilab.contracts.datasets import write_dataset
from monilab.contracts.errors import MonilabError
from monilab.lab.reconcile import reconcile_export


def _ledger(directory, lines):
    directory.mkdir()
    text = "".join(json.dumps(line) + "\n" for line in lines)
    (directory / "ledger-1.jsonl").write_text(text, encoding="utf-8")
    return directory


def _export(directory, stored):
    """An export whose transactions are ``stored`` = [(user_id, client_txn_id), ...]."""
    rows = len(stored)
    frame = pd.DataFrame(
        {
            "txn_id": range(1, rows + 1),
            "user_id": [user for user, _ in stored],
            "ts": pd.date_range("2024-03-01 09:00", periods=rows, freq="h"),
            "method": ["card"] * rows,
            "amount": [5000] * rows,
            "merchant": ["스타벅스"] * rows,
            "category": ["coffee"] * rows,
            "direction": ["out"] * rows,
            "is_anomaly": [None] * rows,
            "anomaly_kind": [None] * rows,
            "client_txn_id": [txn for _, txn in stored],
        }
    )
    write_dataset(directory, {"transactions": frame})
    return directory


def _agent(email, user_id):
    return {
        "type": "agent",
        "agent_id": email[0],
        "persona": "p",
        "email": email,
        "user_id": user_id,
    }


def _write(kind, email, txn):
    return {"type": kind, "agent_id": email[0], "email": email, "client_txn_id": txn}


def test_every_acknowledged_write_stored_once_is_clean(tmp_path):
    ledger = _ledger(
        tmp_path / "ledger",
        [_agent("a@x", 1), _agent("b@x", 2)]
        + [_write(k, "a@x", "t1") for k in ("sent", "ack")]
        + [_write(k, "b@x", "t2") for k in ("sent", "ack")],
    )
    export = _export(tmp_path / "export", [(1, "t1"), (2, "t2"), (3, "browser-write")])
    result = reconcile_export(ledger, export)
    assert result.ok and (result.acknowledged, result.stored) == (2, 2)


def test_lost_doubled_and_unsent_writes_are_counted(tmp_path):
    ledger = _ledger(
        tmp_path / "ledger",
        [_agent("a@x", 1), _agent("c@x", None)]
        + [_write(k, "a@x", t) for t in ("t1", "t2", "t3") for k in ("sent", "ack")]
        + [_write(k, "c@x", "t9") for k in ("sent", "ack")],  # sign-up never gave a user id
    )
    export = _export(tmp_path / "export", [(1, "t1"), (1, "t1"), (1, "t3"), (1, "ghost")])
    result = reconcile_export(ledger, export)
    assert (result.missing, result.duplicated, result.unexpected) == (2, 1, 1)
    assert not result.ok


def test_a_missing_ledger_is_a_clear_error(tmp_path):
    with pytest.raises(MonilabError, match="no load ledger"):
        reconcile_export(tmp_path / "nowhere", tmp_path)
