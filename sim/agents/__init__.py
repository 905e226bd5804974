"""Mesa model of the population: personas, user agents, calendar, anomaly injection.

The documented entry points (importable from ``sim.agents``, loaded on first use):

- :func:`load_personas` / :class:`PersonaSet` (``sim.agents.personas``): persona files;
  ``PersonaSet.free_parameters()``, ``.with_values({...})``, ``.to_toml()``, ``.save()``;
  :class:`FreeParameter` (``sim.agents.parameters``) with ``to_unit``/``from_unit``.
- :class:`Population` (``sim.agents.population``): ``Population(personas, users=N,
  seed=S, start=DATE, days=D, anomaly_rate=R, shard_size=5000)`` with ``agent_ids``,
  ``users_frame()``, ``transactions(agent)``, ``transactions_table()``,
  ``actions(agent)``, ``activity_profile()``, ``partition(part, parts)``, ``shard(k)``.
- :class:`Action`, :func:`merged_actions`, :data:`ACTION_KINDS` (``sim.agents.decisions``):
  the agents' app decisions for the HTTP and browser transports.
- :func:`generate_dataset` (``sim.agents.generate``): the ``monilab generate`` writer.
- :data:`POPULATION_DAILY` (``sim.agents.metrics``): contract of ``population_daily``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_personas": "sim.agents.personas",
    "parse_personas": "sim.agents.personas",
    "PersonaSet": "sim.agents.personas",
    "Persona": "sim.agents.personas",
    "FreeParameter": "sim.agents.parameters",
    "PersonaError": "sim.agents.parameters",
    "Population": "sim.agents.population",
    "SHARD_SIZE": "sim.agents.population",
    "Action": "sim.agents.decisions",
    "ACTION_KINDS": "sim.agents.decisions",
    "merged_actions": "sim.agents.decisions",
    "generate_dataset": "sim.agents.generate",
    "POPULATION_DAILY": "sim.agents.metrics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sim.agents' has no attribute {name!r}")
