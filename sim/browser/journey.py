"""An agent's journey through an app's pages, built from its plan and the target's journeys.

The target file declares how each action is done in the browser (``[journeys.<action>]``,
carried out by :mod:`sim.browser.steps`); this module decides which actions one agent's
visit is made of, and in which order:

- first the account: the ``signup`` journey (when the app answers with one of the HTTP
  sign-up's ``exists`` statuses, the account is there already and the ``login`` journey
  runs instead), or, for an app without a sign-up page, the target's HTTP ``signup`` action
  followed by the ``login`` journey;
- ``mydata_start``, when declared;
- the middle: the declared kinds in the order of the agent's first action of each kind,
  then the kinds of :data:`MIDDLE_SKELETON` it never planned, in that order (other kinds,
  such as ``view_assets``, only when planned). ``add_spending`` is the agent's first planned
  spendings (at most ``max_spendings``), one step each; every other kind gets the payload of
  the agent's first action of that kind (``{}`` when it planned none);
- ``logout`` last, when declared.

The agent's many sessions (its ``login`` ... ``logout`` runs over simulated days) are
folded into this one visit: a journey is a sample of the agent's behaviour, not a replay
of all of it (that is what ``monilab load`` does).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from sim.browser.pages import AgentTab, JourneyError
from sim.browser.steps import run_journey
from sim.plan.records import AgentPlan
from sim.reconcile.ledger import Ledger
from sim.targets.http import RequestsClient
from sim.targets.session import TargetSession, agent_fields
from sim.targets.spec import TargetSpec

StepRun = Callable[[AgentTab], Awaitable[None]]
JourneyBuilder = Callable[[TargetSpec, AgentPlan, int], list["Step"]]

MIDDLE_SKELETON: tuple[str, ...] = (
    "add_spending",
    "view_history",
    "view_analysis",
    "view_type",
    "set_goal",
    "read_notifications",
)
"""Kinds every journey visits when the target declares them, planned or not, in order."""

OPENING: tuple[str, ...] = ("signup", "login", "mydata_start")
CLOSING: tuple[str, ...] = ("logout",)


@dataclass(frozen=True)
class Step:
    """One named step of a journey (the name appears in failure reports)."""

    name: str
    run: StepRun


def journey_context(
    tab: AgentTab, action: Mapping[str, Any], profile: Mapping[str, Any]
) -> dict[str, Any]:
    """What a journey's templates see: ``agent``, ``action``, ``run`` (as on the HTTP side)."""
    return {
        "agent": agent_fields(tab.run_id, tab.plan, profile),
        "action": dict(action),
        "run": {"id": tab.run_id, "source": "browser"},
    }


async def perform(
    tab: AgentTab,
    target: TargetSpec,
    kind: str,
    action: Mapping[str, Any],
    profile: Mapping[str, Any],
) -> None:
    """Carry out the target's journey of ``kind`` for one action."""
    await run_journey(tab, target.journeys[kind], journey_context(tab, action, profile))


async def sign_up(tab: AgentTab, target: TargetSpec, profile: Mapping[str, Any]) -> None:
    """The ``signup`` journey; the ``login`` one when the app says the account exists."""
    try:
        await perform(tab, target, "signup", profile, profile)
    except JourneyError as exc:
        signup = target.action("signup")
        exists = signup.steps[0].exists if signup is not None else ()
        if exc.status not in exists or "login" not in target.journeys:
            raise
        await perform(tab, target, "login", {}, profile)


async def sign_up_over_http(tab: AgentTab, target: TargetSpec, profile: Mapping[str, Any]) -> None:
    """Make the agent's account with the target's HTTP ``signup`` action (an app whose
    sign-up has no page); the browser logs in afterwards."""
    await asyncio.to_thread(create_account, target, tab.host, tab.run_id, tab.plan, profile)


def create_account(
    target: TargetSpec, host: str, run_id: str, plan: AgentPlan, profile: Mapping[str, Any]
) -> None:
    """Sign the agent up over HTTP (logging in when it exists); JourneyError if refused."""
    problems: list[str] = []
    client = RequestsClient(host)
    try:
        session = TargetSession(
            target,
            client,
            run_id,
            plan,
            Ledger(),
            profile=profile,
            source="browser",
            on_failure=lambda method, name, reason: problems.append(f"{method} {name}: {reason}"),
        )
        session.start_session()
    finally:
        client.close()
    if not session.logged_in:
        problems += list(client.stats.examples)
        raise JourneyError(f"sign-up over HTTP failed: {problems[0] if problems else 'no answer'}")


def middle_order(plan: AgentPlan, declared: Collection[str]) -> list[str]:
    """The middle's kinds: first planned occurrence order, then the unplanned skeleton."""
    wanted = set(declared) - set(OPENING) - set(CLOSING)
    order = list(dict.fromkeys(a.kind for a in plan.actions if a.kind in wanted))
    return order + [kind for kind in MIDDLE_SKELETON if kind in wanted and kind not in order]


def build_journey(target: TargetSpec, plan: AgentPlan, max_spendings: int = 3) -> list[Step]:
    """The steps of one agent's journey on ``target`` (see the module docstring).

    Args:
        target: The app's target, with its ``[journeys]``.
        plan: The agent and its planned actions.
        max_spendings: At most this many planned spendings are entered (0: none).
    """
    first: dict[str, Mapping[str, Any]] = {}
    spendings: list[Mapping[str, Any]] = []
    for action in plan.actions:
        first.setdefault(action.kind, action.payload)
        if action.kind == "add_spending" and len(spendings) < max_spendings:
            spendings.append(action.payload)
    profile = first.get("signup", {})

    def step(kind: str, payload: Mapping[str, Any], name: str = "") -> Step:
        run = partial(perform, target=target, kind=kind, action=payload, profile=profile)
        return Step(name or kind, run)

    if "signup" in target.journeys:
        steps = [Step("signup", partial(sign_up, target=target, profile=profile))]
    else:
        steps = [
            Step("signup", partial(sign_up_over_http, target=target, profile=profile)),
            step("login", first.get("login", {})),
        ]
    if "mydata_start" in target.journeys:
        steps.append(step("mydata_start", first.get("mydata_start", {})))
    for kind in middle_order(plan, target.journeys):
        if kind == "add_spending":
            steps += [step(kind, p, f"add_spending[{i}]") for i, p in enumerate(spendings)]
        else:
            steps.append(step(kind, first.get(kind, {})))
    steps += [step(kind, first.get(kind, {})) for kind in CLOSING if kind in target.journeys]
    return steps
