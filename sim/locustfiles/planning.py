"""Turning the population's decisions into a load plan (runs in the lab process, not Locust).

The agents decide (``sim.agents``); this module only asks them, for a number of agents over
a number of simulated days, and keeps what the HTTP replayer needs. The population's hourly
activity (from the Mesa model) becomes the ``population`` load shape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from monilab.errors import MonilabError
from sim.locustfiles.plan import AgentPlan, PlannedAction


def build_plan(
    *,
    agents: int,
    seed: int,
    days: int,
    start: str,
    personas: Path | None = None,
    population: Path | None = None,
) -> tuple[list[AgentPlan], list[float]]:
    """Plans for the first ``agents`` agents of a population, and its hourly activity.

    With ``population`` (a dataset made by ``monilab generate``) the seed, start, days and
    persona file recorded in its manifest are used, so the load replays that population.
    """
    from sim.agents.decisions import Population

    if population is not None:
        spec = Population.from_dataset(population)
        spec = spec.head(agents)
    else:
        try:
            first_day = dt.date.fromisoformat(start)
        except ValueError:
            raise MonilabError(f"--start {start!r}: expected a date like 2024-03-01") from None
        if days < 1:
            raise MonilabError("--days must be at least 1")
        spec = Population.from_personas(
            personas, users=agents, seed=seed, start=first_day, days=days
        )
    plans = [
        AgentPlan(
            agent_index=index,
            agent_id=spec.agent_ids[index],
            persona=spec.personas_of[index],
            actions=tuple(
                PlannedAction(a.at, a.kind, dict(a.payload)) for a in spec.actions(index)
            ),
        )
        for index in range(len(spec.agent_ids))
    ]
    return plans, list(spec.activity_profile())


def activity_from_plan(agents: Sequence[AgentPlan]) -> list[float]:
    """Hourly activity of a plan: planned actions per hour of day (at least one everywhere)."""
    counts = [0.0] * 24
    for agent in agents:
        for action in agent.actions:
            counts[action.at.hour] += 1
    return [max(c, 1.0) for c in counts]
