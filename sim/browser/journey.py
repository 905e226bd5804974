"""An agent's journey through the HTML pages, built from its planned actions.

The journey has a fixed skeleton: sign up, start mydata, add spendings through the form,
look at the history, the analysis and the spending type, visit the goal page, read the
notifications, log out. Inside it the agent decides:

- which spendings are entered: its first planned ``add_spending`` actions (at most
  ``max_spendings``), with their amounts, categories, merchants, times and
  ``client_txn_id``;
- whether a goal is set: its first planned ``set_goal`` (otherwise the goal page is only
  looked at);
- the order of the middle steps: the order of the agent's first action of each kind;
  skeleton steps it never planned come after them in skeleton order. Pages it planned
  beyond the skeleton (assets, profile) are visited too. Sign-up and mydata come first,
  logout last.

The agent's many sessions (its ``login`` ... ``logout`` runs over simulated days) are
folded into this one visit: a journey is a sample of the agent's behaviour, not a replay
of all of it (that is what ``monilab load`` does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from sim.browser.pages import PAGES, AgentTab, PageSpec
from sim.browser.timings import KST
from sim.plan.records import AgentPlan, agent_credentials

StepRun = Callable[[AgentTab], Awaitable[None]]
JourneyBuilder = Callable[[AgentPlan, int], list["Step"]]

MIDDLE_SKELETON: tuple[str, ...] = (
    "add_spending",
    "view_history",
    "view_analysis",
    "view_type",
    "set_goal",
    "read_notifications",
)
"""The skeleton's steps between mydata start and logout, as action kinds, in order."""

EXTRA_VIEWS: dict[str, str] = {"view_assets": "assets", "view_profile": "mypage"}
"""Planned page views beyond the skeleton, and the page each one opens."""

MAX_READS = 3
"""At most this many notifications are marked read in one journey."""

_SKELETON_VIEWS = {"view_history": "history", "view_analysis": "analysis", "view_type": "type"}
_OPENING_BALANCE = 1_000_000


@dataclass(frozen=True)
class Step:
    """One named step of a journey (the name appears in failure reports)."""

    name: str
    run: StepRun


# --------------------------------------------------------------------------- steps


async def sign_up(tab: AgentTab, payload: Mapping[str, Any]) -> None:
    """Sign up with the agent's derived credentials (log in if the email is taken)."""
    email, password = agent_credentials(tab.run_id, tab.plan.agent_id)
    query = {"persona": tab.plan.persona, "agent_id": tab.plan.agent_id}
    await tab.visit(PAGES["signup"], query=query)
    page = tab.page
    await page.get_by_test_id("input-email").fill(email)
    await page.get_by_test_id("input-password").fill(password)
    await page.get_by_test_id("input-name").fill(str(payload.get("name") or tab.plan.agent_id))
    if payload.get("age") is not None or payload.get("gender"):
        await page.locator("details.more summary").click()
        if payload.get("age") is not None:
            await page.get_by_test_id("input-age").fill(str(payload["age"]))
        if payload.get("gender"):
            await page.get_by_test_id("input-gender").select_option(str(payload["gender"]))
    if await tab.submit("signup-submit", PAGES["mydata_start"], tolerate=(409,)) is None:
        await log_in(tab)


async def log_in(tab: AgentTab) -> None:
    """Log in with the agent's derived credentials."""
    email, password = agent_credentials(tab.run_id, tab.plan.agent_id)
    await tab.visit(PAGES["login"])
    await tab.page.get_by_test_id("input-email").fill(email)
    await tab.page.get_by_test_id("input-password").fill(password)
    await tab.submit("login-submit", PAGES["home"])


async def start_mydata(tab: AgentTab, payload: Mapping[str, Any]) -> None:
    """Link the virtual accounts with the planned opening balance (skipped when linked)."""
    if not PAGES["mydata_start"].matches(_path_of(tab)):
        await tab.visit(PAGES["mydata_start"])
    form = tab.page.get_by_test_id("mydata-form")
    if not await form.count():
        return  # already linked: the page lists the accounts instead
    balance = payload.get("opening_balance", _OPENING_BALANCE)
    await tab.page.get_by_test_id("input-opening_balance").fill(str(int(balance)))
    if payload.get("securities_balance") is not None:
        securities = str(int(payload["securities_balance"]))
        await tab.page.get_by_test_id("input-securities_balance").fill(securities)
    await tab.submit("mydata-submit", PAGES["home"])


async def add_spending(tab: AgentTab, payload: Mapping[str, Any]) -> None:
    """Enter one planned spending through the form (with the planned ``client_txn_id``)."""
    await tab.visit(PAGES["add_spending"])
    page = tab.page
    await page.locator("input[name=client_txn_id]").evaluate(
        "(el, value) => { el.value = value; }", str(payload["client_txn_id"])
    )
    await page.get_by_test_id("input-spent_at").fill(form_datetime(payload))
    await page.get_by_test_id("input-amount").fill(str(int(payload["amount"])))
    await page.get_by_test_id("input-category").select_option(str(payload["category"]))
    for name in ("direction", "method"):
        if payload.get(name):
            await page.get_by_test_id(f"input-{name}").select_option(str(payload[name]))
    for name in ("merchant", "memo"):
        if payload.get(name):
            await page.get_by_test_id(f"input-{name}").fill(str(payload[name]))
    await tab.submit("spending-submit", PAGES["history_day"])


async def view(tab: AgentTab, spec: PageSpec, payload: Mapping[str, Any]) -> None:
    """Open a page (with the planned ``month`` where the page takes one)."""
    month = payload.get("month")
    await tab.visit(spec, query={"month": month} if month else None)


async def set_goal(tab: AgentTab, payload: Mapping[str, Any] | None) -> None:
    """Open the goal page and, when the agent planned a goal, set it."""
    await tab.visit(PAGES["goals"])
    if not payload:
        return
    page = tab.page
    await page.get_by_test_id("input-title").fill(str(payload["title"]))
    await page.get_by_test_id("input-target_amount").fill(str(int(payload["target_amount"])))
    if payload.get("deadline"):
        await page.get_by_test_id("input-deadline").fill(str(payload["deadline"])[:10])
    await tab.submit("goal-submit", PAGES["goals"])


async def read_notifications(tab: AgentTab, payload: Mapping[str, Any]) -> None:
    """Open the notifications and mark up to the planned number read."""
    await tab.visit(PAGES["notifications"])
    for _ in range(min(int(payload.get("read", MAX_READS)), MAX_READS)):
        if not await tab.page.get_by_test_id("notification-mark-read").count():
            return
        await tab.submit("notification-mark-read", PAGES["notifications"])


async def log_out(tab: AgentTab) -> None:
    """Confirm logout and land on the login page."""
    await tab.visit(PAGES["logout"])
    await tab.submit("logout-submit", PAGES["login"])


# --------------------------------------------------------------------------- building


def form_datetime(payload: Mapping[str, Any]) -> str:
    """The planned spend time (``ts`` or ``spent_at``) as a ``datetime-local`` value (KST)."""
    moment = dt.datetime.fromisoformat(str(payload.get("spent_at") or payload["ts"]))
    if moment.tzinfo is not None:
        moment = moment.astimezone(KST).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def middle_order(plan: AgentPlan) -> list[str]:
    """The middle steps' kinds: first planned occurrence order, then unplanned skeleton."""
    wanted = set(MIDDLE_SKELETON) | set(EXTRA_VIEWS)
    order = list(dict.fromkeys(a.kind for a in plan.actions if a.kind in wanted))
    return order + [kind for kind in MIDDLE_SKELETON if kind not in order]


def build_journey(plan: AgentPlan, max_spendings: int = 3) -> list[Step]:
    """The steps of one agent's journey (see the module docstring).

    Args:
        plan: The agent and its planned actions.
        max_spendings: At most this many planned spendings are entered (0: none).
    """
    first: dict[str, Mapping[str, Any]] = {}
    spendings: list[Mapping[str, Any]] = []
    for action in plan.actions:
        first.setdefault(action.kind, action.payload)
        if action.kind == "add_spending" and len(spendings) < max_spendings:
            spendings.append(action.payload)
    steps = [
        Step("signup", partial(sign_up, payload=first.get("signup", {}))),
        Step("mydata_start", partial(start_mydata, payload=first.get("mydata_start", {}))),
    ]
    for kind in middle_order(plan):
        payload = first.get(kind, {})
        if kind == "add_spending":
            steps += [
                Step(f"add_spending[{i}]", partial(add_spending, payload=p))
                for i, p in enumerate(spendings)
            ]
        elif kind == "set_goal":
            steps.append(Step("set_goal", partial(set_goal, payload=first.get("set_goal"))))
        elif kind == "read_notifications":
            steps.append(Step("read_notifications", partial(read_notifications, payload=payload)))
        else:
            spec = PAGES[_SKELETON_VIEWS.get(kind) or EXTRA_VIEWS[kind]]
            steps.append(Step(kind, partial(view, spec=spec, payload=payload)))
    steps.append(Step("logout", log_out))
    return steps


def _path_of(tab: AgentTab) -> str:
    return urlsplit(tab.page.url).path
