"""``monilab load --web``: driven through Locust's UI, it ends by itself and reports.

Each test starts ``monilab load --web`` on a free port against the real app on 127.0.0.1,
presses start (``POST /swarm``, as the UI sends it) and, in the second test, STOP
(``POST /stop``), then expects ``monilab load`` to exit 0 on its own with the summary,
Locust's HTML report and the reconciliation written. Whatever is left running at the end
(on a failure) is stopped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from locust_processes import locust_pids

from monilab.lab.appprocess import free_port
from sim.load.runner import LoadRun, locust_command
from sim.plan.shapes import ShapeSpec

UI_WAIT_SECONDS = 60
EXIT_WAIT_SECONDS = 120


class WebLoad:
    """``monilab load --web`` in its own process group, and its web UI."""

    def __init__(self, proc: subprocess.Popen, port: int, out: Path) -> None:
        self.proc = proc
        self.port = port
        self.out = out
        self.ui = f"http://127.0.0.1:{port}"

    def wait_for_ui(self) -> None:
        deadline = time.monotonic() + UI_WAIT_SECONDS
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                if requests.get(self.ui + "/", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        pytest.fail(f"the web UI never answered on {self.ui}\n{self.output()}")

    def template_args(self) -> dict:
        """What the UI page is rendered from (``window.templateArgs``)."""
        page = requests.get(self.ui + "/", timeout=5).text
        match = re.search(r"window\.templateArgs = (\{.*?\})\s*$", page, re.MULTILINE)
        assert match, "no templateArgs in the UI page"
        return json.loads(match.group(1))

    def start(self, host: str) -> dict:
        """Press start: the UI posts its form, url-encoded, with the extra (Moni Lab) options."""
        args = self.template_args()
        assert args["state"] == "ready"
        assert args["hide_common_options"], "the shape decides the users, not the form"
        assert not any(name.startswith("monilab") for name in args["extra_options"])
        form = {"host": host}
        for name, option in args["extra_options"].items():
            value = option["default_value"]
            form[name] = "" if value is None else str(value)
        response = requests.post(self.ui + "/swarm", data=form, timeout=10)
        response.raise_for_status()
        body = response.json()
        assert body["success"] and "shape class 'MoniShape'" in body["message"], body
        return body

    def state(self) -> str:
        return str(requests.get(self.ui + "/stats/requests", timeout=5).json()["state"])

    def wait_for_exit(self) -> int:
        try:
            return self.proc.wait(timeout=EXIT_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"monilab load --web did not exit by itself\n{self.output()}")

    def output(self) -> str:
        """The ends of ``monilab load``'s and Locust's output (for failure messages)."""
        paths = [self.out.parent / "monilab-load.txt", *sorted(self.out.glob("locust-*.*"))]
        return "".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}\n"
            for path in paths
            if path.is_file()
        )

    def summary(self) -> dict:
        return json.loads((self.out / "summary.json").read_text(encoding="utf-8"))


@contextmanager
def web_load(app_url: str, plan: Path, out: Path, run_time: str) -> Iterator[WebLoad]:
    """``monilab load --web`` (6 users, ramp shape), waiting for the user to press start."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "monilab", "load", "--web", "--web-port", str(port),
        "--host", app_url, "--out", str(out), "--plan", str(plan), "--shape", "ramp",
        "--users", "6", "--spawn-rate", "20", "--run-time", run_time, "--time-scale", "60000",
    ]  # fmt: skip
    out.mkdir(parents=True)
    with open(out.parent / "monilab-load.txt", "wb") as output:
        proc = subprocess.Popen(
            cmd, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    load = WebLoad(proc, port, out)
    try:
        load.wait_for_ui()
        yield load
    finally:
        _stop(proc, out)


def _stop(proc: subprocess.Popen, out: Path) -> None:
    """End ``monilab load`` if it is still running, and the Locust it started.

    SIGTERM makes ``monilab load`` stop Locust's own process group; whatever is left of
    either is then killed (Locust found by its ``--out`` in its command line).
    """
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    for pid in locust_pids(out):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _listeners(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) listening on ``port``, IPv4 and IPv6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table, encoding="ascii") as rows:
            next(rows)
            for row in rows:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.append(address)
    return found


def _assert_reported(load: WebLoad) -> dict:
    assert load.wait_for_exit() == 0, load.output()
    summary = load.summary()
    assert summary["total"]["requests"] > 0
    assert (load.out / "locust_report.html").stat().st_size > 1000
    assert (load.out / "locust_stats.json").is_file()
    rec = summary["reconciliation"]
    assert rec["declared"] and rec["acknowledged"] > 0
    assert (rec["missing"], rec["duplicated"], rec["unexpected"]) == (0, 0, 0)
    return summary


@pytest.mark.integration
def test_web_ui_on_loopback_runs_the_shape_and_exits(app_server, small_plan, tmp_path):
    with web_load(app_server.url, small_plan, tmp_path / "load", "6s") as load:
        assert _listeners(load.port) == ["0100007F"]  # 127.0.0.1 only: no 0.0.0.0, no ::
        time.sleep(3)
        assert load.state() == "ready"  # nothing starts before the user presses start
        started = time.monotonic()
        load.start(app_server.url)
        summary = _assert_reported(load)
        assert time.monotonic() - started >= 6  # the whole shape ran, from the start
        assert summary["total"]["failures"] == 0


@pytest.mark.integration
def test_stop_from_the_ui_ends_the_run_with_a_summary(app_server, small_plan, tmp_path):
    with web_load(app_server.url, small_plan, tmp_path / "load", "10m") as load:
        load.start(app_server.url)
        time.sleep(2.5)
        assert load.state() in ("spawning", "running")
        stopped = time.monotonic()
        assert requests.post(load.ui + "/stop", timeout=10).json()["success"]  # the UI's STOP
        summary = _assert_reported(load)
        assert time.monotonic() - stopped < 60  # long before the 10 minutes of the shape
        assert summary["agents_started"] > 0


def test_the_command_binds_the_ui_where_asked_and_waits_for_the_user(tmp_path):
    shape = ShapeSpec(kind="ramp", peak_users=2, spawn_rate=1.0, run_time=30.0)
    headless = LoadRun(
        host="http://127.0.0.1:9", shape=shape, plan_source="{}", plan_digest="d",
        out=tmp_path, run_id="r", max_wait=1.0,
    )  # fmt: skip
    web = dataclasses.replace(headless, web=True, web_port=18089)
    cmd = locust_command(web)
    assert "--headless" not in cmd and "--autostart" not in cmd
    at = cmd.index("--web-host")
    assert cmd[at : at + 4] == ["--web-host", "127.0.0.1", "--web-port", "18089"]
    assert "--web-host" not in locust_command(headless) and "--headless" in locust_command(headless)
    assert web.timeout is None  # waiting for the user to press start is not a hang
    assert headless.timeout == 150.0
    assert dataclasses.replace(headless, role="worker").timeout == 210.0  # + --worker-wait
