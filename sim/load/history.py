"""Agents bring their history into the app around a live load run (``monilab load --history``).

A real user of a finance app arrives with months of past transactions: it signs up, links
its accounts (mydata start), and the app imports its past months. Before Locust starts,
every agent of the population does that through the app's own API: sign-up, mydata start,
the goals it set before the live window, and its spendings before the live window as batch
uploads (one calendar month, at most the target's ``batch_size`` spendings, per request),
all as the target file says (:mod:`sim.targets`). Locust then replays the
live window (the population's last ``--live-days`` days) for the agents it reaches; after
it, every agent syncs the spendings of the live window in batches. The sync re-sends with
the same ``client_txn_id``, so what Locust already stored comes back as a replay (200) and
nothing is stored twice: the app ends up holding every agent's whole period, the way the
models need it, and the reconciliation covers all of it.

Requests carry ``X-Source: history`` (the request log tells them from live behaviour); the
writes go to the load ledger (batch lines, see :mod:`sim.reconcile.ledger`) with
``"history": true`` agent lines. Uploads run on a few threads over ``requests``; the
population is simulated once, in this process.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.plan.records import AgentPlan, PlannedAction
from sim.reconcile.ledger import Ledger, append_lines
from sim.targets import session_factory
from sim.targets.http import RequestsClient, UploadStats

log = logging.getLogger(__name__)

SOURCE = "history"
_SETUP_KINDS = ("mydata_start", "set_goal")


@dataclass(frozen=True)
class AgentHistory:
    """One agent's actions split at the start of the live window.

    Attributes:
        plan: The agent (id, persona) with its set-up actions before the live window
            (mydata start, goals).
        profile: Its sign-up profile.
        past: Its spendings before the live window (add_spending payloads, in time order).
        live: Its spendings in the live window.
    """

    plan: AgentPlan
    profile: Mapping[str, Any]
    past: tuple[Mapping[str, Any], ...]
    live: tuple[Mapping[str, Any], ...]


def split_agent(pop: Any, index: int, persona: str, live_from: dt.datetime) -> AgentHistory:
    """The actions of agent ``index`` of a population, split at ``live_from``."""
    setup: list[PlannedAction] = []
    past: list[Mapping[str, Any]] = []
    live: list[Mapping[str, Any]] = []
    profile: Mapping[str, Any] = {}
    for action in pop.actions(index):
        if action.kind == "signup":
            profile = dict(action.payload)
        elif action.kind == "add_spending":
            (past if action.at < live_from else live).append(dict(action.payload))
        elif action.kind in _SETUP_KINDS and action.at < live_from:
            setup.append(PlannedAction(action.at, action.kind, dict(action.payload)))
    plan = AgentPlan(index, pop.agent_ids[index], persona, tuple(setup))
    return AgentHistory(plan, profile, tuple(past), tuple(live))


@dataclass
class HistoryUpload:
    """Uploads agents' histories to one app, writing their ledger lines to ``ledger_dir``."""

    host: str
    run_id: str
    ledger_dir: Path
    target: Any
    threads: int = 4
    stats: UploadStats = field(default_factory=UploadStats)
    acknowledged: int = 0
    sent: int = 0
    agents: int = 0
    """Agents that brought their history in."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bring_in(self, agent: AgentHistory) -> None:
        """Sign up, link accounts, set the early goals, upload the past months, log out."""
        self._session(agent, agent.past, setup=True)

    def sync(self, agent: AgentHistory) -> None:
        """Log in and upload the live window's spendings (replays for those already sent)."""
        if agent.live:
            self._session(agent, agent.live, setup=False)

    def _session(
        self, agent: AgentHistory, spendings: tuple[Mapping[str, Any], ...], *, setup: bool
    ) -> None:
        ledger = Ledger()
        client = RequestsClient(self.host, self.stats)
        try:
            api = session_factory(self.target)(
                client, self.run_id, agent.plan, ledger, profile=agent.profile, source=SOURCE
            )
            api.start_session()
            for action in agent.plan.actions if setup else ():
                api.perform(action)
            done = api.upload_spendings(spendings) if spendings else 0
            api.perform(PlannedAction(dt.datetime.now(), "logout"))
        finally:
            client.close()
        lines = [
            {**line, "history": True} if line.get("type") == "agent" else line
            for line in ledger.drain()
            if line.get("type") != "latency"
        ]
        with self._lock:
            append_lines(self.ledger_dir, lines, name="history")
            self.sent += len(spendings)
            self.acknowledged += done
            self.agents += setup

    def run(self, work: Iterator[AgentHistory], step: str) -> None:
        """Apply ``step`` (``bring_in`` or ``sync``) to every agent, ``threads`` at a time."""
        method = getattr(self, step)
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            pending: set[Future[None]] = set()
            for agent in work:
                if len(pending) >= 4 * self.threads:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        future.result()
                pending.add(pool.submit(method, agent))
            for future in pending:
                future.result()

    def summary(self, seconds: float) -> dict[str, Any]:
        """The ``history`` section of the load summary."""
        return {
            "agents": self.agents,
            "spendings_sent": self.sent,
            "spendings_acknowledged": self.acknowledged,
            "requests": self.stats.requests,
            "failures": self.stats.failures,
            "failure_examples": dict(self.stats.examples.most_common(5)),
            "seconds": round(seconds, 2),
            "spendings_per_s": round(self.acknowledged / seconds, 1) if seconds else None,
        }


def live_window_start(start: dt.date, days: int, live_days: int) -> dt.datetime:
    """The first moment of the live window: the last ``live_days`` of ``days`` from ``start``
    (the whole period when it is shorter)."""
    first = start + dt.timedelta(days=max(days - live_days, 0))
    return dt.datetime.combine(first, dt.time())
