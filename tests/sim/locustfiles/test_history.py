"""Agents bring their history into a real app before the live run and sync after it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from monilab.lab.commands import command
from monilab.lab.commands.generate import GenerateOptions
from sim import targets
from sim.load.history import HistoryUpload, live_window_start, split_agent
from sim.plan.build import population_of_dataset
from sim.reconcile.ledger import read_ledger
from sim.reconcile.stored import reconcile_run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 agents over 45 days."""
    out = tmp_path_factory.mktemp("history") / "population"
    command("generate").run(GenerateOptions(users=12, days=45, seed=3, out=out))
    return out


def _planned_spendings(population: Path) -> int:
    manifest = json.loads((population / "manifest.json").read_text(encoding="utf-8"))
    return int(manifest["tables"]["transactions"]["rows"])


def test_history_and_sync_store_every_planned_spending_once(app_server, population, tmp_path):
    pop = population_of_dataset(population)
    live_from = live_window_start(pop.start, pop.days, 5)
    agents = [split_agent(pop, i, "p", live_from) for i in range(pop.users)]
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    upload = HistoryUpload(app_server.url, "hist-1", ledger, targets.load(None), threads=3)

    upload.run(iter(agents), "bring_in")
    past = sum(len(a.past) for a in agents)
    assert upload.acknowledged == past and upload.agents == pop.users
    upload.run(iter(agents), "sync")
    upload.run(iter(agents), "sync")  # a second sync only replays: nothing is stored twice

    assert upload.stats.failures == 0, upload.stats.examples
    result = reconcile_run(app_server.url, read_ledger(ledger), "hist-1", targets.load(None))
    assert result.ok, result
    assert result.stored == result.acknowledged == _planned_spendings(population)
    lines = list(read_ledger(ledger))
    assert {line["type"] for line in lines} == {"agent", "sent_batch", "ack_batch"}
    assert all(line["history"] for line in lines if line["type"] == "agent")
    assert max(len(line["client_txn_ids"]) for line in lines if "client_txn_ids" in line) <= 500


def test_split_keeps_every_spending_on_its_side_of_the_live_window(population):
    pop = population_of_dataset(population)
    live_from = live_window_start(pop.start, pop.days, 5)
    assert live_from.date().isoformat() == "2024-02-10"
    for index in range(pop.users):
        agent = split_agent(pop, index, "p", live_from)
        spent = [a for a in pop.actions(index) if a.kind == "add_spending"]
        # split by when the agent sends a spending (a spending is sent at its next session)
        assert list(agent.live) == [a.payload for a in spent if a.at >= live_from]
        assert list(agent.past) == [a.payload for a in spent if a.at < live_from]
        assert all(p["ts"] < live_from.isoformat() for p in agent.past)
        assert all(a.at < live_from for a in agent.plan.actions)
        assert {a.kind for a in agent.plan.actions} <= {"mydata_start", "set_goal"}


def _load(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monilab", "load", *args],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip


def test_load_with_history_leaves_the_whole_period_in_the_app(app_server, population, tmp_path):
    out = tmp_path / "load"
    result = _load(
        "--host", app_server.url, "--population", str(population), "--history",
        "--live-days", "3", "--users", "4", "--spawn-rate", "4", "--run-time", "6s",
        "--time-scale", "200000", "--run-id", "hist-2", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    history = summary["history"]
    assert history["failures"] == 0 and history["agents"] == 12
    assert history["live_from"] == "2024-02-12T00:00:00"
    assert summary["total"]["requests"] > 0 and summary["total"]["failures"] == 0
    assert 0 < summary["agents_started"] <= 12  # live agents, not the history's
    rec = summary["reconciliation"]
    assert rec["ok"] and rec["stored"] == _planned_spendings(population)
    logged = [
        json.loads(line)
        for path in (app_server.data_dir / "request-log").glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    sources = {e["source"] for e in logged if e.get("run_id") == "hist-2"}
    assert {"history", "locust"} <= sources


def test_history_without_a_population_is_one_line(tmp_path):
    result = _load("--host", "http://127.0.0.1:9", "--history", "--out", str(tmp_path / "x"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "--history needs --population" in result.stderr
