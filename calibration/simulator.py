"""The pure, picklable simulator the calibration loop calls, and its per-call loss.

``simulate(params, seed=...)`` sets the persona file's free parameters, runs a
:class:`~sim.agents.population.Population` and returns ``(transactions, users)`` frames.
Nothing is cached or shared between calls, so a :class:`Simulator` (a frozen dataclass) can
be sent to worker processes as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from calibration.metrics import target_discrepancy
from sim.agents.personas import PersonaSet, load_personas
from sim.agents.population import Population

__all__ = ["Simulator", "evaluate_targets", "fit_loss", "simulate", "targets_from_simulation"]


@dataclass(frozen=True)
class Simulator:
    """A seeded synthetic population as a function of the free parameters.

    Attributes:
        personas: The persona set whose free parameters are calibrated.
        users: Users per call.
        days: Simulated days per call.
        start: First simulated day (``YYYY-MM-DD``).
        anomaly_rate: Anomaly episodes per normal payment.
    """

    personas: PersonaSet
    users: int
    days: int
    start: str = "2024-01-01"
    anomaly_rate: float = 0.01

    def __call__(
        self, params: Mapping[str, float], *, seed: int
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Simulate with ``params`` set (names or ``*`` patterns); returns (transactions, users)."""
        personas = self.personas.with_values(dict(params)) if params else self.personas
        population = Population(
            personas,
            users=self.users,
            seed=seed,
            start=self.start,
            days=self.days,
            anomaly_rate=self.anomaly_rate,
        )
        return population.transactions_table().to_pandas(), population.users_frame()


def simulate(
    params: Mapping[str, float],
    *,
    seed: int,
    users: int,
    days: int,
    personas: PersonaSet | str | Path,
    start: str | dt.date = "2024-01-01",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One simulator call: see :class:`Simulator`."""
    if not isinstance(personas, PersonaSet):
        personas = load_personas(personas)
    return Simulator(personas, users=users, days=days, start=str(start))(params, seed=seed)


def evaluate_targets(
    simulator: Simulator,
    params: Mapping[str, float],
    seed: int,
    target_sets: tuple[pd.DataFrame, ...],
) -> list[pd.DataFrame]:
    """Simulate once and return the :func:`target_discrepancy` frame of each target set.

    A top-level function, so process pools can run it.
    """
    transactions, users = simulator(params, seed=seed)
    return [target_discrepancy(targets, transactions, users) for targets in target_sets]


def fit_loss(
    simulator: Simulator, params: Mapping[str, float], seed: int, targets: pd.DataFrame
) -> float:
    """The target-discrepancy loss of one simulator call (the calibration objective)."""
    return float(evaluate_targets(simulator, params, seed, (targets,))[0].attrs["loss"])


def targets_from_simulation(
    targets: pd.DataFrame, transactions: pd.DataFrame, users: pd.DataFrame
) -> pd.DataFrame:
    """The same target rows with values replaced by those of a simulation.

    Used for the noise floor (the simulator scored against itself at another seed) and for
    truth-recovery tests. Undefined simulated values are kept as the original target.
    """
    discrepancy = target_discrepancy(targets, transactions, users)
    by_line = pd.Series(discrepancy["simulated"].to_numpy(), index=discrepancy["line"].to_numpy())
    simulated = by_line.reindex(targets["line"].to_numpy()).to_numpy(dtype=float)
    out = targets.copy()
    out["value"] = pd.Series(simulated, index=out.index).fillna(out["value"].astype(float))
    return out
