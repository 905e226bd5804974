"""Turning the population's decisions into a load plan (runs in the lab process, not Locust).

The agents decide (``sim.agents``); this module only asks them, for a number of agents over
a number of simulated days, and keeps what the HTTP replayer needs. The population's hourly
activity (from the Mesa model) becomes the ``population`` load shape.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from monilab.contracts.errors import MonilabError
from sim.plan.records import AgentPlan, read_plan


def build_plan(
    *,
    agents: int,
    seed: int,
    days: int,
    start: str,
    personas: Path | None = None,
    population: Path | None = None,
    live_from: dt.datetime | None = None,
) -> tuple[list[AgentPlan], list[float]]:
    """Plans for the first ``agents`` agents of a population, and its hourly activity.

    With ``population`` (a dataset made by ``monilab generate``) the seed, start, days, user
    count and persona snapshot recorded with it are used, so the load replays exactly the
    agents of that dataset (only the shards holding them are simulated). With ``live_from``
    each agent keeps only its actions from then on (its history was uploaded before; see
    :mod:`sim.load.history`), and agents with nothing left are dropped.
    """
    from sim.agents.population import Population

    if population is not None:
        pop = population_of_dataset(population)
    else:
        try:
            first_day = dt.date.fromisoformat(start)
        except ValueError:
            raise MonilabError(f"--start {start!r}: expected a date like 2024-03-01") from None
        pop = Population(personas, users=agents, seed=seed, start=first_day, days=days)
    from sim.plan.source import agent_plan

    plans = [agent_plan(pop, index, live_from) for index in range(min(agents, pop.users))]
    plans = [plan for plan in plans if plan.actions]
    profile = pop.activity_profile()
    return plans, [float(x) for x in profile.mean(axis=0).to_numpy()]


def population_of_dataset(directory: Path):  # -> sim.agents.population.Population
    from monilab.contracts.datasets import read_dataset
    from sim.agents.population import Population

    manifest = read_dataset(directory).manifest
    snapshot = Path(directory) / "personas.toml"
    if manifest.get("generator") != "sim.agents" or not snapshot.is_file():
        raise MonilabError(f"--population {directory}: not a dataset made by monilab generate")
    return Population(
        snapshot,
        users=int(manifest["users"]),
        seed=int(manifest["seed"]),
        start=manifest["start"],
        days=int(manifest["days"]),
        anomaly_rate=float(manifest.get("anomaly_rate", 0.01)),
        shard_size=int(manifest["shard_size"]),
    )


def plan_file_activity(path: Path) -> list[float]:
    """Hourly activity of a plan file (planned actions per hour of day, at least one
    everywhere), read one agent at a time; checks that the file is a non-empty plan."""
    if not path.is_file():
        raise MonilabError(f"--plan {path}: no such file")
    counts = [0.0] * 24
    agents = 0
    try:
        for agent in read_plan(path):
            agents += 1
            for action in agent.actions:
                counts[action.at.hour] += 1
    except (ValueError, KeyError, TypeError) as exc:  # JSON, UTF-8, missing fields
        raise MonilabError(f"--plan {path}: not a load plan ({exc})") from None
    if not agents:
        raise MonilabError(f"--plan {path}: the plan has no agents")
    return [max(c, 1.0) for c in counts]
