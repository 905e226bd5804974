"""The population drives Ledgerly (cookie sessions, CSRF, Idempotency-Key) through its
target file with real Locust, and the reconciliation reads every write back through it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration

TARGET = ROOT / "examples" / "ledgerly" / "target.toml"


def _load(server: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable, "-m", "monilab", "load", "--host", server, "--target", str(TARGET),
        "--out", str(out), "--users", "6", "--spawn-rate", "20", "--run-time", "8s",
        "--agents", "12", "--days", "3", "--time-scale", "400000", "--shape", "ramp", *extra,
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False, cwd=ROOT)


def _small_load(server: str, target: Path, out: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """Two agents for 4 s with ``target``; the run and its summary (it must exit 0)."""
    cmd = [
        sys.executable, "-m", "monilab", "load", "--host", server, "--target", str(target),
        "--out", str(out), "--users", "2", "--spawn-rate", "20", "--run-time", "4s",
        "--agents", "2", "--days", "3", "--time-scale", "400000", "--shape", "ramp",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    return result, json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_locust_drives_ledgerly_and_reconciles_through_it(server, tmp_path):
    out = tmp_path / "load"
    result = _load(server, out, "--run-id", "ledgerly-1")
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["target"] == "ledgerly"
    assert summary["total"]["requests"] > 0 and summary["total"]["failures"] == 0, summary
    names = {e["name"] for e in summary["endpoints"]}
    assert {"/register", "/session", "/transfers"} <= names
    rec = summary["reconciliation"]
    assert rec["declared"] and rec["ok"], rec
    assert rec["acknowledged"] > 0 and rec["stored"] == rec["acknowledged"]


def test_a_target_without_readback_never_claims_zero_loss(server, tmp_path):
    bare = tmp_path / "no-readback.toml"
    text = TARGET.read_text(encoding="utf-8")
    bare.write_text(text[: text.index("[readback]")], encoding="utf-8")
    result, summary = _small_load(server, bare, tmp_path / "load")
    assert summary["reconciliation"]["declared"] is False
    assert summary["reconciliation"]["ok"] is None
    assert "not declared" in result.stdout


def test_target_check_passes_on_ledgerly(server):
    done = subprocess.run(
        [sys.executable, "-m", "monilab", "target", "check", "--target", str(TARGET),
         "--host", server],
        capture_output=True, text=True, timeout=180, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok   add_spending" in done.stdout and "ok   readback" in done.stdout


def test_the_lab_run_drives_an_external_app_through_its_target(server, tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "monilab", "run", "--quick", "--host", server,
         "--target", str(TARGET), "--skip", "calibrate", "--out", str(out)],
        capture_output=True, text=True, timeout=600, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads((out / "run.json").read_text(encoding="utf-8"))
    stages = {s["name"]: s for s in state["stages"]}
    for name in ("serve", "export", "reconcile"):
        assert stages[name]["status"] == "skipped" and "needs Moni itself" in stages[name]["error"]
    browse = stages["browse"]["facts"]  # Ledgerly's target declares journeys
    assert stages["browse"]["status"] == "ok" and browse["journeys_ok"] == browse["journeys"] > 0
    load = stages["load"]["facts"]
    assert stages["load"]["status"] == "ok" and load["target"] == "ledgerly"
    assert load["requests"] > 0 and load["failures"] == 0
    assert (load["missing"], load["duplicated"], load["unexpected"]) == (0, 0, 0)
    assert load["history"].startswith("off: the target has no batch upload")
    assert stages["train"]["status"] == "ok"
    assert stages["train"]["facts"]["trained_on"] == "generated population"
    assert (out / "index.html").is_file()


def test_a_template_failing_at_run_time_is_a_failure_with_its_reason(server, tmp_path):
    broken = tmp_path / "broken.toml"
    text = TARGET.read_text(encoding="utf-8")
    old = 'amount = "{{ action.amount }}"'
    assert old in text
    broken.write_text(text.replace(old, 'amount = "{{ action.amount + action.tip }}"', 1))
    _, summary = _small_load(server, broken, tmp_path / "load")
    assert summary["total"]["failures"] > 0
    failed = [f for f in summary["failures"] if f["name"] == "/transfers"]
    assert failed and "template:" in failed[0]["error"] and "tip" in failed[0]["error"]
    assert summary["reconciliation"]["ok"]  # nothing was acknowledged, nothing lost


def test_a_python_class_target_drives_ledgerly(server, tmp_path):
    out = tmp_path / "load"
    result = _load(
        server, out, "--run-id", "ledgerly-class",
        "--target", "examples.ledgerly.flows:LedgerlyFlows",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["total"]["requests"] > 0 and summary["total"]["failures"] == 0
    rec = summary["reconciliation"]  # the class lends its file's read-back
    assert rec["declared"] and rec["ok"] and rec["duplicated"] == 0, rec
    assert rec["acknowledged"] > 0 and rec["stored"] == rec["acknowledged"]
