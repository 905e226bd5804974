"""The load plan: the agents' decisions, written once and replayed by every Locust process.

A plan is a JSON-lines file, one agent per line, in agent-index order::

    {"agent_index": 0, "agent_id": "a0000000", "persona": "yolo_student",
     "actions": [{"at": "2024-03-01T08:12:44", "kind": "login", "payload": {}}, ...]}

It is written by ``monilab load`` from the population (so Locust processes never run the
Mesa model) and read by the locustfile. Reading it needs only the standard library.
Credentials for an agent are derived from the run id, so the reconciliation step can log in
as the same users after the run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PlannedAction:
    """One decision of an agent at a simulated time."""

    at: datetime
    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentPlan:
    """Everything one agent will do during a load run, in time order."""

    agent_index: int
    agent_id: str
    persona: str
    actions: tuple[PlannedAction, ...]


def write_plan(path: str | Path, agents: Iterable[AgentPlan]) -> int:
    """Write a plan file; returns the number of agents written."""
    count = 0
    with open(path, "w", encoding="utf-8") as fh:
        for agent in agents:
            line = {
                "agent_index": agent.agent_index,
                "agent_id": agent.agent_id,
                "persona": agent.persona,
                "actions": [
                    {"at": a.at.isoformat(), "kind": a.kind, "payload": dict(a.payload)}
                    for a in agent.actions
                ],
            }
            fh.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
            count += 1
    return count


def read_plan(path: str | Path) -> Iterator[AgentPlan]:
    """Read a plan file written by :func:`write_plan`, one agent at a time."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield plan_of_line(line)


def plan_of_line(line: str) -> AgentPlan:
    """One agent of a plan file (one JSON line)."""
    data = json.loads(line)
    return AgentPlan(
        agent_index=int(data["agent_index"]),
        agent_id=str(data["agent_id"]),
        persona=str(data["persona"]),
        actions=tuple(
            PlannedAction(datetime.fromisoformat(a["at"]), a["kind"], a["payload"])
            for a in data["actions"]
        ),
    )


def agent_credentials(run_id: str, agent_id: str) -> tuple[str, str]:
    """The (email, password) an agent signs up with in a run; derived, never stored."""
    digest = hashlib.sha256(f"monilab:{run_id}:{agent_id}".encode()).hexdigest()
    safe_run = "".join(ch for ch in run_id.lower() if ch.isalnum() or ch == "-")[:40]
    return f"{agent_id.lower()}.{safe_run}@monilab.test", f"pw-{digest[:24]}"
