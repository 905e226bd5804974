"""Fixtures for load tests: a real app on 127.0.0.1 and small hand-made plans."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monilab.lab.appprocess import AppProcess
from sim.plan.records import AgentPlan, PlannedAction, write_plan

T0 = datetime(2024, 3, 1, 8, 0)


@pytest.fixture
def app_server(tmp_path: Path) -> Iterator[AppProcess]:
    """``monilab serve`` with 2 workers on a free port, SQLite in a temporary data dir."""
    with AppProcess(tmp_path / "app-data", workers=2) as app:
        yield app


def spending_plan(agents: int, spendings: int, *, persona: str = "test_persona") -> list[AgentPlan]:
    """Agents that start mydata, add spendings one simulated minute apart, and look around."""
    plans = []
    for index in range(agents):
        actions = [PlannedAction(T0, "mydata_start", {})]
        for j in range(spendings):
            at = T0 + timedelta(minutes=j + 1)
            payload = {
                "client_txn_id": f"t{index}-{j}",
                "ts": at.isoformat(),
                "amount": 1000 + 100 * j,
                "category": "coffee",
                "merchant": "스타벅스",
                "method": "card",
                "direction": "out",
            }
            actions.append(PlannedAction(at, "add_spending", payload))
            if j % 5 == 4:
                actions.append(PlannedAction(at, "view_history", {}))
        actions.append(PlannedAction(at + timedelta(minutes=1), "view_analysis", {}))
        actions.append(PlannedAction(at + timedelta(minutes=2), "logout", {}))
        plans.append(AgentPlan(index, f"a{index:07d}", persona, tuple(actions)))
    return plans


@pytest.fixture
def small_plan(tmp_path: Path) -> Path:
    """A plan of 12 agents with 20 spendings each."""
    path = tmp_path / "plan.jsonl"
    write_plan(path, spending_plan(12, 20))
    return path
