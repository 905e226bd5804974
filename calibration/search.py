"""Search drivers: Optuna (CMA-ES, TPE) with ask/tell batches, and a Nelder–Mead baseline.

Each driver asks the objective for batches of parameter sets through ``evaluate`` (which may
run them in worker processes), appends every finished batch to the :class:`TrialLog`, and
first replays the log's trials, so a resumed run continues where the last batch ended.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import warnings
from collections.abc import Callable

import numpy as np
import optuna
from scipy.optimize import minimize

from calibration.checkpoint import Trial, TrialLog
from calibration.space import Space
from monilab.contracts.errors import MonilabError

__all__ = ["SAMPLERS", "Evaluate", "make_sampler", "search_nelder_mead", "search_optuna"]

SAMPLERS = ("cmaes", "tpe", "nelder-mead")
NM_STEP = 0.1
"""Initial simplex edge of Nelder–Mead, in unit-cube coordinates."""

Evaluate = Callable[[list[dict[str, float]]], list[tuple[float, float]]]
"""Runs parameter sets, returns ``(loss, seconds)`` for each."""


def make_sampler(
    name: str, space: Space, seed: int, *, sigma0: float | None = None
) -> optuna.samplers.BaseSampler:
    """A seeded Optuna sampler; CMA-ES starts from the persona file's values (warm start).

    Args:
        name: ``cmaes`` or ``tpe``.
        space: The search space (its defaults are CMA-ES's starting mean).
        seed: Sampler seed.
        sigma0: CMA-ES initial step in unit-cube coordinates (Optuna scales every
            dimension to [0, 1]); None is Optuna's 1/6.
    """
    if name == "cmaes":
        if importlib.util.find_spec("cmaes") is None:
            raise MonilabError("the cmaes sampler needs the 'cmaes' package (or --sampler tpe)")
        with warnings.catch_warnings():  # x0/sigma0 are announced to move to OptunaHub
            warnings.simplefilter("ignore", FutureWarning)
            return optuna.samplers.CmaEsSampler(
                x0=space.defaults(),
                sigma0=sigma0,
                seed=seed,
                n_startup_trials=0,
                warn_independent_sampling=False,
            )
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise MonilabError(f"unknown sampler {name!r} (choose from {', '.join(SAMPLERS)})")


def search_optuna(
    space: Space,
    sampler: optuna.samplers.BaseSampler,
    log: TrialLog,
    evaluate: Evaluate,
    *,
    budget: int,
    jobs: int,
    on_batch: Callable[[int], None] = lambda n: None,
) -> None:
    """Ask/tell in batches of ``jobs`` until ``budget`` calls; trial 0 is the defaults."""
    study = optuna.create_study(direction="minimize", sampler=sampler)
    distributions = space.distributions()
    study.enqueue_trial(space.defaults())
    for batch in log.batches():
        replayed = [study.ask(distributions) for _ in batch]
        for trial, saved in zip(replayed, batch, strict=True):
            if not _same(trial.params, saved.params):
                raise MonilabError(f"checkpoint {log.path}: trial {saved.number} does not replay")
        for trial, saved in zip(replayed, batch, strict=True):
            study.tell(trial, saved.loss)
        on_batch(len(batch))
    batch_no = len(log.batches())
    while len(log.trials) < budget:
        asked = [study.ask(distributions) for _ in range(min(jobs, budget - len(log.trials)))]
        results = evaluate([dict(t.params) for t in asked])
        finished = []
        for trial, (loss, seconds) in zip(asked, results, strict=True):
            study.tell(trial, loss)
            finished.append(Trial(trial.number, batch_no, dict(trial.params), loss, seconds))
        log.add(finished)
        on_batch(len(finished))
        batch_no += 1


class _BudgetSpent(Exception):
    """Raised inside the Nelder–Mead objective once the budget of calls is spent."""


def search_nelder_mead(
    space: Space,
    log: TrialLog,
    evaluate: Evaluate,
    *,
    budget: int,
    on_batch: Callable[[int], None] = lambda n: None,
) -> None:
    """SciPy Nelder–Mead on the unit cube (clipped), from the defaults; one call at a time.

    Resuming re-runs the deterministic search and answers calls found in the log from it.
    """
    saved = {_key(space, t.params): t.loss for t in log.trials}
    on_batch(len(log.trials))

    def objective(u: np.ndarray) -> float:
        params = space.from_unit(np.clip(u, 0.0, 1.0))
        key = _key(space, params)
        if key in saved:
            return saved[key]
        if len(log.trials) >= budget:
            raise _BudgetSpent
        loss, seconds = evaluate([params])[0]
        log.add([Trial(len(log.trials), len(log.trials), params, loss, seconds)])
        saved[key] = loss
        on_batch(1)
        return loss

    x0 = np.clip(space.to_unit(space.defaults()), 0.0, 1.0)
    simplex = [x0]
    for i in range(len(x0)):
        vertex = x0.copy()
        vertex[i] += NM_STEP if x0[i] + NM_STEP <= 1.0 else -NM_STEP
        simplex.append(vertex)
    options = {"initial_simplex": np.array(simplex), "maxfev": 10 * budget, "fatol": 1e-9}
    with contextlib.suppress(_BudgetSpent):
        minimize(objective, x0, method="Nelder-Mead", options=options)


def _key(space: Space, params: dict[str, float]) -> tuple[float, ...]:
    return tuple(round(float(params[name]), 12) for name in space.names)


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(math.isclose(a[k], b[k], rel_tol=1e-9) for k in a)
