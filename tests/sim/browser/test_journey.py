"""Journeys built from the target and plans, page matching and form values (no browser)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from monilab.contracts.errors import MonilabError
from sim import targets
from sim.browser.journey import MIDDLE_SKELETON, build_journey, middle_order
from sim.browser.pages import page_for_path, page_name
from sim.browser.plans import demo_plans, plans_from_file, plans_from_population
from sim.browser.steps import goto_url, url_matches
from sim.plan.records import AgentPlan, PlannedAction, write_plan

T0 = dt.datetime(2024, 3, 1, 9, 0)
MONI = targets.load(None)


def _plan(*kinds: str) -> AgentPlan:
    actions = []
    for index, kind in enumerate(kinds):
        payload = {}
        if kind == "add_spending":
            payload = {
                "client_txn_id": f"t{index}",
                "ts": T0.isoformat(),
                "amount": 1000,
                "category": "coffee",
            }
        elif kind == "set_goal":
            payload = {"title": "목표", "target_amount": 1_000_000}
        actions.append(PlannedAction(T0 + dt.timedelta(minutes=index), kind, payload))
    return AgentPlan(0, "a0", "p", tuple(actions))


def test_skeleton_order_when_the_plan_has_nothing_but_signup() -> None:
    steps = [s.name for s in build_journey(MONI, _plan("signup"), 3)]
    assert steps == [
        "signup",
        "mydata_start",
        "view_history",
        "view_analysis",
        "view_type",
        "set_goal",
        "read_notifications",
        "logout",
    ]


def test_middle_follows_the_agents_first_actions_then_the_rest_of_the_skeleton() -> None:
    plan = _plan(
        "signup",
        "set_goal",
        "view_assets",
        "add_spending",
        "view_analysis",
        "add_spending",
        "view_history",
        "add_spending",
        "logout",
    )
    assert middle_order(plan, MONI.journeys) == [
        "set_goal",
        "view_assets",
        "add_spending",
        "view_analysis",
        "view_history",
        "view_type",
        "read_notifications",
    ]
    names = [s.name for s in build_journey(MONI, plan, 2)]
    assert names[:2] == ["signup", "mydata_start"] and names[-1] == "logout"
    assert names[2:6] == ["set_goal", "view_assets", "add_spending[0]", "add_spending[1]"]
    assert set(MIDDLE_SKELETON) - {"add_spending"} <= set(names)


def test_max_spendings_bounds_the_spendings_entered() -> None:
    plan = _plan("signup", *["add_spending"] * 5)
    assert sum(s.name.startswith("add_spending") for s in build_journey(MONI, plan, 3)) == 3
    assert not any(s.name.startswith("add_spending") for s in build_journey(MONI, plan, 0))


def test_demo_plans_are_seeded_and_cover_the_skeleton() -> None:
    first, again = demo_plans(3, seed=5), demo_plans(3, seed=5)
    assert first == again
    assert first != demo_plans(3, seed=6)
    assert len({p.agent_id for p in first}) == 3
    kinds = {a.kind for a in first[0].actions}
    assert set(MIDDLE_SKELETON) <= kinds


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"ts": "2024-03-01T08:12:44"}, "2024-03-01T08:12:44"),
        ({"spent_at": "2024-03-01 08:12"}, "2024-03-01T08:12:00"),
        ({"ts": "2024-02-29T23:30:00+00:00"}, "2024-03-01T08:30:00"),
    ],
)
def test_the_spend_time_is_typed_as_korean_local_time(payload: dict, expected: str) -> None:
    (step,) = [
        s
        for s in MONI.journeys["add_spending"].steps
        if s.locator is not None and s.locator.value == "input-spent_at"
    ]
    assert step.value is not None
    assert step.value.render({"action": payload}) == expected


def test_pages_are_found_by_path() -> None:
    pages = MONI.browser.pages
    by_name = {spec.name: spec for spec in pages}
    assert page_for_path(pages, "/spending-history/2024-03-01/") == by_name["history_day"]
    assert page_for_path(pages, "/spending-history/") == by_name["history"]
    assert page_for_path(pages, "/") == by_name["home"]
    assert page_for_path(pages, "/no-such-page/") is None
    assert all(page_for_path(pages, spec.route) == spec for spec in pages if "<" not in spec.route)
    assert page_name(pages, "/no-such-page/") == ("unknown", "<unmatched>")
    assert page_name((), "/transfers/new") == ("/transfers/new", "/transfers/new")


def test_goto_urls_and_expected_urls() -> None:
    (goto, *_) = MONI.journeys["view_history"].steps
    assert goto_url(goto, {"action": {"month": "2024-03"}}) == "/spending-history/?month=2024-03"
    assert goto_url(goto, {"action": {}}) == "/spending-history/"
    assert url_matches("/spending-history/2024-03-01/", r"^/spending-history/\d{4}-\d{2}-\d{2}/$")
    assert not url_matches("/spending-history/", r"^/spending-history/\d{4}-\d{2}-\d{2}/$")
    assert url_matches("/", "/") and not url_matches("/login/", "/")


def test_a_target_without_a_signup_journey_makes_the_account_over_http(tmp_path: Path) -> None:
    ledgerly = targets.load(Path(__file__).parents[3] / "examples" / "ledgerly" / "target.toml")
    plan = _plan("signup", "add_spending", "view_assets", "logout")
    names = [s.name for s in build_journey(ledgerly, plan, 3)]
    assert names == ["signup", "login", "add_spending[0]", "view_assets", "view_history", "logout"]


def test_plan_files_are_checked(tmp_path: Path) -> None:
    with pytest.raises(MonilabError, match="no such file"):
        plans_from_file(tmp_path / "none.jsonl", 1)
    path = tmp_path / "plan.jsonl"
    write_plan(path, demo_plans(2))
    assert [p.agent_id for p in plans_from_file(path, 1)] == ["demo7-0000"]
    with pytest.raises(MonilabError, match="has 2 agents, --agents asks for 3"):
        plans_from_file(path, 3)
    path.write_text("not json\n")
    with pytest.raises(MonilabError, match="not a plan file"):
        plans_from_file(path, 1)


def test_without_the_population_a_plan_file_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sim.agents.population", None)  # import fails
    with pytest.raises(MonilabError, match="pass --plan FILE"):
        plans_from_population(1, seed=7, days=1, start="2024-03-01")
