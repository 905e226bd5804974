"""``monilab export`` in-process: app tables and request log into a valid dataset."""

from __future__ import annotations

import json

import pytest
from moni_helpers import spending

from monilab.contracts.datasets import read_dataset
from monilab.contracts.errors import MonilabError
from monilab.contracts.tables import conform
from target_app.export import export_dataset


def _populate(client, alice) -> None:
    run = {"X-Run-Id": "run-a", "X-Source": "locust", "X-Agent-Id": "agent-1"}
    lab_user = client.post(
        "/api/v1/auth/signup",
        json={
            "email": "lab@example.com",
            "password": "password-1",
            "name": "agent",
            "persona": "saver_40s",
            "agent_id": "agent-1",
            "age": 44,
            "gender": "m",
        },
        headers=run,
    ).json
    headers = {**run, "Authorization": f"Bearer {lab_user['token']}"}
    client.post(
        "/api/v1/spendings", json=spending(client_txn_id="t-1", memo="메모"), headers=headers
    )
    client.post("/api/v1/spendings", json=spending(client_txn_id="t-2"), headers=headers)
    alice.post(
        "/api/v1/spendings", json=spending(client_txn_id=None), headers={"X-Source": "browser"}
    )


def _export(app, out, **options):
    """Export the test app's database and request log to ``out``; returns the manifest."""
    return export_dataset(
        out,
        database_url=app.config["DATABASE_URL"],
        request_log_dir=app.config["REQUEST_LOG_DIR"],
        **options,
    )


def test_export_round_trips_into_the_contracts(app, client, alice, tmp_path):
    _populate(client, alice)
    out = tmp_path / "dataset"
    manifest = _export(app, out)
    dataset = read_dataset(out)
    users, txns, events = (dataset.table(name) for name in ("users", "transactions", "events"))
    for name, table in (("users", users), ("transactions", txns), ("events", events)):
        assert conform(name, table).num_rows == table.num_rows == manifest["tables"][name]["rows"]
    by_agent = {row["agent_id"]: row for row in users.to_pylist()}
    assert by_agent["agent-1"]["persona"] == "saver_40s" and by_agent["agent-1"]["age"] == 44
    assert by_agent[None]["persona"] == "unknown"
    assert all(row["spending_type"] is None for row in users.to_pylist())
    rows = txns.to_pylist()
    assert len(rows) == 3
    assert {row["client_txn_id"] for row in rows} == {"t-1", "t-2", None}
    assert [row["memo"] for row in rows if row["client_txn_id"] == "t-1"] == ["메모"]
    assert all(row["is_anomaly"] is None and row["anomaly_kind"] is None for row in rows)
    sources = events.column("source").to_pylist()
    assert sources.count("locust") == 3 and sources.count("browser") == 1
    assert events.num_rows == sum(1 for _ in open_log_lines(app))


def test_export_splits_events_by_source_and_joins_them_to_personas(app, client, alice, tmp_path):
    _populate(client, alice)
    out = tmp_path / "dataset"
    _export(app, out)
    dataset = read_dataset(out)
    assert {"source=browser", "source=locust"} <= set(dataset.partitions("events"))
    locust = dataset.frame("events", partition="source=locust")
    browser = dataset.frame("events", partition="source=browser")
    assert set(locust["source"]) == {"locust"} and set(browser["source"]) == {"browser"}
    assert len(locust) + len(browser) <= dataset.rows("events")
    users = dataset.frame("users")[["agent_id", "persona"]].dropna()
    joined = locust.merge(users, on="agent_id", how="inner")
    assert len(joined) == len(locust) and set(joined["persona"]) == {"saver_40s"}


def open_log_lines(app):
    from pathlib import Path

    for path in Path(app.config["REQUEST_LOG_DIR"]).glob("*.jsonl"):
        yield from path.open()


def test_export_keeps_one_run_and_streams_in_chunks(app, client, alice, tmp_path):
    _populate(client, alice)
    out = tmp_path / "run-a"
    manifest = _export(app, out, run_id="run-a", chunk_rows=1)
    assert manifest["tables"]["users"]["rows"] == 1
    assert manifest["tables"]["transactions"]["rows"] == 2
    assert len(manifest["tables"]["transactions"]["files"]) == 2  # one part per chunk
    events = read_dataset(out).table("events")
    assert set(events.column("run_id").to_pylist()) == {"run-a"} and events.num_rows == 3


def test_export_of_an_empty_app_writes_empty_tables(app, tmp_path):
    out = tmp_path / "empty"
    export_dataset(
        out, database_url=app.config["DATABASE_URL"], request_log_dir=tmp_path / "no-log"
    )
    dataset = read_dataset(out)
    assert {name: dataset.rows(name) for name in dataset.tables} == {
        "events": 0,
        "transactions": 0,
        "users": 0,
    }


def test_bad_log_lines_are_skipped(app, client, tmp_path):
    client.get("/healthz")
    log_dir = tmp_path / "request-log"
    (log_dir / "other-1.jsonl").write_text(
        '{"torn": \n' + json.dumps({"ts": "bad", "method": "GET"}) + "\n[1]\n"
    )
    export_dataset(
        tmp_path / "out", database_url=app.config["DATABASE_URL"], request_log_dir=log_dir
    )
    assert read_dataset(tmp_path / "out").rows("events") == 1


def test_export_refuses_a_missing_database(tmp_path):
    with pytest.raises(MonilabError, match="no app database"):
        export_dataset(
            tmp_path / "out",
            database_url=f"sqlite:///{tmp_path / 'nope.sqlite3'}",
            request_log_dir=tmp_path,
        )
    assert not (tmp_path / "nope.sqlite3").exists()
