"""The search space of a calibration: a persona file's free parameters, optionally a subset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

import numpy as np
from optuna.distributions import FloatDistribution

from monilab.errors import MonilabError
from sim.agents.parameters import FreeParameter
from sim.agents.personas import PersonaSet

__all__ = ["ParameterSpace"]


@dataclass(frozen=True)
class ParameterSpace:
    """The free parameters searched, their bounds and scales.

    Attributes:
        parameters: The searched parameters, in persona-file order.
    """

    parameters: tuple[FreeParameter, ...]

    @classmethod
    def from_personas(
        cls, personas: PersonaSet, patterns: Sequence[str] | None = None
    ) -> ParameterSpace:
        """Free parameters of ``personas`` matching any of ``patterns`` (all if None)."""
        free = personas.free_parameters()
        if patterns:
            free = [p for p in free if any(fnmatchcase(p.name, pat) for pat in patterns)]
        if not free:
            what = f" matching {list(patterns)}" if patterns else ""
            raise MonilabError(f"{personas.source}: no free parameters{what} to calibrate")
        return cls(tuple(free))

    @property
    def names(self) -> list[str]:
        """Parameter names."""
        return [p.name for p in self.parameters]

    def defaults(self) -> dict[str, float]:
        """The persona file's current values."""
        return {p.name: p.value for p in self.parameters}

    def distributions(self) -> dict[str, FloatDistribution]:
        """Optuna distributions (bounds and log scale) by name."""
        return {p.name: FloatDistribution(p.low, p.high, log=p.log) for p in self.parameters}

    def to_unit(self, values: dict[str, float]) -> np.ndarray:
        """Values as a point of the unit cube (log parameters on a log scale)."""
        return np.array([p.to_unit(values[p.name]) for p in self.parameters])

    def from_unit(self, u: np.ndarray) -> dict[str, float]:
        """A point of the unit cube (clipped) as values."""
        return {p.name: p.from_unit(float(x)) for p, x in zip(self.parameters, u, strict=True)}
