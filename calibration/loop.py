"""The calibration loop: search the persona file's free parameters against reference data.

:func:`run_search` is the loop shared by both kinds of reference: it asks the sampler for
parameter sets, runs the simulator and an objective on them (in worker processes) and keeps
the checkpoint. :func:`calibrate` is the aggregate-targets calibration: its objective is the
:func:`~calibration.metrics.target_discrepancy` loss of the fit targets on one simulation at
the fit seed (microdata references: :mod:`calibration.reference_loop`). Every trial uses
that same seed (common random numbers), so the objective moves only with the parameters.
Trial 0 is the persona file's values. The search runs in batches of ``jobs`` parallel
simulator calls (worker processes), and the trial log is written to ``out_dir/trials.json``
after each batch, so a run can be resumed. Then the defaults and the best parameters are
scored on fresh seeds (see :mod:`calibration.honesty`).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from tqdm import tqdm

from calibration.checkpoint import Trial, TrialLog
from calibration.honesty import HeldOutScore, score_held_out
from calibration.metrics import target_discrepancy
from calibration.search import SAMPLERS, make_sampler, search_nelder_mead, search_optuna
from calibration.simulator import Simulator
from calibration.space import GroupedSpace, ParameterSpace, Space
from monilab.contracts.errors import MonilabError

__all__ = [
    "CalibrationResult",
    "Objective",
    "TargetObjective",
    "calibrate",
    "executor",
    "pool_map",
    "run_search",
    "run_seeds",
]


class Objective(Protocol):
    """A picklable loss of one simulation (lower is better)."""

    def __call__(self, transactions: pd.DataFrame, users: pd.DataFrame) -> float:
        """The loss of one simulated (transactions, users) pair."""
        ...


@dataclass(frozen=True)
class TargetObjective:
    """The :func:`~calibration.metrics.target_discrepancy` loss against aggregate targets."""

    targets: pd.DataFrame

    def __call__(self, transactions: pd.DataFrame, users: pd.DataFrame) -> float:
        """The weighted target-discrepancy loss."""
        return float(target_discrepancy(self.targets, transactions, users).attrs["loss"])


@dataclass
class CalibrationResult:
    """What a calibration found and how it scores on held-out seeds and targets.

    Attributes:
        params: The best parameters found (lowest fit loss).
        defaults: The persona file's values of the same parameters.
        trials: Every simulator call of the search, in order.
        held_out: Scores per target set on the held-out seeds.
        seeds: ``root``, ``fit`` (common random numbers) and ``held_out`` seeds.
        sampler: The search method.
        wall_seconds: Wall time of search plus held-out scoring.
        held_out_calls: Simulator calls spent on held-out scoring.
        values: Persona-file values of the best point (equal to ``params`` in the full
            space; the shifted members in a grouped space).
        default_values: Persona-file values of the searched parameters.
        space: ``full`` or ``grouped``.
    """

    params: dict[str, float]
    defaults: dict[str, float]
    trials: list[Trial]
    held_out: dict[str, HeldOutScore]
    seeds: dict[str, Any]
    sampler: str
    wall_seconds: float
    held_out_calls: int
    config: dict[str, Any] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    default_values: dict[str, float] = field(default_factory=dict)
    space: str = "full"

    @property
    def loss_default_fit(self) -> float:
        """Fit loss of the defaults at the fit seed (trial 0)."""
        return self.trials[0].loss

    @property
    def loss_best_fit(self) -> float:
        """Lowest fit loss of the search."""
        return min(t.loss for t in self.trials)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the ``calibration.json`` content)."""
        return {
            "sampler": self.sampler,
            "config": self.config,
            "seeds": self.seeds,
            "calls": {"search": len(self.trials), "held_out": self.held_out_calls},
            "wall_seconds": self.wall_seconds,
            "fit_seed_loss": {"default": self.loss_default_fit, "best": self.loss_best_fit},
            "held_out": {name: s.to_dict() for name, s in self.held_out.items()},
            "space": self.space,
            "search": {
                name: {"default": self.defaults[name], "final": value}
                for name, value in self.params.items()
            },
            "params": {
                name: {"default": self.default_values.get(name), "final": value}
                for name, value in (self.values or self.params).items()
            },
            "convergence": [t.loss for t in self.trials],
        }


def run_seeds(seed: int, held_out: int) -> tuple[int, list[int]]:
    """The fit seed and ``held_out`` fresh seeds derived from one root seed."""
    children = np.random.SeedSequence(seed).spawn(1 + held_out)
    values = [int(c.generate_state(1)[0]) for c in children]
    return values[0], values[1:]


def check_run(sampler: str, budget: int, jobs: int, held_out_seeds: int) -> None:
    """Validate the common run settings (MonilabError with a one-line message)."""
    if sampler not in SAMPLERS:
        raise MonilabError(f"unknown sampler {sampler!r} (choose from {', '.join(SAMPLERS)})")
    if budget < 2:
        raise MonilabError(f"budget must be at least 2 simulator calls (got {budget})")
    if jobs < 1:
        raise MonilabError(f"jobs must be at least 1 (got {jobs})")
    if held_out_seeds < 0 or 0 < held_out_seeds < 3:
        raise MonilabError(f"need 0 (search only) or >= 3 held-out seeds (got {held_out_seeds})")


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


def run_search(
    simulator: Simulator,
    objective: Objective,
    space: Space,
    *,
    log: TrialLog,
    fit_seed: int,
    budget: int,
    seed: int,
    sampler: str,
    jobs: int,
    pool: Executor | None,
    bar: tqdm,
    sigma0: float | None = None,
) -> Trial:
    """Search ``space`` for the lowest ``objective`` at the fit seed; returns the best trial.

    Every call uses the fit seed (common random numbers), trial 0 is the persona file, the
    log is written after every batch and replayed first when it already holds trials.
    """

    def evaluate(batch: list[dict[str, float]]) -> list[tuple[float, float]]:
        n = len(batch)
        return pool_map(
            pool, _timed_loss, [simulator] * n, [objective] * n, [space] * n, batch, [fit_seed] * n
        )

    if sampler == "nelder-mead":
        search_nelder_mead(space, log, evaluate, budget=budget, on_batch=bar.update)
    else:
        search_optuna(
            space,
            make_sampler(sampler, space, seed, sigma0=sigma0),
            log,
            evaluate,
            budget=budget,
            jobs=jobs,
            on_batch=bar.update,
        )
    return log.best()


def progress_bar(total: int, progress: bool, what: str = "calibrate") -> tqdm:
    """A tqdm bar on stderr (off without ``progress``; tqdm hides it when not a TTY)."""
    return tqdm(total=total, disable=None if progress else True, unit="call", desc=what)


def calibrate(
    simulator: Simulator,
    targets: pd.DataFrame,
    *,
    out_dir: str | Path,
    budget: int,
    seed: int = 0,
    sampler: str = "cmaes",
    jobs: int = 1,
    validate: pd.DataFrame | None = None,
    params: list[str] | None = None,
    space: str | Space = "full",
    sigma0: float | None = None,
    held_out_seeds: int = 3,
    resume: bool = True,
    progress: bool = False,
) -> CalibrationResult:
    """Calibrate the simulator's free parameters to aggregate targets.

    Args:
        simulator: The simulator; its persona set defines the space and the defaults.
        targets: Fit targets (:func:`calibration.targets.load_targets`).
        out_dir: Directory of the checkpoint ``trials.json``.
        budget: Simulator calls of the search (trial 0, the defaults, included).
        seed: Root seed (sampler, fit seed, held-out seeds).
        sampler: ``cmaes`` (default), ``tpe`` or ``nelder-mead`` (sequential baseline).
        jobs: Parallel simulator calls (worker processes when > 1).
        validate: Held-out targets, never seen by the search.
        params: Name patterns restricting the searched free parameters (all if None); in a
            grouped space, the groups.
        space: ``full``, ``grouped`` (see :class:`~calibration.space.GroupedSpace`) or a space.
        sigma0: CMA-ES initial step in unit-cube coordinates (None: Optuna's 1/6).
        held_out_seeds: Fresh seeds for the final scoring (>= 3; 0 = search only).
        resume: Continue from ``out_dir/trials.json`` when it belongs to the same run.
        progress: Show a tqdm progress bar.
    """
    check_run(sampler, budget, jobs, held_out_seeds)
    started = time.perf_counter()
    search_space = make_space(simulator, params, space)
    fit_seed, eval_seeds = run_seeds(seed, held_out_seeds)
    config = {
        "sampler": sampler,
        "seed": seed,
        "users": simulator.users,
        "days": simulator.days,
        "start": simulator.start,
        "personas_sha256": simulator.personas.sha256,
        "parameters": search_space.names,
        "targets_sha256": _frame_hash(targets),
    }
    if search_space.kind != "full" or sigma0 is not None:
        config |= {"space": search_space.kind, "sigma0": sigma0}
    log = TrialLog.open(Path(out_dir), config, resume=resume)
    with executor(jobs) as pool, progress_bar(budget, progress) as bar:
        best = run_search(
            simulator,
            TargetObjective(targets),
            search_space,
            log=log,
            fit_seed=fit_seed,
            budget=budget,
            seed=seed,
            sampler=sampler,
            jobs=jobs,
            pool=pool,
            bar=bar,
            sigma0=sigma0,
        )
        sets = {"fit": targets} | ({"validate": validate} if validate is not None else {})
        held_out = (
            {}
            if not held_out_seeds
            else score_held_out(
                simulator,
                search_space.expand(search_space.defaults()),
                search_space.expand(best.params),
                sets,
                fit_seed=fit_seed,
                seeds=eval_seeds,
                map_fn=lambda fn, *its: pool_map(pool, fn, *its),
            )
        )
    return CalibrationResult(
        params=dict(best.params),
        defaults=search_space.defaults(),
        trials=list(log.trials),
        held_out=held_out,
        seeds={"root": seed, "fit": fit_seed, "held_out": eval_seeds},
        sampler=sampler,
        wall_seconds=time.perf_counter() - started,
        held_out_calls=1 + 2 * held_out_seeds if held_out_seeds else 0,
        config=config,
        values=search_space.expand(best.params),
        default_values=search_space.expand(search_space.defaults()),
        space=search_space.kind,
    )


def _timed_loss(
    simulator: Simulator,
    objective: Objective,
    space: Space,
    params: Mapping[str, float],
    seed: int,
) -> tuple[float, float]:
    started = time.perf_counter()
    transactions, users = simulator(space.expand(dict(params)), seed=seed)
    loss = float(objective(transactions, users))
    return loss, time.perf_counter() - started


@contextmanager
def executor(jobs: int) -> Iterator[Executor | None]:
    """A spawn process pool of ``jobs`` workers (None, i.e. inline, for one job)."""
    if jobs == 1:
        yield None
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        yield pool


def pool_map(pool: Executor | None, fn: Callable[..., Any], *iterables: list[Any]) -> list[Any]:
    """``map`` inline (no pool) or over the pool, as a list."""
    if pool is None:
        return list(map(fn, *iterables))
    return list(pool.map(fn, *iterables))


def _frame_hash(frame: pd.DataFrame) -> str:
    text = frame[["statistic", "filter", "key", "value"]].to_csv(index=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
