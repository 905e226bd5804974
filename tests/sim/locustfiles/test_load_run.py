"""Real Locust runs against the real app on 127.0.0.1 (bounded in users and seconds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from locust_processes import locust_pids

from sim.reconcile.ledger import read_ledger

pytestmark = pytest.mark.integration


def _load(host: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable, "-m", "monilab", "load", "--host", host, "--out", str(out),
        "--shape", "ramp", "--spawn-rate", "20", "--time-scale", "60000", *extra,
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_bounded_run_has_no_failures_and_reconciles(app_server, small_plan, tmp_path):
    out = tmp_path / "load"
    checks = ["p95<60s", "failures<0.5%", "lost_writes==0", "POST /api/v1/spendings: p99<60000"]
    result = _load(
        app_server.url, out, "--users", "6", "--run-time", "6s", "--plan", str(small_plan),
        *[arg for check in checks for arg in ("--threshold", check)],
        "--junit", str(tmp_path / "junit.xml"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = _summary(out)
    assert [(t["expr"], t["verdict"]) for t in summary["thresholds"]] == [
        (check, "pass") for check in checks
    ]
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("5", "0")
    assert summary["total"]["requests"] > 100
    assert summary["total"]["failures"] == 0
    rec = summary["reconciliation"]
    assert rec["acknowledged"] > 0
    assert (rec["missing"], rec["duplicated"], rec["unexpected"]) == (0, 0, 0)
    names = {row["name"] for row in summary["endpoints"]}
    assert "/api/v1/spendings [list]" in names and "/api/v1/notifications/<id>/read" not in names
    # Per-persona counts come from the ledger, totals from Locust's last CSV write: on a busy
    # machine a few requests can finish after that write, so they may differ by a handful.
    persona_requests = summary["personas"]["test_persona"]["requests"]
    assert abs(persona_requests - summary["total"]["requests"]) <= 10
    assert (out / "locust_report.html").stat().st_size > 1000
    assert (out / "locust_stats_history.csv").is_file()


def test_failed_thresholds_exit_1_and_say_which(app_server, small_plan, tmp_path):
    out = tmp_path / "load"
    checks = ["p50<0.5ms", "persona test_persona: rps>100000", "GET /nowhere: p95<1s", "p99<60s"]
    result = _load(
        app_server.url, out, "--users", "4", "--run-time", "4s", "--plan", str(small_plan),
        *[arg for check in checks for arg in ("--threshold", check)],
        "--junit", str(tmp_path / "junit.xml"),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    verdicts = [t["verdict"] for t in _summary(out)["thresholds"]]
    assert verdicts == ["fail", "fail", "no data", "pass"]
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("5", "3")
    assert "thresholds" in result.stdout


LYING_TARGET = """
from sim import targets
from sim.targets.session import TargetSession


class Lying(TargetSession):
    target_spec = targets.load(None)  # Moni, whose read-back reconciles the run

    def __init__(self, client, run_id, plan, ledger, **options):
        super().__init__(self.target_spec, client, run_id, plan, ledger, **options)

    def perform(self, action):
        super().perform(action)
        if action.kind == "add_spending":  # claims a write the app never got
            ghost = "ghost-" + action.payload["client_txn_id"]
            who = {"agent_id": self.plan.agent_id, "email": self.email}
            self.ledger.record("ack", **who, client_txn_id=ghost, spending_id=0)
"""


def test_lost_writes_exit_3_even_when_thresholds_fail_too(app_server, small_plan, tmp_path):
    (tmp_path / "lying_target.py").write_text(LYING_TARGET, encoding="utf-8")
    cmd = [
        sys.executable, "-m", "monilab", "load", "--host", app_server.url,
        "--out", str(tmp_path / "load"), "--users", "3", "--run-time", "4s", "--shape", "ramp",
        "--spawn-rate", "20", "--time-scale", "60000", "--plan", str(small_plan),
        "--target", "lying_target:Lying", "--threshold", "lost_writes==0",
        "--junit", str(tmp_path / "junit.xml"),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.getcwd()}"}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
    assert result.returncode == 3, result.stdout + result.stderr
    summary = _summary(tmp_path / "load")
    missing = summary["reconciliation"]["missing"]
    assert missing > 0 and summary["thresholds"][0]["value"] == missing
    failures = ET.parse(tmp_path / "junit.xml").getroot().findall("testsuite/testcase/failure")
    assert {f.get("type") for f in failures} == {"threshold", "reconciliation"}


def test_killed_and_restarted_app_loses_no_acknowledged_write(app_server, small_plan, tmp_path):
    out = tmp_path / "load"
    outcome: dict = {}
    runner = threading.Thread(
        target=lambda: outcome.update(
            result=_load(
                app_server.url, out, "--users", "6", "--run-time", "16s", "--max-wait", "0.2",
                "--time-scale", "600", "--plan", str(small_plan),
            )
        )
    )  # fmt: skip
    runner.start()
    time.sleep(5)
    app_server.stop(kill=True)  # SIGKILL: no graceful shutdown, requests in flight are lost
    time.sleep(2)
    app_server.start()
    runner.join(timeout=200)
    result = outcome["result"]
    assert result.returncode == 0, result.stderr
    summary = _summary(out)
    rec = summary["reconciliation"]
    assert summary["total"]["failures"] > 0  # the outage was seen...
    assert rec["acknowledged"] > 0
    assert (rec["missing"], rec["duplicated"], rec["unexpected"]) == (0, 0, 0)  # ...and survived


def test_two_worker_processes_take_disjoint_agents(app_server, small_plan, tmp_path):
    out = tmp_path / "load"
    result = _load(
        app_server.url, out, "--users", "6", "--run-time", "8s", "--processes", "2",
        "--plan", str(small_plan),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    agents = [line for line in read_ledger(out / "ledger") if line["type"] == "agent"]
    ids = [line["agent_id"] for line in agents]
    assert len(ids) == len(set(ids)), "an agent was taken twice"
    by_worker = {line["worker"] for line in agents}
    assert by_worker == {0, 1}
    for line in agents:
        assert int(line["agent_id"][1:]) % 2 == line["worker"]
    assert _summary(out)["reconciliation"]["ok"]


def test_bad_arguments_are_one_line(tmp_path):
    for args in (["--host", "ftp://x"], ["--host", "http://127.0.0.1:9", "--run-time", "soon"]):
        result = subprocess.run(
            [sys.executable, "-m", "monilab", "load", *args, "--out", str(tmp_path)],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_population_drives_the_load_and_the_app_logs_it(app_server, tmp_path):
    out = tmp_path / "load"
    result = _load(
        app_server.url, out, "--users", "8", "--run-time", "8s", "--agents", "16",
        "--days", "3", "--time-scale", "400000", "--shape", "population", "--run-id", "pop-1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = _summary(out)
    assert summary["total"]["failures"] == 0
    assert summary["reconciliation"]["ok"] and summary["reconciliation"]["acknowledged"] > 0
    assert len(summary["personas"]) >= 2  # several personas, each with its own percentiles
    agent_ids = {
        line["agent_id"] for line in read_ledger(out / "ledger") if line["type"] == "agent"
    }
    logged = [
        json.loads(line)
        for path in (app_server.data_dir / "request-log").glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    of_run = [e for e in logged if e.get("run_id") == "pop-1"]
    from_load = [e for e in of_run if e["source"] == "locust"]
    assert from_load and {e["source"] for e in of_run} <= {"locust", "api"}  # api: read-back
    assert {e["agent_id"] for e in from_load} <= agent_ids


SILENT_TARGET = """
class Silent:
    health = None

    def __init__(self, *args, **kwargs):
        pass

    def start_session(self):
        pass

    def perform(self, action):
        pass
"""


def test_a_load_that_sent_nothing_fails(small_plan, tmp_path):
    # a target that carries out nothing (here a class that sends no request): Locust runs,
    # its users replay their agents, and no request reaches any app, which must not pass
    (tmp_path / "silent_target.py").write_text(SILENT_TARGET, encoding="utf-8")
    cmd = [
        sys.executable, "-m", "monilab", "load", "--host", "http://127.0.0.1:9",
        "--out", str(tmp_path / "load"), "--users", "2", "--run-time", "3s",
        "--plan", str(small_plan), "--target", "silent_target:Silent",
        "--junit", str(tmp_path / "junit.xml"),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.getcwd()}"}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("monilab load:")]
    assert len(lines) == 1 and "the load sent no requests" in lines[0]
    error = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite/testcase/error")
    assert error is not None and "no requests" in error.get("message", "")
    assert "Traceback" not in result.stderr and not (tmp_path / "load" / "summary.json").exists()


def test_a_summary_of_zero_requests_is_a_failure(tmp_path):
    from monilab.contracts.errors import MonilabError
    from sim import targets
    from sim.load.options import LoadOptions
    from sim.load.runner import LoadRun
    from sim.load.session import write_summary
    from sim.plan.shapes import ShapeSpec

    options = LoadOptions(host="http://127.0.0.1:9", out=tmp_path)
    run = LoadRun(
        host=options.host, shape=ShapeSpec(kind="ramp", peak_users=1, spawn_rate=1.0,
                                           run_time=1.0), plan_source="{}", plan_digest="",
        out=tmp_path, run_id="r", max_wait=1.0,
    )  # fmt: skip
    with pytest.raises(MonilabError, match="the load sent no requests"):
        write_summary(options, run, 1.0, targets.load(None))


def test_sigterm_stops_the_whole_locust_group(app_server, tmp_path, small_plan):
    out = tmp_path / "load"
    cmd = [
        sys.executable, "-m", "monilab", "load", "--host", app_server.url, "--out", str(out),
        "--shape", "ramp", "--users", "4", "--run-time", "5m", "--plan", str(small_plan),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not locust_pids(out) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert locust_pids(out), "Locust never started"
        time.sleep(2)
        proc.terminate()  # SIGTERM, as a CI timeout or `timeout` sends
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 30
    while locust_pids(out) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert locust_pids(out) == [], "Locust outlived monilab load"
    assert proc.returncode == 130 and "interrupted" in proc.stderr.read()
