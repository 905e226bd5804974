"""The calibration loop: search the persona file's free parameters against aggregate targets.

The objective is the :func:`~calibration.metrics.target_discrepancy` loss of the fit targets
on one simulation at the fit seed. Every trial uses that same seed (common random numbers),
so the objective moves only with the parameters. Trial 0 is the persona file's values. The
search runs in batches of ``jobs`` parallel simulator calls (worker processes), and the trial
log is written to ``out_dir/trials.json`` after each batch, so a run can be resumed. Then the
defaults and the best parameters are scored on fresh seeds (see :mod:`calibration.honesty`).
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
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from calibration.checkpoint import Trial, TrialLog
from calibration.honesty import HeldOutScore, score_held_out
from calibration.search import SAMPLERS, make_sampler, search_nelder_mead, search_optuna
from calibration.simulator import Simulator, fit_loss
from calibration.space import ParameterSpace
from monilab.errors import MonilabError

__all__ = ["CalibrationResult", "calibrate", "run_seeds"]


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
            "params": {
                name: {"default": self.defaults[name], "final": value}
                for name, value in self.params.items()
            },
            "convergence": [t.loss for t in self.trials],
        }


def run_seeds(seed: int, held_out: int) -> tuple[int, list[int]]:
    """The fit seed and ``held_out`` fresh seeds derived from one root seed."""
    children = np.random.SeedSequence(seed).spawn(1 + held_out)
    values = [int(c.generate_state(1)[0]) for c in children]
    return values[0], values[1:]


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
        params: Name patterns restricting the searched free parameters (all if None).
        held_out_seeds: Fresh seeds for the final scoring (>= 3; 0 = search only).
        resume: Continue from ``out_dir/trials.json`` when it belongs to the same run.
        progress: Show a tqdm progress bar.
    """
    if sampler not in SAMPLERS:
        raise MonilabError(f"unknown sampler {sampler!r} (choose from {', '.join(SAMPLERS)})")
    if budget < 2:
        raise MonilabError(f"budget must be at least 2 simulator calls (got {budget})")
    if jobs < 1:
        raise MonilabError(f"jobs must be at least 1 (got {jobs})")
    if held_out_seeds < 0 or 0 < held_out_seeds < 3:
        raise MonilabError(f"need 0 (search only) or >= 3 held-out seeds (got {held_out_seeds})")
    started = time.perf_counter()
    space = ParameterSpace.from_personas(simulator.personas, params)
    fit_seed, eval_seeds = run_seeds(seed, held_out_seeds)
    config = {
        "sampler": sampler,
        "seed": seed,
        "users": simulator.users,
        "days": simulator.days,
        "start": simulator.start,
        "personas_sha256": simulator.personas.sha256,
        "parameters": space.names,
        "targets_sha256": _frame_hash(targets),
    }
    log = TrialLog.open(Path(out_dir), config, resume=resume)
    with _executor(jobs) as pool, tqdm(total=budget, disable=not progress, unit="call") as bar:

        def evaluate(batch: list[dict[str, float]]) -> list[tuple[float, float]]:
            return _map(
                pool,
                _timed_loss,
                [simulator] * len(batch),
                batch,
                [fit_seed] * len(batch),
                [targets] * len(batch),
            )

        if sampler == "nelder-mead":
            search_nelder_mead(space, log, evaluate, budget=budget, on_batch=bar.update)
        else:
            search_optuna(
                space,
                make_sampler(sampler, space, seed),
                log,
                evaluate,
                budget=budget,
                jobs=jobs,
                on_batch=bar.update,
            )
        best = log.best()
        sets = {"fit": targets} | ({"validate": validate} if validate is not None else {})
        held_out = (
            {}
            if not held_out_seeds
            else score_held_out(
                simulator,
                space.defaults(),
                best.params,
                sets,
                fit_seed=fit_seed,
                seeds=eval_seeds,
                map_fn=lambda fn, *its: _map(pool, fn, *its),
            )
        )
    return CalibrationResult(
        params=dict(best.params),
        defaults=space.defaults(),
        trials=list(log.trials),
        held_out=held_out,
        seeds={"root": seed, "fit": fit_seed, "held_out": eval_seeds},
        sampler=sampler,
        wall_seconds=time.perf_counter() - started,
        held_out_calls=1 + 2 * held_out_seeds if held_out_seeds else 0,
        config=config,
    )


def _timed_loss(
    simulator: Simulator, params: Mapping[str, float], seed: int, targets: pd.DataFrame
) -> tuple[float, float]:
    started = time.perf_counter()
    loss = fit_loss(simulator, params, seed, targets)
    return loss, time.perf_counter() - started


@contextmanager
def _executor(jobs: int) -> Iterator[Executor | None]:
    if jobs == 1:
        yield None
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        yield pool


def _map(pool: Executor | None, fn: Callable[..., Any], *iterables: list[Any]) -> list[Any]:
    if pool is None:
        return list(map(fn, *iterables))
    return list(pool.map(fn, *iterables))


def _frame_hash(frame: pd.DataFrame) -> str:
    text = frame[["statistic", "filter", "key", "value"]].to_csv(index=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
