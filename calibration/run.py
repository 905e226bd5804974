"""One calibration run: its settings, seeds and search space, and what the search found.

Every step of :func:`calibration.loop.calibrate` and every objective
(:mod:`calibration.objectives`) sees the run as one :class:`Run`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calibration.checkpoint import Trial
from calibration.search import SAMPLERS
from calibration.simulator import Simulator
from calibration.space import GroupedSpace, ParameterSpace, Space
from monilab.contracts.errors import MonilabError

__all__ = ["Run", "RunSeeds", "RunSettings", "SearchOutcome", "make_space"]


@dataclass(frozen=True)
class RunSettings:
    """How a calibration searches.

    Attributes:
        seed: Root seed (split, sampler, fit seed, held-out seeds).
        sampler: ``cmaes``, ``tpe`` or ``nelder-mead``.
        budget: Simulator calls of the search (trial 0, the defaults, included).
        jobs: Parallel simulator calls.
        held_out_seeds: Fresh seeds for the final scoring (0 = search only).
        sigma0: CMA-ES initial step in unit-cube coordinates (None: Optuna's 1/6).
    """

    seed: int
    sampler: str
    budget: int
    jobs: int
    held_out_seeds: int
    sigma0: float | None = None

    def check(self) -> None:
        """Validate the settings (MonilabError with a one-line message)."""
        if self.sampler not in SAMPLERS:
            choices = ", ".join(SAMPLERS)
            raise MonilabError(f"unknown sampler {self.sampler!r} (choose from {choices})")
        if self.budget < 2:
            raise MonilabError(f"budget must be at least 2 simulator calls (got {self.budget})")
        if self.jobs < 1:
            raise MonilabError(f"jobs must be at least 1 (got {self.jobs})")
        if self.held_out_seeds < 0 or 0 < self.held_out_seeds < 3:
            raise MonilabError(
                f"need 0 (search only) or >= 3 held-out seeds (got {self.held_out_seeds})"
            )


@dataclass(frozen=True)
class RunSeeds:
    """The seeds of a run, all derived from the root seed.

    Attributes:
        root: The root seed.
        fit: The one seed of every search call (common random numbers).
        held_out: Fresh seeds of the final scoring, never seen by the search.
    """

    root: int
    fit: int
    held_out: list[int] = field(default_factory=list)

    @classmethod
    def derive(cls, seed: int, held_out: int) -> RunSeeds:
        """The fit seed and ``held_out`` fresh seeds spawned from ``seed``."""
        children = np.random.SeedSequence(seed).spawn(1 + held_out)
        values = [int(c.generate_state(1)[0]) for c in children]
        return cls(root=seed, fit=values[0], held_out=values[1:])

    def to_dict(self) -> dict[str, Any]:
        """``root``, ``fit`` and ``held_out``, as recorded in ``calibration.json``."""
        return {"root": self.root, "fit": self.fit, "held_out": self.held_out}


@dataclass(frozen=True)
class Run:
    """What every step of a calibration sees.

    Attributes:
        simulator: The simulator; its persona set defines the space and the defaults.
        space: The search space.
        settings: How the search runs.
        seeds: The run's seeds.
    """

    simulator: Simulator
    space: Space
    settings: RunSettings
    seeds: RunSeeds

    @property
    def defaults(self) -> dict[str, float]:
        """Persona-file values of the searched parameters (the start of the search)."""
        return self.space.expand(self.space.defaults())

    def fingerprint(self) -> dict[str, Any]:
        """Sampler, seed and simulator identity: the common part of a run's config."""
        simulator = self.simulator
        return {
            "sampler": self.settings.sampler,
            "seed": self.settings.seed,
            "users": simulator.users,
            "days": simulator.days,
            "start": simulator.start,
            "personas_sha256": simulator.personas.sha256,
        }


@dataclass(frozen=True)
class SearchOutcome:
    """The search's trials and best point, with the run and its config.

    Attributes:
        run: The run.
        config: The run config (the checkpoint fingerprint).
        trials: Every simulator call of the search, in order.
        best: The trial with the lowest fit loss.
    """

    run: Run
    config: dict[str, Any]
    trials: list[Trial]
    best: Trial

    @property
    def final(self) -> dict[str, float]:
        """Persona-file values of the best point."""
        return self.run.space.expand(self.best.params)


def make_space(
    simulator: Simulator, params: list[str] | None, space: str | Space = "full"
) -> Space:
    """The search space: ``full`` (one dimension per free parameter matching ``params``),
    ``grouped`` (one shift per pattern in ``params``, or per field), or a space as given."""
    if not isinstance(space, str):
        return space
    if space == "grouped":
        return GroupedSpace.from_personas(simulator.personas, params)
    if space == "full":
        return ParameterSpace.from_personas(simulator.personas, params)
    raise MonilabError(f"unknown space {space!r} (choose full or grouped)")
