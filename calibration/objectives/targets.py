"""Calibration against aggregate targets (``monilab calibrate --targets [--validate]``).

The search loss is the :func:`~calibration.metrics.target_discrepancy` loss of the fit
targets on one simulation at the fit seed. The defaults and the best parameters are then
scored on fresh seeds against the fit targets and, when given, validation targets the
search never saw, next to the simulator's own noise floor (:mod:`calibration.honesty`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from calibration.honesty import score_held_out
from calibration.metrics import target_discrepancy
from calibration.objectives.base import Loss, Setup
from calibration.result import TargetsCalibrationResult
from calibration.run import Run, RunSettings, SearchOutcome
from calibration.workers import Map

__all__ = ["TargetsLoss", "TargetsObjective"]


@dataclass(frozen=True)
class TargetsLoss:
    """The :func:`~calibration.metrics.target_discrepancy` loss against aggregate targets."""

    targets: pd.DataFrame

    def __call__(self, transactions: pd.DataFrame, users: pd.DataFrame) -> float:
        """The weighted target-discrepancy loss."""
        return float(target_discrepancy(self.targets, transactions, users).attrs["loss"])


@dataclass(frozen=True)
class TargetsObjective:
    """Aggregate targets: fit on ``targets``, check on ``validate`` too.

    Attributes:
        targets: Fit targets (:func:`calibration.targets.load_targets`).
        validate: Held-out targets, never seen by the search.
    """

    targets: pd.DataFrame
    validate: pd.DataFrame | None = None
    default_space: ClassVar[str] = "full"

    def check(self, settings: RunSettings) -> None:
        """Any valid settings will do (0 held-out seeds: search only)."""

    def prepare(self, run: Run) -> Setup:
        """The run config (with the targets' hash) and the target-discrepancy loss."""
        config = run.fingerprint() | {
            "parameters": run.space.names,
            "targets_sha256": _frame_hash(self.targets),
        }
        if run.space.kind != "full" or run.settings.sigma0 is not None:
            config |= {"space": run.space.kind, "sigma0": run.settings.sigma0}
        return Setup(config, TargetsLoss(self.targets))

    def search_loss(self, setup: Setup, run: Run, map_fn: Map) -> Loss:
        """The target-discrepancy loss as it is."""
        return setup.loss

    def score(
        self, setup: Setup, loss: Loss, search: SearchOutcome, map_fn: Map
    ) -> TargetsCalibrationResult:
        """Defaults and best point on the held-out seeds, per target set (none: 0 seeds)."""
        run = search.run
        n_seeds = run.settings.held_out_seeds
        sets = {"fit": self.targets}
        if self.validate is not None:
            sets["validate"] = self.validate
        held_out = (
            score_held_out(
                run.simulator,
                run.defaults,
                search.final,
                sets,
                fit_seed=run.seeds.fit,
                seeds=run.seeds.held_out,
                map_fn=map_fn,
            )
            if n_seeds
            else {}
        )
        calls = 1 + 2 * n_seeds if n_seeds else 0
        return TargetsCalibrationResult.from_search(search, held_out_calls=calls, held_out=held_out)


def _frame_hash(frame: pd.DataFrame) -> str:
    text = frame[["statistic", "filter", "key", "value"]].to_csv(index=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
