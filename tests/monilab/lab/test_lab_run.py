"""``monilab run`` end to end: the quick lab run, its report in Chromium, failures, Ctrl-C.

These run the real thing (Mesa population, gunicorn app on 127.0.0.1, Locust in its own
process, Chromium, models, calibration) in a few minutes altogether.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from monilab.lab.report.check import check_report
from sim.browser.options import CHROMIUM

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"Chromium not installed at {CHROMIUM}"),
]

SMALL = ["--set", "population.users=60", "--set", "population.days=100"]


def _monilab(*args: str) -> list[str]:
    return [sys.executable, "-m", "monilab", *args]


def _state(out: Path) -> dict:
    return json.loads((out / "run.json").read_text(encoding="utf-8"))


def _stages(out: Path) -> dict[str, dict]:
    return {stage["name"]: stage for stage in _state(out)["stages"]}


def _app_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2):
            return True
    except (urllib.error.URLError, OSError):
        return False


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes whose arguments contain ``text``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


def test_quick_run_writes_a_report_that_chromium_shows_whole(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        _monilab("run", "--quick", "--out", str(out)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"report: {out / 'index.html'}" in done.stdout
    state = _state(out)
    stages = _stages(out)
    assert state["status"] == "done"
    assert {s["status"] for s in stages.values()} == {"ok"}, stages
    load, db = stages["load"]["facts"], stages["reconcile"]["facts"]
    assert load["requests"] > 0 and load["failures"] == 0
    assert (load["missing"], load["duplicated"], load["unexpected"]) == (0, 0, 0)
    assert db["acknowledged"] > 0 and db["stored"] == db["acknowledged"]
    assert (db["missing"], db["duplicated"], db["unexpected"]) == (0, 0, 0)
    assert stages["browse"]["facts"]["journeys_ok"] == stages["browse"]["facts"]["journeys"]
    assert stages["train"]["facts"]["type_macro_f1_lightgbm"] > 0.5
    # the agents brought their whole history in, and the models learned from the app's export
    assert load["history_spendings"] == db["acknowledged"] == db["stored"]
    assert stages["train"]["facts"]["trained_on"] == "app export"
    assert " --export " in stages["train"]["commands"][0]
    assert stages["calibrate"]["facts"]["calls"]["search"] >= 1
    # every stage names the command that redoes it
    assert stages["train"]["commands"][0].startswith("monilab train --data ")

    problems, pages = check_report(out / "index.html", shots=tmp_path / "shots")
    assert problems == []
    names = {page.path.relative_to(out).as_posix() for page in pages}
    assert {
        "index.html",
        "report/population.html",
        "report/load.html",
        "report/browser.html",
        "models/model_card.html",
        "calibration/report.html",
        "load/locust_report.html",
    } <= names
    population = (out / "report" / "population.html").read_text(encoding="utf-8")
    assert 'data-testid="stylized-facts"' in population and "daily_count_dispersion" in population
    charts = sum(page.images for page in pages if page.path.parent == out / "report")
    assert charts >= 7  # 4 population, 2 load, 1 browser

    # the app is gone and nothing the run started is left behind
    assert not _app_answers(stages["serve"]["facts"]["url"])
    assert _processes_mentioning(str(out)) == []
    print(f"quick lab run: {state['seconds']} s")


def test_a_failing_stage_stops_the_run_and_keeps_what_was_done(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        _monilab(
            "run", "--quick", "--out", str(out), *SMALL, "--skip", "train", "--skip", "calibrate",
            "--set", "load.run_time_s=3", "--set", "browser.chromium=/nonexistent/chromium",
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 1
    assert "stage browse failed: no Chromium at /nonexistent/chromium" in done.stderr
    assert "Traceback" not in done.stderr
    stages = _stages(out)
    assert _state(out)["status"] == "failed"
    assert [stages[s]["status"] for s in ("generate", "serve", "load")] == ["ok"] * 3
    assert stages["browse"]["status"] == "failed"
    assert stages["export"]["status"] == "pending"
    assert stages["train"]["status"] == "skipped"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "failed" in index and "no Chromium at /nonexistent/chromium" in index
    assert (out / "report" / "load.html").is_file()  # what was done is reported
    assert not _app_answers(stages["serve"]["facts"]["url"])
    assert _processes_mentioning(str(out)) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_stops_every_server_it_started(tmp_path, sig):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        _monilab(
            "run", "--quick", "--out", str(out), *SMALL, "--set", "load.run_time_s=120",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            started = (out / "run.json").is_file() and (out / "load" / "locust-local.out").is_file()
            if started and _stages(out)["load"]["status"] == "running":
                break
            time.sleep(0.5)
        else:
            pytest.fail("the load stage did not start")
        time.sleep(3)  # Locust is running against the app
        url = _stages(out)["serve"]["facts"]["url"]
        assert _app_answers(url)
        proc.send_signal(sig)
        try:  # Locust gets 15 s to stop, the app 20 s, then the report is written
            _, stderr = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"the run did not stop: {(exc.stderr or b'')[-3000:]!r}")
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr[-2000:]
    assert "interrupted" in stderr
    assert _state(out)["status"] == "interrupted"
    assert _stages(out)["load"]["status"] == "interrupted"
    assert not _app_answers(url)
    assert _processes_mentioning(str(out)) == []
    assert (out / "index.html").is_file()
