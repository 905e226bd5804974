"""The calibration loop: search a persona file's free parameters against an objective.

:func:`calibrate` is the one skeleton every kind of reference shares; what is fitted is an
:class:`~calibration.objectives.base.Objective` (aggregate targets:
:class:`~calibration.objectives.targets.TargetsObjective`; microdata:
:class:`~calibration.objectives.reference.ReferenceObjective`). The objective fixes the run
config and the search loss; every trial is one simulator call at the same fit seed (common
random numbers), so the loss moves only with the parameters. Trial 0 is the persona file's
values. The search runs in batches of ``jobs`` parallel simulator calls (worker
processes), and the trial log is written to ``out_dir/trials.json`` after each batch, so a
run can be resumed. Then the objective scores the defaults and the best parameters on
fresh seeds (held-out evaluation, with noise floors).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from calibration.checkpoint import Trial, TrialLog
from calibration.objectives.base import Loss, Objective
from calibration.result import CalibrationResult
from calibration.run import Run, RunSeeds, RunSettings, SearchOutcome, make_space
from calibration.search import make_sampler, search_nelder_mead, search_optuna
from calibration.simulator import Simulator
from calibration.space import Space
from calibration.workers import executor, pool_map, pool_mapper, progress_bar

ResultT = TypeVar("ResultT", bound=CalibrationResult)

__all__ = ["calibrate", "run_search"]


def calibrate(
    simulator: Simulator,
    objective: Objective[Any, ResultT],
    *,
    out_dir: str | Path,
    budget: int,
    seed: int = 0,
    sampler: str = "cmaes",
    jobs: int = 1,
    params: list[str] | None = None,
    space: str | Space | None = None,
    sigma0: float | None = None,
    held_out_seeds: int = 3,
    resume: bool = True,
    progress: bool = False,
) -> ResultT:
    """Calibrate the simulator's free parameters to an objective.

    Args:
        simulator: The simulator; its persona set defines the space and the defaults.
        objective: What to fit (:mod:`calibration.objectives`).
        out_dir: Directory of the checkpoint ``trials.json``.
        budget: Simulator calls of the search (trial 0, the defaults, included).
        seed: Root seed (split, sampler, fit seed, held-out seeds).
        sampler: ``cmaes`` (default), ``tpe`` or ``nelder-mead`` (sequential baseline).
        jobs: Parallel simulator calls (worker processes when > 1).
        params: Name patterns restricting the searched free parameters (all if None); in a
            grouped space, the groups.
        space: ``full``, ``grouped`` (see :class:`~calibration.space.GroupedSpace`), a
            space, or None for the objective's default.
        sigma0: CMA-ES initial step in unit-cube coordinates (None: Optuna's 1/6).
        held_out_seeds: Fresh seeds for the final scoring (>= 3; 0 = search only, when the
            objective allows it).
        resume: Continue from ``out_dir/trials.json`` when it belongs to the same run.
        progress: Show a tqdm progress bar (stderr).

    Returns:
        The objective's :class:`~calibration.result.CalibrationResult`.
    """
    started = time.perf_counter()
    settings = RunSettings(seed, sampler, budget, jobs, held_out_seeds, sigma0)
    settings.check()
    objective.check(settings)
    search_space = make_space(simulator, params, space or objective.default_space)
    run = Run(simulator, search_space, settings, RunSeeds.derive(seed, held_out_seeds))
    setup = objective.prepare(run)
    log = TrialLog.open(Path(out_dir), setup.config, resume=resume)
    with executor(jobs) as pool:
        map_fn = pool_mapper(pool)
        loss = objective.search_loss(setup, run, map_fn)
        with progress_bar(budget, progress) as bar:
            best = run_search(run, loss, log=log, pool=pool, bar=bar)
        search = SearchOutcome(run, setup.config, list(log.trials), best)
        result = objective.score(setup, loss, search, map_fn)
    return replace(result, wall_seconds=time.perf_counter() - started)


def run_search(run: Run, loss: Loss, *, log: TrialLog, pool: Executor | None, bar: tqdm) -> Trial:
    """Search the run's space for the lowest ``loss`` at the fit seed; returns the best trial.

    Every call uses the fit seed (common random numbers), trial 0 is the persona file, the
    log is written after every batch and replayed first when it already holds trials.
    """
    settings, space = run.settings, run.space

    def evaluate(batch: list[dict[str, float]]) -> list[tuple[float, float]]:
        n = len(batch)
        return pool_map(
            pool,
            _timed_loss,
            [run.simulator] * n,
            [loss] * n,
            [space] * n,
            batch,
            [run.seeds.fit] * n,
        )

    if settings.sampler == "nelder-mead":
        search_nelder_mead(space, log, evaluate, budget=settings.budget, on_batch=bar.update)
    else:
        sampler = make_sampler(settings.sampler, space, settings.seed, sigma0=settings.sigma0)
        search_optuna(
            space,
            sampler,
            log,
            evaluate,
            budget=settings.budget,
            jobs=settings.jobs,
            on_batch=bar.update,
        )
    return log.best()


def _timed_loss(
    simulator: Simulator,
    loss: Loss,
    space: Space,
    params: Mapping[str, float],
    seed: int,
) -> tuple[float, float]:
    """One search call: simulate at ``params`` and ``seed``; returns (loss, seconds)."""
    started = time.perf_counter()
    transactions, users = simulator(space.expand(dict(params)), seed=seed)
    value = float(loss(transactions, users))
    return value, time.perf_counter() - started
