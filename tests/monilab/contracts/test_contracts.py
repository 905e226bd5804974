"""The data contracts: conform/validate, dataset writer and reader."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pyarrow as pa
import pytest

from monilab.contracts import datasets, tables
from monilab.contracts.errors import SchemaError


def _transactions(rows: int = 3, **overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "txn_id": range(rows),
            "user_id": [7] * rows,
            "ts": pd.date_range("2024-01-01 08:13", periods=rows, freq="37min"),
            "method": ["card"] * rows,
            "amount": [4500 + 100 * i for i in range(rows)],
            "merchant": ["스타벅스"] * rows,
            "category": ["coffee"] * rows,
            "direction": ["out"] * rows,
            "is_anomaly": [False] * rows,
            "anomaly_kind": [None] * rows,
        }
    )
    for column, value in overrides.items():
        frame[column] = value
    return frame


def test_conform_returns_contract_schema_in_order():
    frame = _transactions()[list(reversed(_transactions().columns))]
    table = tables.conform("transactions", frame)
    assert table.schema.names == tables.TRANSACTIONS.schema.names
    assert table.schema.field("amount").type == pa.int64()
    assert table.schema.field("ts").type == pa.timestamp("us")


def test_conform_keeps_declared_optional_columns():
    frame = _transactions(client_txn_id=["a", "b", "c"])
    table = tables.conform("transactions", frame)
    assert table.column_names[-1] == "client_txn_id"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns=["amount"]), "missing column 'amount'"),
        (lambda f: f.assign(colour="red"), "unknown column 'colour'"),
        (lambda f: f.assign(amount=[100, 0, 300]), "column 'amount' row 1: must be > 0"),
        (lambda f: f.assign(category=["coffee", "coffee", "cofee"]), "column 'category' row 2"),
        (lambda f: f.assign(direction=["out", None, "out"]), "column 'direction' row 1: null"),
        (lambda f: f.assign(amount=["100", "x", "3"]), "column 'amount' row 1: 'x' is not int64"),
    ],
)
def test_conform_names_the_offending_column_and_row(mutate, message):
    with pytest.raises(SchemaError, match=message):
        tables.conform("transactions", mutate(_transactions()))


def test_unknown_table_is_a_clear_error():
    with pytest.raises(SchemaError, match="unknown table 'spendings'"):
        tables.conform("spendings", _transactions())


def test_users_range_and_domain_rules():
    users = pd.DataFrame(
        {
            "user_id": [1, 2],
            "persona": ["p", "p"],
            "spending_type": ["saver", "yolo"],
            "age": [31, 140],
            "gender": ["f", "m"],
            "occupation": ["회사원", "학생"],
            "region": ["서울", "부산"],
            "monthly_income": [3_000_000, 500_000],
            "signup_at": [datetime(2024, 1, 1), datetime(2024, 1, 2)],
        }
    )
    with pytest.raises(SchemaError, match=r"users: column 'age' row 1: 140 is outside \[10, 110\]"):
        tables.conform("users", users)
    users.loc[1, "age"] = 22
    users.loc[0, "spending_type"] = "thrifty"
    with pytest.raises(SchemaError, match="'thrifty' is not one of saver"):
        tables.conform("users", users)


def test_dataset_round_trip_in_parts(tmp_path):
    out = tmp_path / "ds"
    with datasets.DatasetWriter(out, seed=11, sources=["test"]) as writer:
        writer.write("transactions", _transactions(3))
        writer.write("transactions", _transactions(2))
        writer.meta["note"] = "two parts"
    dataset = datasets.read_dataset(out)
    assert dataset.manifest["seed"] == 11
    assert dataset.manifest["schema_version"] == datasets.SCHEMA_VERSION
    assert dataset.rows("transactions") == 5
    assert len(dataset.parts("transactions")) == 2
    table = dataset.table("transactions")
    assert table.num_rows == 5
    assert table.schema == tables.TRANSACTIONS.schema
    assert dataset.frame("transactions")["amount"].tolist() == [4500, 4600, 4700, 4500, 4600]


def test_same_data_writes_same_bytes(tmp_path):
    for name in ("a", "b"):
        datasets.write_dataset(tmp_path / name, {"transactions": _transactions(50)}, seed=1)
    part = "transactions/part-00000.parquet"
    assert (tmp_path / "a" / part).read_bytes() == (tmp_path / "b" / part).read_bytes()


def test_writer_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(SchemaError, match="not empty"):
        datasets.DatasetWriter(tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_reader_errors_are_readable(tmp_path):
    with pytest.raises(SchemaError, match="is not a dataset"):
        datasets.read_dataset(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(SchemaError, match="schema_version 99"):
        datasets.read_dataset(tmp_path)


def _events(source: str, rows: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.date_range("2024-01-01 09:00", periods=rows, freq="s"),
            "run_id": ["r1"] * rows,
            "user_id": [1] * rows,
            "agent_id": ["a1"] * rows,
            "source": [source] * rows,
            "method": ["GET"] * rows,
            "route": ["/healthz"] * rows,
            "status": [200] * rows,
            "latency_ms": [1.5] * rows,
            "bytes": [10] * rows,
        }
    )


def test_partitions_split_a_table_and_read_back(tmp_path):
    with datasets.DatasetWriter(tmp_path / "ds") as writer:
        writer.write("events", _events("locust", 3), partition="source=locust")
        writer.write("events", _events("browser", 2), partition="source=browser")
        writer.write("events", _events("locust", 1), partition="source=locust")
    dataset = datasets.read_dataset(tmp_path / "ds")
    assert dataset.partitions("events") == ["source=browser", "source=locust"]
    assert dataset.rows("events") == 6
    assert dataset.table("events", partition="source=locust").num_rows == 4
    assert set(dataset.frame("events", partition="source=browser")["source"]) == {"browser"}
    assert dataset.parts("events", "source=locust")[1].name == "part-00001.parquet"
    with pytest.raises(SchemaError, match="not like key=value"):
        datasets.DatasetWriter(tmp_path / "x").write("events", _events("api", 1), partition="../x")
