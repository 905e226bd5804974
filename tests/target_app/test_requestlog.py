"""The request log: one JSON line per request with the documented fields."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from moni_helpers import spending

from target_app.requestlog import RequestLog, read_records


def log_lines(app) -> list[dict]:
    directory = Path(app.config["REQUEST_LOG_DIR"])
    return [json.loads(line) for path in sorted(directory.glob("*.jsonl")) for line in path.open()]


def test_each_request_is_one_line_with_every_field(app, client, alice):
    before = len(log_lines(app))
    created = alice.post(
        "/api/v1/spendings",
        json=spending(),
        headers={"X-Run-Id": "run-9", "X-Agent-Id": "agent-3", "X-Source": "Locust"},
    ).json
    alice.get(f"/api/v1/spendings/{created['id']}", headers={"X-Source": "browser"})
    client.get("/api/v1/nope", headers={"X-Source": "telnet"})
    client.get("/healthz")
    lines = log_lines(app)[before:]
    assert len(lines) == 4
    post, get, missing, health = lines
    assert set(post) == {
        "ts", "run_id", "agent_id", "source", "user_id", "method", "route", "status",
        "latency_ms", "bytes",
    }  # fmt: skip
    assert post["run_id"] == "run-9" and post["agent_id"] == "agent-3"
    assert post["source"] == "locust" and post["user_id"] == alice.id
    assert post["method"] == "POST" and post["route"] == "/api/v1/spendings"
    assert post["status"] == 201 and post["latency_ms"] > 0 and post["bytes"] > 0
    assert get["route"] == "/api/v1/spendings/<int:spending_id>" and get["source"] == "browser"
    assert missing["route"] == "<unmatched>" and missing["status"] == 404
    assert missing["source"] == "api" and missing["user_id"] is None
    assert health["run_id"] is None and health["route"] == "/healthz"


def test_signup_and_login_are_logged_with_the_new_user(app, client):
    client.post(
        "/api/v1/auth/signup",
        json={"email": "log@example.com", "password": "password-1", "name": "n"},
    )
    client.post("/api/v1/auth/login", json={"email": "log@example.com", "password": "password-1"})
    signup, login = log_lines(app)[-2:]
    assert signup["user_id"] == login["user_id"] and signup["user_id"] is not None


def test_headers_are_truncated(app, client):
    client.get("/healthz", headers={"X-Agent-Id": "a" * 1000})
    assert len(log_lines(app)[-1]["agent_id"]) == 128


def test_concurrent_requests_log_exactly_one_line_each(app, alice):
    before = len(log_lines(app))
    barrier = threading.Barrier(8)

    def hammer(worker: int) -> None:
        client = app.test_client()
        barrier.wait()
        for i in range(25):
            client.get(
                "/api/v1/spendings", headers={**alice.headers, "X-Agent-Id": f"{worker}-{i}"}
            )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(hammer, range(8)))
    lines = log_lines(app)[before:]
    assert len(lines) == 200
    assert len({line["agent_id"] for line in lines}) == 200


def test_reader_flags_torn_lines(tmp_path):
    log = RequestLog(tmp_path)
    log.write({"a": 1})
    with log.path.open("a") as fh:
        fh.write('{"torn": ')
    log.close()
    records = [record for _, _, record in read_records(tmp_path)]
    assert records == [{"a": 1}, None]


def test_log_can_be_turned_off(app_config):
    from target_app import create_app

    app = create_app({**app_config, "REQUEST_LOG_DIR": None})
    assert app.test_client().get("/healthz").status_code == 200
    assert "monilab_request_log" not in app.extensions
    app.extensions["monilab"].db.dispose()
