"""Where a Locust process gets its agents: built on demand, never a whole plan in memory.

A :class:`PlanSource` is a few parameters, not the plan: either a population (persona file,
seed, size, period, optionally a dataset made by ``monilab generate`` and the start of a
live window) whose agents' actions are built when a Locust user takes the agent, or a plan
file (:mod:`sim.plan.records`) read line by line. Every process of a run (local, or worker
``part`` of ``parts`` on any machine) builds its own slice from its own source; the
:meth:`~PlanSource.digest` proves that every machine's source holds the same plan, so no
path ever travels from the master to a worker.

Memory stays flat whatever the population size: a population source keeps at most the two
shards (:data:`~sim.agents.population.SHARD_SIZE` agents each) its current agents live in,
and a plan file is read one line at a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from monilab.contracts.errors import MonilabError
from sim.plan.records import AgentPlan, PlannedAction, plan_of_line

KINDS = ("population", "file")


@dataclass(frozen=True)
class PlanSource:
    """The parameters a process builds its agents from (paths are this machine's own).

    Attributes:
        kind: ``population`` (agents built on demand) or ``file`` (a plan file).
        agents: How many of the population's first agents take part.
        seed, start, days: The population's seed, first day and length.
        personas: A persona file, or None for the bundled personas.
        population: A dataset made by ``monilab generate`` (its manifest gives seed, start,
            days, size and personas; the fields above are then ignored).
        live_from: Keep only actions from this moment on (ISO); agents left with none drop.
        path: The plan file (``kind == "file"``).
    """

    kind: str
    agents: int = 0
    seed: int = 0
    start: str = ""
    days: int = 0
    personas: str | None = None
    population: str | None = None
    live_from: str | None = None
    path: str | None = None

    def to_json(self) -> str:
        """One line of JSON (the locustfile's ``--monilab-plan-source``)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PlanSource:
        """The source a :meth:`to_json` line describes."""
        data = json.loads(text)
        if data.get("kind") not in KINDS:
            raise MonilabError(f"plan source: kind must be one of {', '.join(KINDS)}")
        return cls(**data)

    def digest(self) -> str:
        """A hash of the plan this source yields, equal on every machine holding the same
        plan (content of the files, not their paths)."""
        sha = hashlib.sha256()
        if self.kind == "file":
            _hash_file(sha, Path(str(self.path)))
            return sha.hexdigest()
        if self.population is not None:
            directory = Path(self.population)
            for name in ("manifest.json", "personas.toml"):
                _hash_file(sha, directory / name)
            sha.update(f"agents={self.agents}".encode())
        else:
            params = (self.agents, self.seed, self.start, self.days)
            sha.update(repr(params).encode())
            if self.personas is not None:
                _hash_file(sha, Path(self.personas))
        sha.update(f"live_from={self.live_from}".encode())
        return sha.hexdigest()

    def slice(self, part: int = 0, parts: int = 1) -> Iterator[AgentPlan]:
        """The agents of process ``part`` of ``parts``, built (or read) one at a time.

        Slices are disjoint and together hold every agent: a population gives each part a
        contiguous range (so a part simulates only its own shards), a plan file every
        ``parts``-th line starting at ``part``.
        """
        if not 0 <= part < parts:
            raise MonilabError(
                f"worker index {part} is outside 0..{parts - 1}: start the master with "
                "--expect-workers equal to the number of workers"
            )
        if self.kind == "file":
            return _file_slice(Path(str(self.path)), part, parts)
        return _population_slice(self, part, parts)

    def population_model(self):  # -> sim.agents.population.Population
        """The population this source's agents come from (nothing simulated yet)."""
        from sim.agents.population import Population
        from sim.plan.build import population_of_dataset

        if self.population is not None:
            return population_of_dataset(Path(self.population))
        return Population(
            Path(self.personas) if self.personas else None,
            users=self.agents,
            seed=self.seed,
            start=self.start,
            days=self.days,
        )


def _hash_file(sha: Any, path: Path) -> None:
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                sha.update(block)
    except OSError as exc:
        raise MonilabError(f"{path}: cannot read ({exc.strerror})") from None


def _file_slice(path: Path, part: int, parts: int) -> Iterator[AgentPlan]:
    with open(path, encoding="utf-8") as fh:
        for position, line in enumerate(fh):
            if position % parts == part and line.strip():
                yield plan_of_line(line)


def _population_slice(source: PlanSource, part: int, parts: int) -> Iterator[AgentPlan]:
    pop = source.population_model()
    count = min(source.agents, pop.users) if source.agents else pop.users
    live_from = dt.datetime.fromisoformat(source.live_from) if source.live_from else None
    for index in range(part * count // parts, (part + 1) * count // parts):
        plan = agent_plan(pop, index, live_from)
        if plan.actions:
            yield plan


def agent_plan(pop: Any, index: int, live_from: dt.datetime | None = None) -> AgentPlan:
    """One agent's plan, built from the population on demand (simulates its shard once)."""
    actions = tuple(
        PlannedAction(a.at, a.kind, dict(a.payload))
        for a in pop.actions(index)
        if live_from is None or a.at >= live_from
    )
    shard, local = divmod(index, pop.shard_size)
    persona = pop.shard(shard).users.column("persona")[local].as_py()
    return AgentPlan(index, pop.agent_ids[index], str(persona), actions)
