"""The search space of a calibration: a persona file's free parameters, optionally a subset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

import numpy as np
from optuna.distributions import BaseDistribution, FloatDistribution

from monilab.contracts.errors import MonilabError
from sim.agents.parameters import FreeParameter
from sim.agents.personas import PersonaSet

__all__ = [
    "GroupedSpace",
    "ParameterGroup",
    "ParameterSpace",
    "Space",
    "default_groups",
    "persona_field_groups",
]

PROFILES_PREFIX = "profiles."
"""Names of shared profile parameters (hour, weekday and ticket profiles) start so."""


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

    def distributions(self) -> dict[str, BaseDistribution]:
        """Optuna distributions (bounds and log scale) by name."""
        return {p.name: FloatDistribution(p.low, p.high, log=p.log) for p in self.parameters}

    def to_unit(self, values: dict[str, float]) -> np.ndarray:
        """Values as a point of the unit cube (log parameters on a log scale)."""
        return np.array([p.to_unit(values[p.name]) for p in self.parameters])

    def from_unit(self, u: np.ndarray) -> dict[str, float]:
        """A point of the unit cube (clipped) as values."""
        return {
            p.name: _within(p, p.from_unit(float(x)))
            for p, x in zip(self.parameters, u, strict=True)
        }

    def expand(self, values: dict[str, float]) -> dict[str, float]:
        """Persona-file values of a point (here the point itself)."""
        return dict(values)

    @property
    def kind(self) -> str:
        """``full``: one search dimension per free parameter."""
        return "full"


@dataclass(frozen=True)
class ParameterGroup:
    """Free parameters that move together as one search dimension.

    Attributes:
        name: The pattern that selected the members, e.g. ``*.spending.txn_per_day``.
        members: The free parameters it moves.
    """

    name: str
    members: tuple[FreeParameter, ...]


@dataclass(frozen=True)
class GroupedSpace:
    """A low-dimensional space: one shift per group of free parameters.

    A point gives each group a shift ``s`` in ``[-half_width, half_width]`` of unit-cube
    coordinates: every member moves from its persona-file value ``u0`` to
    ``from_unit(u0 + s)`` (clipped to its bounds). On a log-scale parameter a shift is a
    common factor (``*.categories.coffee.median`` shifted by 0.1 is every persona's coffee
    median times ``(15000/2000) ** 0.1`` = 1.22), on a linear one a common offset, so the
    differences between personas are kept and 63 free numbers become a handful of
    identifiable directions. The origin is the persona file.

    Attributes:
        groups: The search dimensions.
        half_width: Largest shift either way.
    """

    groups: tuple[ParameterGroup, ...]
    half_width: float = 0.5

    @classmethod
    def from_personas(
        cls,
        personas: PersonaSet,
        patterns: Sequence[str] | None = None,
        *,
        half_width: float = 0.5,
    ) -> GroupedSpace:
        """One group per pattern; without patterns, :func:`default_groups`.

        Raises:
            MonilabError: A pattern matches no free parameter, or two patterns overlap.
        """
        free = personas.free_parameters()
        if not patterns:
            patterns = default_groups(free)
        groups: list[ParameterGroup] = []
        taken: set[str] = set()
        for pattern in patterns:
            members = tuple(p for p in free if fnmatchcase(p.name, pattern))
            if not members:
                raise MonilabError(f"{personas.source}: no free parameters match {pattern!r}")
            overlap = taken & {p.name for p in members}
            if overlap:
                raise MonilabError(f"{sorted(overlap)[0]!r} is in two parameter groups")
            taken |= {p.name for p in members}
            groups.append(ParameterGroup(pattern, members))
        if not groups:
            raise MonilabError(f"{personas.source}: no free parameters to calibrate")
        return cls(tuple(groups), half_width)

    @property
    def kind(self) -> str:
        """``grouped``: one search dimension per group."""
        return "grouped"

    @property
    def names(self) -> list[str]:
        """Search dimension names (the group patterns)."""
        return [g.name for g in self.groups]

    def defaults(self) -> dict[str, float]:
        """The origin: no shift, the persona file's values."""
        return {g.name: 0.0 for g in self.groups}

    def distributions(self) -> dict[str, BaseDistribution]:
        """Optuna distributions of the shifts."""
        w = self.half_width
        return {g.name: FloatDistribution(-w, w) for g in self.groups}

    def to_unit(self, values: dict[str, float]) -> np.ndarray:
        """Shifts as a point of the unit cube."""
        w = self.half_width
        return np.array([(values[g.name] + w) / (2 * w) for g in self.groups])

    def from_unit(self, u: np.ndarray) -> dict[str, float]:
        """A point of the unit cube (clipped) as shifts."""
        w = self.half_width
        clipped = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        return {g.name: float(x * 2 * w - w) for g, x in zip(self.groups, clipped, strict=True)}

    def expand(self, values: dict[str, float]) -> dict[str, float]:
        """The persona-file value of every member for the given shifts."""
        out = {}
        for group in self.groups:
            shift = float(values[group.name])
            for p in group.members:
                out[p.name] = (
                    p.value if shift == 0.0 else _within(p, p.from_unit(p.to_unit() + shift))
                )
        return out


def default_groups(free: Sequence[FreeParameter]) -> list[str]:
    """One pattern per persona field (``*.spending.txn_per_day``: every persona's value),
    then each shared profile parameter on its own (``profiles.ticket_hours.coffee.06-11``)."""
    return _field_patterns(free) + [p.name for p in free if p.name.startswith(PROFILES_PREFIX)]


def persona_field_groups(personas: PersonaSet) -> list[str]:
    """The persona-field patterns of :func:`default_groups` (shared profiles left out)."""
    return _field_patterns(personas.free_parameters())


def _field_patterns(free: Sequence[FreeParameter]) -> list[str]:
    persona_fields = (
        p.name.split(".", 1)[1]
        for p in free
        if "." in p.name and not p.name.startswith(PROFILES_PREFIX)
    )
    return [f"*.{field}" for field in dict.fromkeys(persona_fields)]


def _within(p: FreeParameter, value: float) -> float:
    """``value`` clipped to the bounds (``exp(log(high))`` may round just past ``high``)."""
    return min(max(value, p.low), p.high)


Space = ParameterSpace | GroupedSpace
"""Either search space; both offer names, defaults, distributions, unit maps and expand."""
