"""A real ``monilab serve`` (gunicorn, 2 workers) under concurrent clients.

Proves: one request-log line per request across worker processes, no lost or doubled
write under concurrent retries, a clean stop on SIGTERM and SIGINT, and an export that
matches. Runs on SQLite and PostgreSQL like the other app tests.
"""

from __future__ import annotations

import json
import signal
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from monilab.cli.main import main
from monilab.contracts.datasets import read_dataset
from monilab.contracts.tables import conform
from monilab.lab.appprocess import AppProcess

pytestmark = pytest.mark.integration

THREADS = 8
REQUESTS = 400
SOURCES = ("locust", "browser", "api", "carrier-pigeon")


def log_records(server: AppProcess) -> list[dict]:
    directory = server.data_dir / "request-log"
    return [json.loads(line) for path in directory.glob("*.jsonl") for line in path.open()]


@pytest.fixture
def server(tmp_path, database_url):
    """``monilab serve`` (2 workers × 4 threads) in its own process; fresh secret key."""
    running = AppProcess(
        tmp_path / "data",
        workers=2,
        threads=4,
        database_url=database_url,
        startup_timeout=60.0,
        env={"MONILAB_PASSWORD_HASH": "pbkdf2:sha256:1000", "MONILAB_SECRET_KEY": None},
    ).start()
    yield running
    running.stop(kill=True)


def sign_up(url: str, name: str) -> dict[str, str]:
    response = requests.post(
        f"{url}/api/v1/auth/signup",
        json={"email": f"{name}-{uuid.uuid4().hex[:6]}@example.com", "password": "password-1",
              "name": name, "agent_id": name},
        timeout=10,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_every_request_is_logged_once_and_no_write_is_lost(server, tmp_path):
    auth = sign_up(server.url, "load")
    barrier = threading.Barrier(THREADS)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def client(worker: int) -> None:
        session = requests.Session()
        barrier.wait()
        for i in range(REQUESTS // THREADS):
            n = worker * 1000 + i
            headers = {**auth, "X-Run-Id": "load", "X-Agent-Id": f"w{worker}",
                       "X-Source": SOURCES[n % len(SOURCES)]}  # fmt: skip
            if i % 3 == 0:
                response = session.get(f"{server.url}/healthz", headers=headers, timeout=30)
            elif i % 3 == 1:
                response = session.get(
                    f"{server.url}/api/v1/spendings", headers=headers, timeout=30
                )
            else:
                body = {"spent_at": "2024-03-01T12:00:00+09:00", "amount": 1000 + n,
                        "category": "food", "client_txn_id": f"txn-{n}"}  # fmt: skip
                response = session.post(
                    f"{server.url}/api/v1/spendings", json=body, headers=headers, timeout=30
                )
            with lock:
                statuses[response.status_code] += 1

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(client, range(THREADS)))
    assert statuses == Counter({200: statuses[200], 201: statuses[201]})
    writes = sum(1 for w in range(THREADS) for i in range(REQUESTS // THREADS) if i % 3 == 2)
    assert statuses[201] == writes

    # Concurrent retries of one write across both workers: stored once.
    body = {"spent_at": "2024-03-02T12:00:00+09:00", "amount": 5, "category": "coffee",
            "client_txn_id": "retried"}  # fmt: skip
    retry_barrier = threading.Barrier(THREADS)

    def retry(_: int) -> int:
        retry_barrier.wait()
        response = requests.post(
            f"{server.url}/api/v1/spendings", json=body, headers={**auth, "X-Run-Id": "retry"},
            timeout=30,
        )  # fmt: skip
        return response.status_code

    with ThreadPoolExecutor(THREADS) as pool:
        assert sorted(pool.map(retry, range(THREADS))) == [200] * (THREADS - 1) + [201]
    stored = requests.get(f"{server.url}/api/v1/spendings?limit=500", headers=auth, timeout=30)
    assert stored.json()["total"] == writes + 1

    assert server.stop(signal.SIGTERM) == 0
    records = log_records(server)
    load = [r for r in records if r["run_id"] == "load"]
    assert len(load) == REQUESTS
    sent = Counter(
        SOURCES[(w * 1000 + i) % len(SOURCES)]
        for w in range(THREADS)
        for i in range(REQUESTS // THREADS)
    )
    assert Counter(r["source"] for r in load) == {
        "locust": sent["locust"],
        "browser": sent["browser"],
        "api": sent["api"] + sent["carrier-pigeon"],  # an unknown X-Source is logged as api
    }
    assert {r["route"] for r in load} == {"/healthz", "/api/v1/spendings"}
    files = list((server.data_dir / "request-log").glob("*.jsonl"))
    assert len(files) >= 2, "both workers should have served and logged"
    assert sum(1 for r in records if r["run_id"] == "retry") == THREADS

    out = tmp_path / "export"
    argv = ["export", "--out", str(out), "--data-dir", str(server.data_dir)]
    database_url = server.database_url
    assert main([*argv, "--database-url", database_url]) == 0
    dataset = read_dataset(out)
    assert dataset.rows("events") == len(records)
    assert dataset.rows("transactions") == writes + 1
    for table in ("users", "transactions", "events"):
        conform(table, dataset.table(table))


def test_sigint_stops_the_server_cleanly(server):
    auth = sign_up(server.url, "quick")
    assert requests.get(f"{server.url}/api/v1/profile", headers=auth, timeout=10).ok
    assert server.stop(signal.SIGINT) == 0
    assert len(log_records(server)) >= 2


def test_sessions_work_across_workers(server):
    """The secret key is shared: a session cookie from one worker is valid on the other."""
    session = requests.Session()
    page = session.get(f"{server.url}/signup/", timeout=10).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signup = session.post(
        f"{server.url}/signup/",
        data={"csrf_token": token, "email": "web@example.com", "password": "password-1",
              "name": "웹"},
        allow_redirects=False,
        timeout=10,
    )  # fmt: skip
    assert signup.status_code == 302
    for _ in range(20):  # new connections land on either worker
        fresh = requests.get(f"{server.url}/mypage/", cookies=session.cookies, timeout=10)
        assert fresh.status_code == 200 and 'data-testid="page-mypage"' in fresh.text
