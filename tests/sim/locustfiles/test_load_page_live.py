"""A tiny real load on Moni writes ``load.html`` with server time beside client time."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sim.load.serverlog import discover_request_log

pytestmark = pytest.mark.integration


def test_a_real_load_writes_its_page_with_server_time(app_server, small_plan, tmp_path):
    out = tmp_path / "load"
    log_dir = discover_request_log(app_server.url)
    assert log_dir == (tmp_path / "app-data" / "request-log").resolve()
    cmd = [
        sys.executable, "-m", "monilab", "load", "--host", app_server.url, "--out", str(out),
        "--plan", str(small_plan), "--users", "4", "--run-time", "5s", "--shape", "ramp",
        "--spawn-rate", "20", "--time-scale", "60000",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    page = out / "load.html"
    assert page.is_file() and f"page {page}" in result.stdout + result.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    html = page.read_text(encoding="utf-8")
    assert "test_persona" in html and "/api/v1/spendings [list]" in html
    assert (out / "img" / "load_p95_per_endpoint.png").is_file()
    assert "server p95_ms" in html

    server = summary["server"]
    assert server["log_dir"] == str(log_dir) and server["requests"] > 0
    rows = {(r["method"], r["name"]): r for r in server["endpoints"]}
    client = {(r["method"], r["name"]): r for r in summary["endpoints"]}
    write = ("POST", "/api/v1/spendings")
    assert rows[write]["route"] == "/api/v1/spendings"
    # Requests Locust still had in flight when it stopped reach the server's log only.
    assert 0 <= rows[write]["requests"] - client[write]["requests"] <= 10
    assert client[write]["requests"] > 0
    assert rows[("GET", "/api/v1/spendings [list]")]["requests"] > 0
    assert 0 < rows[write]["p50_ms"] <= client[write]["p95_ms"]
