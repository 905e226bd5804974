"""The README's three-machine recipe, simulated with three separate working directories.

Each "machine" runs ``monilab load`` from its own directory with the README's relative
``--out``; no path goes from the master to a worker: every worker builds its own agents
from its own options. A run whose workers cannot all be accounted for must fail.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from locust_processes import locust_pids_in

from monilab.lab.appprocess import free_port

pytestmark = pytest.mark.integration

SAME_PLAN = ["--users", "4", "--agents", "8", "--days", "2", "--seed", "11"]
RUN = ["--shape", "ramp", "--spawn-rate", "20", "--time-scale", "60000", "--run-time", "8s"]


def _start(machine: Path, host: str, *args: str) -> subprocess.Popen:
    """``monilab load`` started in ``machine`` (its own working directory)."""
    machine.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "monilab", "load", "--host", host, "--out", "out/load", *args]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    return subprocess.Popen(
        cmd,
        cwd=machine,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _finish(procs: list[subprocess.Popen], timeout: float = 150) -> list[tuple[int, str]]:
    """Wait for every process (killing its group past ``timeout``): (status, stderr)."""
    deadline = time.monotonic() + timeout
    results = []
    for proc in procs:
        try:
            _, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            _, err = proc.communicate()
        results.append((proc.returncode, err))
    return results


def _master(root: Path, host: str, port: int, *extra: str) -> subprocess.Popen:
    return _start(
        root / "master", host, *SAME_PLAN, *RUN, "--master", "--expect-workers", "2",
        "--master-port", str(port), *extra,
    )  # fmt: skip


def _worker(root: Path, name: str, host: str, port: int, *plan: str) -> subprocess.Popen:
    return _start(
        root / name, host, *(plan or SAME_PLAN), "--worker", "--master-host", "127.0.0.1",
        "--master-port", str(port),
    )  # fmt: skip


def _error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("monilab load:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_three_machines_with_their_own_directories_run_and_reconcile(app_server, tmp_path):
    port = free_port()
    master = _master(tmp_path, app_server.url, port)
    workers = [_worker(tmp_path, f"worker{i}", app_server.url, port) for i in (1, 2)]
    (code, err), *ends = _finish([master, *workers])
    assert code == 0, err
    assert [status for status, _ in ends] == [0, 0], ends
    summary = json.loads((tmp_path / "master/out/load/summary.json").read_text("utf-8"))
    assert summary["total"]["requests"] > 0 and summary["reconciliation"]["ok"] is True
    assert summary["agents_started"] == 8  # both slices, no agent twice
    parts = (tmp_path / "master/out/load/ledger/parts.jsonl").read_text("utf-8")
    done = [json.loads(line) for line in parts.splitlines() if '"done"' in line]
    assert sorted(d["worker"] for d in done) == [0, 1]
    assert all(d["received"] == d["sent"] > 0 and d["agents"] == 4 for d in done)


def test_a_worker_that_cannot_start_fails_the_run(app_server, tmp_path):
    port = free_port()
    master = _master(tmp_path, app_server.url, port, "--worker-wait", "5s")
    good = _worker(tmp_path, "worker1", app_server.url, port)
    bad = _worker(tmp_path, "worker2", app_server.url, port, *SAME_PLAN, "--personas", "nope.toml")
    (code, err), _, (bad_code, bad_err) = _finish([master, good, bad])
    assert bad_code == 2 and "nope.toml" in _error_line(bad_err)
    assert code == 2, err
    assert "only 1 of 2 workers connected within 5s" in _error_line(err)
    assert not (tmp_path / "master/out/load/summary.json").exists()


def test_a_worker_with_another_plan_fails_the_run(app_server, tmp_path):
    port = free_port()
    master = _master(tmp_path, app_server.url, port)
    other = [*SAME_PLAN[:-1], "12"]  # another seed: other agents
    workers = [
        _worker(tmp_path, "worker1", app_server.url, port),
        _worker(tmp_path, "worker2", app_server.url, port, *other),
    ]
    (code, err), *_ = _finish([master, *workers])
    assert code == 2, err
    assert "plan differs from the master's" in _error_line(err)


def test_a_worker_killed_during_the_run_fails_it(app_server, tmp_path):
    port = free_port()
    master = _master(tmp_path, app_server.url, port)
    workers = [_worker(tmp_path, f"worker{i}", app_server.url, port) for i in (1, 2)]
    time.sleep(0.5)
    ledger = tmp_path / "master/out/load/ledger/parts.jsonl"
    deadline = time.monotonic() + 90
    while ledger.read_text("utf-8").count("connected") < 2 if ledger.exists() else True:
        assert time.monotonic() < deadline, "the workers never connected"
        time.sleep(0.3)
    time.sleep(2)
    for pid in [workers[1].pid, *locust_pids_in(tmp_path / "worker2")]:
        os.kill(pid, signal.SIGKILL)  # the machine dies: no goodbye
    (code, err), *_ = _finish([master, *workers])
    assert code == 2, err
    assert "did not report its end" in _error_line(err)
