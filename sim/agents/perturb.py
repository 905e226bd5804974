"""A reproducibly shifted persona file: the population a type model has never seen.

A model evaluated on another seed of the same persona file is tested on the same people
with other draws; it can learn the personas rather than the types. A perturbed population
moves every free parameter of the file (:meth:`PersonaSet.free_parameters`) by a random
relative amount of at most ``amount``, seeded, and clipped to the parameter's bounds:

- a log-scale parameter is multiplied by ``(1 + amount) ** u``;
- a linear one by ``1 + amount * u`` (a value of 0 moves by ``amount * u`` of its range);

with one ``u`` uniform in [-1, 1] per parameter, drawn in document order from
``numpy.random.SeedSequence(seed)``. The savings and investment rates of every persona
(:data:`RATE_FIELDS`, fixed values in the file, yet what separates personas most) move
the same way, linearly, within [0, :data:`MAX_RATE`], with draws made after the free
parameters' ones. The same set, amount and seed give the same values
(hence the same persona file bytes and, through :func:`sim.agents.generate.generate_dataset`,
the same dataset for any number of workers).

Example::

    shifted = perturb_personas(default_personas(), 0.25, seed=3)
"""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np

from sim.agents.parameters import FreeParameter
from sim.agents.personas import PersonaError, PersonaSet, parse_document

RATE_FIELDS = ("savings_rate", "investment_rate")
"""Fixed ``[personas.NAME.saving]`` values the perturbation also moves."""
MAX_RATE = 0.9
MAX_AMOUNT = 0.9
"""Largest relative shift (a linear parameter then moves by up to ±90 %)."""


def shifted_value(parameter: FreeParameter, amount: float, u: float) -> float:
    """``parameter`` moved by the relative shift ``u`` ∈ [-1, 1] of at most ``amount``,
    clipped to its bounds."""
    value = parameter.value
    if parameter.log:
        moved = value * math.exp(u * math.log1p(amount))
    elif value == 0.0:
        moved = u * amount * (parameter.high - parameter.low)
    else:
        moved = value * (1.0 + amount * u)
    return float(min(parameter.high, max(parameter.low, moved)))


def perturbed_values(personas: PersonaSet, amount: float, seed: int) -> dict[str, float]:
    """Free parameter name → its shifted value (see the module docstring)."""
    if not 0.0 <= amount <= MAX_AMOUNT:
        raise PersonaError(f"perturb must be within [0, {MAX_AMOUNT}] (got {amount})")
    free = personas.free_parameters()
    draws = np.random.default_rng(np.random.SeedSequence(seed)).uniform(-1.0, 1.0, len(free))
    return {p.name: shifted_value(p, amount, float(u)) for p, u in zip(free, draws, strict=True)}


def perturb_personas(personas: PersonaSet, amount: float, seed: int) -> PersonaSet:
    """A re-validated persona set with every free parameter shifted (0 returns ``personas``).

    Its ``source`` says how it was made, e.g. ``personas/default.toml perturbed ±0.25 seed 3``.
    """
    if amount == 0.0:
        return personas
    shifted = personas.with_values(perturbed_values(personas, amount, seed))
    shifted = parse_document(
        _shift_rates(shifted.document, amount, seed, len(personas.free_parameters())),
        source=shifted.source,
    )
    return dataclasses.replace(
        shifted, source=f"{personas.source} perturbed ±{amount:g} seed {seed}"
    )


def _shift_rates(document: dict, amount: float, seed: int, skip: int) -> dict:
    """A copy of ``document`` with every persona's :data:`RATE_FIELDS` shifted (the draws
    follow the ``skip`` free parameters' draws of the same seed)."""
    shifted = copy.deepcopy(document)
    savings = [
        (persona["saving"], name)
        for persona in shifted.get("personas", {}).values()
        if isinstance(persona.get("saving"), dict)
        for name in RATE_FIELDS
        if isinstance(persona["saving"].get(name), int | float)
    ]
    draws = np.random.default_rng(np.random.SeedSequence(seed)).uniform(
        -1.0, 1.0, skip + len(savings)
    )
    for (table, name), u in zip(savings, draws[skip:], strict=True):
        moved = shifted_value(FreeParameter(name, float(table[name]), 0.0, MAX_RATE), amount, u)
        table[name] = moved
    return shifted
