"""Where the journeys' agents come from: a plan file, the population, or a small demo plan."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from monilab.contracts.errors import MonilabError
from sim.plan.records import AgentPlan, PlannedAction, read_plan

_DEMO_SPENDINGS = (
    ("coffee", "스타벅스", 4_500, 9_000),
    ("food", "김밥천국", 6_000, 15_000),
    ("transport", "카카오T", 3_000, 25_000),
    ("shopping", "무신사", 20_000, 120_000),
    ("living", "다이소", 2_000, 30_000),
)


def plans_from_file(path: Path, agents: int) -> list[AgentPlan]:
    """The first ``agents`` agents of a plan file written by ``write_plan``."""
    if not path.is_file():
        raise MonilabError(f"--plan {path}: no such file")
    try:
        plans = list(read_plan(path))
    except (ValueError, KeyError, TypeError) as exc:
        raise MonilabError(f"--plan {path}: not a plan file ({exc})") from None
    if len(plans) < agents:
        raise MonilabError(f"--plan {path} has {len(plans)} agents, --agents asks for {agents}")
    return plans[:agents]


def plans_from_population(
    agents: int, *, seed: int, days: int, start: str, personas: Path | None = None
) -> list[AgentPlan]:
    """The first ``agents`` agents of a population (``sim.agents``), as plans."""
    from sim.plan.build import build_plan

    try:
        import sim.agents.population  # noqa: F401  (the population API build_plan asks)
    except ImportError as exc:
        raise MonilabError(f"the population is not available ({exc}); pass --plan FILE") from None
    if personas is not None and not personas.is_file():
        raise MonilabError(f"--personas {personas}: no such file")
    plans, _ = build_plan(agents=agents, seed=seed, days=days, start=start, personas=personas)
    if len(plans) < agents:
        raise MonilabError(f"the population has {len(plans)} agents, --agents asks for {agents}")
    return plans


def demo_plans(
    agents: int, *, seed: int = 7, spendings: int = 3, start: dt.datetime | None = None
) -> list[AgentPlan]:
    """Small seeded plans with every skeleton action, for smoke tests and benchmarks.

    Each agent signs up, starts mydata, makes ``spendings`` payments, views history,
    analysis and type, sets a goal, reads notifications and logs out.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    first = start or dt.datetime(2024, 3, 1, 8, 0)
    plans = []
    for index in range(agents):
        agent_id = f"demo{seed}-{index:04d}"
        at = first + dt.timedelta(minutes=int(rng.integers(0, 600)))
        actions = [
            PlannedAction(
                at, "signup", {"name": f"데모 {index}", "age": int(rng.integers(20, 60))}
            ),
            PlannedAction(
                at, "mydata_start", {"opening_balance": int(rng.integers(1, 50)) * 100_000}
            ),
        ]
        for j in range(spendings):
            category, merchant, low, high = _DEMO_SPENDINGS[int(rng.integers(len(_DEMO_SPENDINGS)))]
            at += dt.timedelta(minutes=int(rng.integers(5, 240)))
            payload = {
                "client_txn_id": f"{agent_id}-{j}",
                "ts": at.isoformat(),
                "amount": int(rng.integers(low // 100, high // 100)) * 100,
                "category": category,
                "merchant": merchant,
                "method": "card",
                "direction": "out",
            }
            actions.append(PlannedAction(at, "add_spending", payload))
        month = at.strftime("%Y-%m")
        goal = {"title": "여행 자금 모으기", "target_amount": int(rng.integers(1, 30)) * 1_000_000}
        for kind, details in (
            ("view_history", {"month": month}),
            ("view_analysis", {"month": month}),
            ("view_type", {}),
            ("set_goal", goal),
            ("read_notifications", {}),
            ("logout", {}),
        ):
            at += dt.timedelta(seconds=30)
            actions.append(PlannedAction(at, kind, details))
        plans.append(AgentPlan(index, agent_id, "demo", tuple(actions)))
    return plans
