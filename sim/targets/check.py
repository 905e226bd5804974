"""``monilab target check``: one agent through every action a target declares, once.

Before a load run against a new app, this answers "does my target file work?" action by
action: the agent signs up, then carries out one planned action of every declared kind
(taken from the first agents of a small bundled population, so the payloads are real),
uploads a small batch, reads its writes back and logs out. Each action gets a line: ok, or
the request that failed and the start of the answer (or why it could not be built).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sim.plan.records import AgentPlan, PlannedAction
from sim.reconcile.ledger import Ledger
from sim.targets.http import RequestsClient
from sim.targets.readback import StoredReadError, stored_keys
from sim.targets.session import TargetSession
from sim.targets.spec import ACTIONS, TargetSpec

SAMPLE_AGENTS = 12
SAMPLE_DAYS = 35
ANSWER_CHARS = 160


@dataclass
class Sent:
    """One request of the check: what was sent and what came back."""

    method: str
    path: str
    status: int
    failure: str | None
    answer: str


class RecordingClient(RequestsClient):
    """A :class:`RequestsClient` that keeps every request and the start of its answer."""

    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.sent: list[Sent] = []

    @contextlib.contextmanager
    def request(self, method: str, path: str, **kw: Any) -> Iterator[Any]:
        with super().request(method, path, **kw) as outcome:
            yield outcome
        text = " ".join((outcome.text or outcome.error or "").split())[:ANSWER_CHARS]
        failure = outcome.error if outcome.failed else None
        self.sent.append(Sent(method, path, int(outcome.status_code), failure, text))


@dataclass
class ActionResult:
    """The verdict on one action."""

    action: str
    ok: bool
    requests: list[Sent] = field(default_factory=list)
    problem: str = ""


def sample_actions(seed: int = 7) -> dict[str, PlannedAction]:
    """One real planned action of every kind (from a small bundled population)."""
    from sim.plan.build import build_plan

    plans, _ = build_plan(
        agents=SAMPLE_AGENTS, seed=seed, days=SAMPLE_DAYS, start="2024-03-01", personas=None
    )
    found: dict[str, PlannedAction] = {}
    for plan in plans:
        for action in plan.actions:
            found.setdefault(action.kind, action)
    return found


def check_target(spec: TargetSpec, host: str, run_id: str, seed: int = 7) -> list[ActionResult]:
    """Every declared action once as one agent, then the read-back; a result per step."""
    samples = sample_actions(seed)
    agent_id = f"check-{run_id}"
    client = RecordingClient(host)
    failures: list[str] = []
    session = TargetSession(
        spec,
        client,
        run_id,
        AgentPlan(0, agent_id, "check", ()),
        Ledger(),
        profile=samples["signup"].payload if "signup" in samples else {},
        sleep=lambda _: None,
        source="api",
        on_failure=lambda method, name, reason: failures.append(f"{method} {name}: {reason}"),
    )
    results = [_step(client, failures, "signup", session.start_session, lambda: session.logged_in)]
    written: list[str] = []
    for kind in ACTIONS:
        if kind in ("signup", "login", "logout") or spec.action(kind) is None:
            continue
        action = _action_for(kind, samples)
        results.append(_one(client, failures, session, kind, action, written))
    results.append(_readback(spec, host, run_id, agent_id, written))
    if spec.action("logout") is not None:
        logout = PlannedAction(dt.datetime.now(), "logout")
        results.append(_step(client, failures, "logout", lambda: session.perform(logout), None))
    results.append(_step(client, failures, "login", session.login, lambda: session.logged_in))
    return results


def _action_for(kind: str, samples: dict[str, PlannedAction]) -> PlannedAction:
    if kind == "add_spendings":
        return samples["add_spending"]
    return samples.get(kind) or PlannedAction(dt.datetime.now(), kind, {})


def _one(
    client: RecordingClient,
    failures: list[str],
    session: TargetSession,
    kind: str,
    action: PlannedAction,
    written: list[str],
) -> ActionResult:
    if kind == "add_spendings":
        payloads = [
            {**action.payload, "client_txn_id": f"{action.payload['client_txn_id']}-b{i}"}
            for i in range(3)
        ]
        result = _step(client, failures, kind, lambda: session.upload_spendings(payloads), None)
        written += [p["client_txn_id"] for p in payloads] if result.ok else []
        return result
    result = _step(client, failures, kind, lambda: session.perform(action), None)
    if kind == "add_spending" and result.ok:
        written.append(str(action.payload["client_txn_id"]))
    return result


def _step(
    client: RecordingClient, failures: list[str], name: str, run: Any, done: Any
) -> ActionResult:
    """Run one step; ok when every request it sent succeeded (and ``done()`` holds)."""
    before, errors_before = len(client.sent), len(failures)
    run()
    sent = client.sent[before:]
    problems = failures[errors_before:] + [s.failure for s in sent if s.failure]
    if done is not None and not done() and not problems:
        problems.append("the session did not start")
    if not sent and not problems:
        problems.append("nothing was sent")
    return ActionResult(name, not problems, sent, "; ".join(problems))


def _readback(
    spec: TargetSpec, host: str, run_id: str, agent_id: str, written: list[str]
) -> ActionResult:
    if spec.readback is None:
        return ActionResult("readback", False, problem="not declared: no reconciliation possible")
    try:
        listed = stored_keys(spec, host, run_id, agent_id)
    except StoredReadError as exc:
        return ActionResult("readback", False, problem=str(exc))
    missing = [key for key in written if key not in listed]
    if missing:
        shown = ", ".join(missing[:3])
        return ActionResult(
            "readback", False, problem=f"{len(missing)} written key(s) not listed: {shown}"
        )
    return ActionResult("readback", True, problem=f"{len(written)} written key(s) listed")


def report_lines(results: list[ActionResult]) -> list[str]:
    """One line per action (and, for a failure, its requests)."""
    lines = []
    for result in results:
        mark = "ok  " if result.ok else "FAIL"
        last = result.requests[-1] if result.requests else None
        sent = f"{last.method} {last.path} -> {last.status or 'no answer'}" if last else ""
        lines.append(f"{mark} {result.action:<20} {sent}  {result.problem}".rstrip())
        if not result.ok:
            for request in result.requests:
                lines.append(
                    f"       {request.method} {request.path} -> {request.status}: {request.answer}"
                )
    return lines
