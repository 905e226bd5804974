"""Replaying an agent's plan in compressed simulated time (no Locust import here).

:class:`AgentReplay` walks one agent's actions in order and says how long to wait before
each: the simulated gap divided by the time scale (simulated seconds per real second),
capped at ``max_wait`` real seconds so a quiet night does not stall a short run.
:class:`AgentLeases` hands a process's own slice of agents (disjoint across the processes
of a distributed run; :mod:`sim.plan.source`) to its Locust users, one agent at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sim.plan.records import AgentPlan, PlannedAction


@dataclass
class AgentReplay:
    """The replay cursor of one agent."""

    plan: AgentPlan
    time_scale: float
    max_wait: float
    position: int = 0

    @property
    def done(self) -> bool:
        """True once every action has been taken."""
        return self.position >= len(self.plan.actions)

    def next_action(self) -> PlannedAction:
        """The next action, advancing the cursor."""
        action = self.plan.actions[self.position]
        self.position += 1
        return action

    def wait_before_next(self) -> float:
        """Real seconds to wait before the next action (0 for the first and when done)."""
        if self.position == 0 or self.done:
            return 0.0
        gap = self.plan.actions[self.position].at - self.plan.actions[self.position - 1].at
        return max(0.0, min(self.max_wait, gap.total_seconds() / self.time_scale))


class AgentLeases:
    """Hands one Locust process's agents to its users, one at a time, as they are built.

    ``agents`` is the process's own slice (:meth:`sim.plan.source.PlanSource.slice`), a lazy
    iterator: an agent's plan exists from when a user takes it until the user is done.
    """

    def __init__(self, agents: Iterable[AgentPlan], worker_index: int = 0) -> None:
        self._agents: Iterator[AgentPlan] = iter(agents)
        self._ready: AgentPlan | None = None
        self.worker_index = worker_index
        self.taken = 0

    def prefetch(self) -> None:
        """Build the first agent now (before users start: its shard's simulation is the one
        long step, and here it delays no request in flight)."""
        if self._ready is None:
            self._ready = next(self._agents, None)

    def take(self) -> AgentPlan | None:
        """The next agent of this process's slice, or None when the slice is used up."""
        plan, self._ready = self._ready or next(self._agents, None), None
        if plan is not None:
            self.taken += 1
        return plan
