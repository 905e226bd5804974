"""Server time from the app's request log: reading one run, matching Locust names to routes,
and finding Moni's log through its health check."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from monilab.contracts.errors import MonilabError
from sim import targets
from sim.load.serverlog import (
    discover_request_log,
    latency_bucket_us,
    normalise_path,
    server_latency,
)


def _line(run_id: str | None, method: str, route: str, ms: float, **extra: Any) -> str:
    record = {
        "ts": "2025-01-07T21:04:05.123456",
        "run_id": run_id,
        "agent_id": "a-1",
        "source": "locust",
        "user_id": 1,
        "method": method,
        "route": route,
        "status": 200,
        "latency_ms": ms,
        "bytes": 10,
    } | extra
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "route"),
    [
        ("/api/v1/notifications/<id>/read", "/api/v1/notifications/<int:notification_id>/read"),
        ("/api/v1/spendings [list]", "/api/v1/spendings"),
        ("/items/{{ item.id }}", "/items/<item_id>"),
        ("/items/{id}/", "/items/<uuid:item_id>"),
        ("/items/42?x=1", "/items/<int:item_id>"),
        ("http://host:8000/items/:id", "/items/<path:p>"),
    ],
)
def test_locust_names_and_routes_normalise_alike(name, route):
    assert normalise_path(name) == normalise_path(route)


def test_static_paths_keep_their_words():
    assert normalise_path("/api/v1/spendings/batch") == "/api/v1/spendings/batch"
    assert normalise_path("/api/v1/spendings/batch") != normalise_path("/api/v1/spendings/<id>")
    assert normalise_path("/") == "/"


def test_every_moni_request_name_matches_a_route_of_the_app(tmp_path):
    from target_app import create_app

    app = create_app(
        {
            "SECRET_KEY": "k",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "MONILAB_DATA_DIR": str(tmp_path),
            "REQUEST_LOG_DIR": None,
        }
    )
    routes = {
        (method, normalise_path(rule.rule))
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
    }
    spec = targets.load(None)
    names = {(s.method, s.name) for a in spec.actions.values() for s in a.steps}
    assert names, "the Moni target declares requests"
    assert [n for n in names if (n[0], normalise_path(n[1])) not in routes] == []
    app.extensions["monilab"].db.dispose()


def test_server_latency_per_endpoint_with_unmatched_routes_listed(tmp_path):
    logs = tmp_path / "request-log"
    _write(
        logs / "host-1.jsonl",
        [_line("r1", "POST", "/api/v1/spendings", ms) for ms in (1.0, 2.0, 3.0, 4.0)]
        + [_line("r1", "POST", "/api/v1/notifications/<int:notification_id>/read", 9.5)]
        + [_line("r1", "GET", "/api/v1/assets", 7.0)]  # no Locust endpoint: listed apart
        + [_line("r1", "GET", "<unmatched>", 1.0, status=404)]
        + [_line("r0", "POST", "/api/v1/spendings", 500.0)]  # another run
        + [_line("r1", "POST", "/api/v1/spendings/batch", 80.0, source="api")]  # history
        + ['{"ts": "2025-01-07T21:04:05", "run_id": "r1", "meth\n'],  # torn line
    )
    _write(logs / "host-2.jsonl", [_line("r1", "POST", "/api/v1/spendings", 100.0)])
    endpoints = [
        {"method": "POST", "name": "/api/v1/spendings", "requests": 5},
        {"method": "POST", "name": "/api/v1/notifications/<id>/read", "requests": 1},
        {"method": "GET", "name": "/api/v1/profile", "requests": 3},
    ]
    result = server_latency(logs, "r1", endpoints)
    assert result["files"] == 2
    assert result["requests"] == 8  # 5 + 1 + assets + unmatched
    rows = {row["name"]: row for row in result["endpoints"]}
    assert [row["name"] for row in result["endpoints"]] == [e["name"] for e in endpoints]
    write = rows["/api/v1/spendings"]
    assert (write["route"], write["requests"]) == ("/api/v1/spendings", 5)
    assert (write["p50_ms"], write["p95_ms"], write["p99_ms"]) == (3.0, 100.0, 100.0)
    read = rows["/api/v1/notifications/<id>/read"]
    assert read["route"] == "/api/v1/notifications/<int:notification_id>/read"
    assert (read["requests"], read["p50_ms"]) == (1, 9.5)
    assert rows["/api/v1/profile"] == {
        "method": "GET",
        "name": "/api/v1/profile",
        "route": None,
        "requests": 0,
        "p50_ms": None,
        "p95_ms": None,
        "p99_ms": None,
    }
    unmatched = {(r["method"], r["route"]): r["requests"] for r in result["unmatched_routes"]}
    assert unmatched == {("GET", "/api/v1/assets"): 1, ("GET", "<unmatched>"): 1}
    assert (result["unreadable_lines"], result["other_sources"]) == (1, 1)
    assert "match no Locust endpoint" in result["note"]


def test_all_sources_count_when_asked(tmp_path):
    logs = tmp_path / "log"
    _write(
        logs / "a.jsonl",
        [_line("r1", "GET", "/x", 1.0, source="api"), _line("r1", "GET", "/x", 2.0)],
    )
    assert server_latency(logs, "r1", [], source=None)["requests"] == 2
    assert server_latency(logs, "r1", [])["requests"] == 1


def test_a_log_without_the_run_is_a_note_not_an_error(tmp_path):
    logs = tmp_path / "log"
    _write(logs / "a.jsonl", [_line("other", "GET", "/x", 1.0)])
    result = server_latency(logs, "r1", [{"method": "GET", "name": "/x"}])
    assert result["requests"] == 0 and result["p95_ms"] is None
    assert result["endpoints"][0]["requests"] == 0
    assert "no request of run r1" in result["note"]


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_no_log_files_is_one_line(tmp_path, make):
    where = tmp_path / "log"
    if make == "empty":
        where.mkdir()
    elif make == "file":
        where.write_text("x")
    with pytest.raises(MonilabError) as info:
        server_latency(where, "r1", [])
    assert str(info.value) == f"--server-log {where}: no request log files (*.jsonl)"
    assert "\n" not in str(info.value)


def test_latency_buckets_keep_three_digits():
    assert latency_bucket_us(0.4123) == 410
    assert latency_bucket_us(12.345) == 12_300
    assert latency_bucket_us(345.6) == 346_000
    assert latency_bucket_us(2345.6) == 2_350_000
    assert latency_bucket_us(-1.0) == 0


class _Health(BaseHTTPRequestHandler):
    answer: ClassVar[dict[str, Any]] = {}
    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.asked.append(self.path)
        body = json.dumps(self.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[str, type[_Health]]]:
    handler = type("Handler", (_Health,), {"answer": {}, "asked": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_discover_finds_a_readable_log_the_app_reports(health_server, tmp_path):
    url, handler = health_server
    handler.answer = {"status": "ok", "request_log": str(tmp_path)}
    assert discover_request_log(url) == tmp_path
    assert handler.asked == ["/healthz?request_log=1"]


@pytest.mark.parametrize(
    "answer", [{"status": "ok"}, {"request_log": "/no/such/dir"}, {"request_log": 3}]
)
def test_discover_gives_none_without_a_readable_log(health_server, answer):
    url, handler = health_server
    handler.answer = answer
    assert discover_request_log(url) is None


def test_discover_gives_none_when_nothing_answers():
    from monilab.lab.appprocess import free_port

    assert discover_request_log(f"http://127.0.0.1:{free_port()}", timeout=1.0) is None


def test_a_route_two_names_share_is_said_but_not_one_per_method(tmp_path):
    logs = tmp_path / "log"
    _write(logs / "a.jsonl", [_line("r1", m, "/api/v1/spendings", 1.0) for m in ("GET", "POST")])
    both = [
        {"method": "GET", "name": "/api/v1/spendings [list]"},
        {"method": "POST", "name": "/api/v1/spendings"},
    ]
    assert server_latency(logs, "r1", both)["note"] is None
    shared = [*both, {"method": "GET", "name": "/api/v1/spendings"}]
    result = server_latency(logs, "r1", shared)
    assert "several Locust names share a route (GET /api/v1/spendings)" in result["note"]
    assert [r["requests"] for r in result["endpoints"]] == [1, 1, 1]
