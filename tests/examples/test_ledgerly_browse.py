"""``monilab browse`` drives Ledgerly through the journeys its target file declares: the
accounts are made over HTTP (Ledgerly has no sign-up page), the browser logs in, enters a
transfer through the CSRF-protected form and logs out; the JSON API then lists it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from sim.browser.options import CHROMIUM
from sim.plan.records import agent_credentials, read_plan

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "examples" / "ledgerly" / "target.toml"
CATEGORIES = {"food", "transport", "shopping", "housing", "health", "leisure"}

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"no Chromium at {CHROMIUM}"),
]


def _transfers(server: str, run_id: str, agent_id: str) -> list[dict]:
    """The agent's transfers through Ledgerly's JSON API (logged in as the agent)."""
    email, password = agent_credentials(run_id, agent_id)
    with requests.Session() as http:
        answer = http.post(f"{server}/session", json={"email": email, "password": password})
        assert answer.status_code == 200, answer.text
        listed = http.get(f"{server}/transfers", params={"limit": 50}, timeout=10)
        assert listed.status_code == 200, listed.text
        return list(listed.json()["items"])


def test_browse_drives_ledgerly_through_its_declared_journeys(server, tmp_path):
    pytest.importorskip("sim.agents.population", reason="the population API is not available")
    out = tmp_path / "browse"
    cmd = [
        sys.executable, "-m", "monilab", "browse", "--target", str(TARGET), "--host", server,
        "--agents", "2", "--concurrency", "1", "--max-spendings", "1", "--out", str(out),
        "--run-id", "ledgerly-browse",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    summary = json.loads((out / "browser_summary.json").read_text(encoding="utf-8"))
    assert summary["target"] == "ledgerly"
    assert summary["journeys"] == {"total": 2, "ok": 2, "failed": 0}, summary["failures"]
    assert {"login", "home", "new_transfer"} <= set(summary["pages"])
    assert summary["pages"]["new_transfer"]["loads"] == 2

    for plan in read_plan(out / "plan.jsonl"):
        (planned, *_) = [a.payload for a in plan.actions if a.kind == "add_spending"]
        (stored,) = _transfers(server, "ledgerly-browse", plan.agent_id)
        assert stored["amount"] == int(planned["amount"])
        category = planned["category"] if planned["category"] in CATEGORIES else "other"
        assert stored["category"] == category
        assert (stored["merchant"] or "") == (planned.get("merchant") or "")
