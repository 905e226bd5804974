"""Replaying an agent's plan in compressed simulated time (no Locust import here).

:class:`AgentReplay` walks one agent's actions in order and says how long to wait before
each: the simulated gap divided by the time scale (simulated seconds per real second),
capped at ``max_wait`` real seconds so a quiet night does not stall a short run.
:class:`AgentLeases` hands agents to Locust users so that, across all processes of a
distributed run, no agent is taken twice: worker ``w`` of ``W`` takes agents
``w, w + W, w + 2W, ...`` of the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

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


@dataclass
class AgentLeases:
    """Disjoint agent assignment for one Locust process."""

    agents: Sequence[AgentPlan]
    worker_index: int = 0
    worker_count: int = 1
    _taken: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not 0 <= self.worker_index < self.worker_count:
            raise ValueError(
                f"worker index {self.worker_index} is outside 0..{self.worker_count - 1}: "
                "start the master with --expect-workers equal to the number of workers"
            )

    def take(self) -> AgentPlan | None:
        """The next agent of this process's slice, or None when the slice is used up."""
        index = self.worker_index + self._taken * self.worker_count
        if index >= len(self.agents):
            return None
        self._taken += 1
        return self.agents[index]
