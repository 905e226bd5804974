"""Calibration against reference microdata (``monilab calibrate --reference --mapping``).

The reference is split (:func:`calibration.split.split_reference`): by user when it has
several users, by blocks of months when it has one (the household ledger). The search
(:func:`calibration.loop.run_search`) minimises the :class:`BatteryObjective` on the fit
part only, at one fit seed for every trial (common random numbers). The final parameters
and the defaults are then scored with at least three fresh seeds on both parts, the
held-out part being the honest number (:func:`calibration.reference_scoring.score_reference`).
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calibration.adapters.microdata import ReferenceData
from calibration.battery import BatteryConfig
from calibration.checkpoint import TrialLog
from calibration.loop import (
    CalibrationResult,
    check_run,
    executor,
    make_space,
    pool_map,
    progress_bar,
    run_search,
    run_seeds,
)
from calibration.reference_scoring import (
    BatteryObjective,
    PartScore,
    noise_scales,
    same_source_battery,
    score_reference,
)
from calibration.simulator import Simulator
from calibration.space import Space
from calibration.split import split_reference
from monilab.contracts.errors import MonilabError

__all__ = ["ReferenceCalibrationResult", "calibrate_reference"]

NOISE_SEED_KEY = 7
"""Mixed into the root seed for the noise-scale simulations (never the fit or fresh seeds)."""


@dataclass
class ReferenceCalibrationResult(CalibrationResult):
    """A :class:`~calibration.loop.CalibrationResult` against microdata.

    Attributes:
        parts: Scores of the ``fit`` and ``held_out`` parts on the fresh seeds.
        split: How the reference was split and the sizes of both parts.
        objective_metrics: The (metric, basis) pairs the objective averages.
        objective_scales: Their noise scales (empty: all 1).
        profiles: Data of the report's distribution and profile plots.
    """

    parts: dict[str, PartScore] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    objective_metrics: list[tuple[str, str]] = field(default_factory=list)
    objective_scales: list[float] = field(default_factory=list)
    profiles: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the ``calibration.json`` content)."""
        summary = super().to_dict()
        summary.pop("held_out")
        return summary | {
            "split": self.split,
            "objective": {
                "loss": "mean of (1 - score) / noise scale over the objective metrics "
                "(fit part only; scales 1 for a one-user reference)",
                "metrics": [f"{m}{'/' + b if b else ''}" for m, b in self.objective_metrics],
                "scales": self.objective_scales,
            },
            "parts": {name: part.to_dict() for name, part in self.parts.items()},
        }


def reference_rows(reference: ReferenceData | pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The transactions of a reference and whether its amount scale is assumed."""
    if isinstance(reference, ReferenceData):
        return reference.transactions, reference.amount_scale_assumed
    return reference, False


def calibrate_reference(
    simulator: Simulator,
    reference: ReferenceData | pd.DataFrame,
    *,
    out_dir: str | Path,
    budget: int,
    seed: int = 0,
    sampler: str = "cmaes",
    jobs: int = 1,
    params: list[str] | None = None,
    space: str | Space = "grouped",
    sigma0: float | None = None,
    held_out_fraction: float = 0.3,
    held_out_seeds: int = 3,
    config: BatteryConfig | None = None,
    resume: bool = True,
    progress: bool = False,
) -> ReferenceCalibrationResult:
    """Calibrate the simulator's free parameters to reference microdata.

    Args:
        simulator: The simulator; its persona set defines the space and the defaults.
        reference: Mapped microdata (:func:`calibration.adapters.load_microdata`) or a
            transactions frame in KRW (e.g. a simulation, for truth-recovery tests).
        out_dir: Directory of the checkpoint ``trials.json``.
        budget: Simulator calls of the search (trial 0, the defaults, included).
        seed: Root seed (split, sampler, fit seed, fresh seeds).
        sampler: ``cmaes`` (default), ``tpe`` or ``nelder-mead``.
        jobs: Parallel simulator calls.
        params: Name patterns: the searched parameters (full space) or the groups.
        space: ``grouped`` (default: one shift per group,
            :class:`~calibration.space.GroupedSpace`), ``full`` or a space.
        sigma0: CMA-ES initial step in unit-cube coordinates.
        held_out_fraction: Share of users (or of month blocks) held out.
        held_out_seeds: Fresh seeds for the final scoring (>= 3).
        config: Battery settings.
        resume: Continue from ``out_dir/trials.json`` when it belongs to the same run.
        progress: Show a tqdm progress bar (stderr).
    """
    check_run(sampler, budget, jobs, held_out_seeds)
    if held_out_seeds == 0:
        raise MonilabError("a microdata calibration needs >= 3 held-out seeds")
    started = time.perf_counter()
    config = config or BatteryConfig()
    rows, assumed = reference_rows(reference)
    split = split_reference(rows, seed=seed, held_out_fraction=held_out_fraction)
    search_space = make_space(simulator, params, space)
    fit_seed, eval_seeds = run_seeds(seed, held_out_seeds)
    objective = BatteryObjective.build(split.fit, amount_scale_assumed=assumed, config=config)
    defaults = search_space.expand(search_space.defaults())
    run_config = {
        "kind": "microdata",
        "objective": "battery / noise scale" if split.by == "user" else "battery",
        "sampler": sampler,
        "seed": seed,
        "users": simulator.users,
        "days": simulator.days,
        "start": simulator.start,
        "personas_sha256": simulator.personas.sha256,
        "space": search_space.kind,
        "parameters": search_space.names,
        "sigma0": sigma0,
        "held_out_fraction": held_out_fraction,
        "battery": config.digest(),
        "reference_sha256": _frame_hash(rows),
    }
    log = TrialLog.open(Path(out_dir), run_config, resume=resume)
    with executor(jobs) as pool:
        if split.by == "user":  # each metric in units of its own sampling noise
            objective = _with_noise_scales(
                objective, simulator, defaults, seed, split.fit["user_id"].nunique(), pool
            )
        with progress_bar(budget, progress) as bar:
            best = run_search(
                simulator,
                objective,
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
        final = search_space.expand(best.params)
        part_users = (
            {
                "fit": split.fit["user_id"].nunique(),
                "held_out": split.held_out["user_id"].nunique(),
            }
            if split.by == "user"
            else None
        )
        parts, profiles = score_reference(
            simulator,
            defaults,
            final,
            {"fit": split.fit, "held_out": split.held_out},
            objective=objective,
            fit_seed=fit_seed,
            seeds=eval_seeds,
            part_users=part_users,
            config=config,
            map_fn=lambda fn, *its: pool_map(pool, fn, *its),
        )
    return ReferenceCalibrationResult(
        params=dict(best.params),
        defaults=search_space.defaults(),
        trials=list(log.trials),
        held_out={},
        seeds={"root": seed, "fit": fit_seed, "held_out": eval_seeds},
        sampler=sampler,
        wall_seconds=time.perf_counter() - started,
        held_out_calls=2 * held_out_seeds + (1 if part_users else 0),
        config=run_config,
        values=final,
        default_values=defaults,
        space=search_space.kind,
        parts=parts,
        split={
            "by": split.by,
            "held_out_groups": len(split.held_out_groups),
            "fit_rows": len(split.fit),
            "held_out_rows": len(split.held_out),
            "fit_users": int(split.fit["user_id"].nunique()),
            "held_out_users": int(split.held_out["user_id"].nunique()),
            "amount_scale_assumed": assumed,
        },
        objective_metrics=list(objective.metrics),
        objective_scales=list(objective.scales or []),
        profiles=profiles,
    )


def _with_noise_scales(
    objective: BatteryObjective,
    simulator: Simulator,
    defaults: dict[str, float],
    seed: int,
    fit_users: int,
    pool: Executor | None,
) -> BatteryObjective:
    """The objective with per-metric noise scales from two pairs of default simulations."""
    children = np.random.SeedSequence([seed, NOISE_SEED_KEY]).spawn(4)
    seeds = [int(c.generate_state(1)[0]) for c in children]
    frames = pool_map(
        pool,
        same_source_battery,
        [simulator] * 2,
        [defaults] * 2,
        [(seeds[0], seeds[1]), (seeds[2], seeds[3])],
        [fit_users] * 2,
        [objective] * 2,
    )
    return replace(objective, scales=noise_scales(frames, objective.metrics))


def _frame_hash(frame: pd.DataFrame) -> str:
    columns = [c for c in ("user_id", "ts", "amount", "category", "direction") if c in frame]
    text = frame[columns].to_csv(index=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
