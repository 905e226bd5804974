"""Calibration against reference microdata (``monilab calibrate --reference``).

The reference is split (:func:`calibration.split.split_reference`): by user when it has
several users, by blocks of months when it has one (the household ledger). The search
minimises the :class:`~calibration.battery_loss.BatteryLoss` on the fit part only, each
metric in units of its own sampling noise when the split is by user. The final parameters
and the defaults are then scored with at least three fresh seeds on both parts, the
held-out part being the honest number (:func:`calibration.reference_scoring.score_reference`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from calibration.adapters.microdata import ReferenceData
from calibration.battery import BatteryConfig
from calibration.battery_loss import BatteryLoss, noise_scales, same_source_battery
from calibration.objectives.base import Loss, Setup
from calibration.reference_scoring import score_reference
from calibration.result import ReferenceCalibrationResult
from calibration.run import Run, RunSettings, SearchOutcome
from calibration.split import ReferenceSplit, split_reference
from calibration.workers import Map
from monilab.contracts.errors import MonilabError

__all__ = ["NOISE_SEED_KEY", "ReferenceObjective", "ReferenceSetup"]

NOISE_SEED_KEY = 7
"""Mixed into the root seed for the noise-scale simulations (never the fit or fresh seeds)."""


@dataclass(frozen=True)
class ReferenceSetup(Setup):
    """The run config and battery loss, with the split they were made from.

    Attributes:
        split: The fit and held-out parts of the reference.
        amount_scale_assumed: The reference amounts carry an assumed currency factor.
    """

    loss: BatteryLoss
    split: ReferenceSplit
    amount_scale_assumed: bool

    def part_users(self) -> dict[str, int] | None:
        """Users of each part (None unless split by user: then no synthetic floor)."""
        if self.split.by != "user":
            return None
        return {
            "fit": self.split.fit["user_id"].nunique(),
            "held_out": self.split.held_out["user_id"].nunique(),
        }

    def summary(self) -> dict[str, Any]:
        """How the reference was split and the sizes of both parts."""
        split = self.split
        return {
            "by": split.by,
            "held_out_groups": len(split.held_out_groups),
            "fit_rows": len(split.fit),
            "held_out_rows": len(split.held_out),
            "fit_users": int(split.fit["user_id"].nunique()),
            "held_out_users": int(split.held_out["user_id"].nunique()),
            "amount_scale_assumed": self.amount_scale_assumed,
        }


@dataclass(frozen=True)
class ReferenceObjective:
    """Reference microdata, split into a fit and a held-out part.

    Attributes:
        reference: Mapped microdata (:func:`calibration.adapters.load_microdata`) or a
            transactions frame in KRW (e.g. a simulation, for truth-recovery tests).
        held_out_fraction: Share of users (or of month blocks) held out.
        battery: Battery settings.
    """

    reference: ReferenceData | pd.DataFrame
    held_out_fraction: float = 0.3
    battery: BatteryConfig = field(default_factory=BatteryConfig)
    default_space: ClassVar[str] = "grouped"

    def check(self, settings: RunSettings) -> None:
        """The held-out part is the honest number: it needs fresh seeds."""
        if settings.held_out_seeds == 0:
            raise MonilabError("a microdata calibration needs >= 3 held-out seeds")

    def prepare(self, run: Run) -> ReferenceSetup:
        """Split the reference, build the battery loss of the fit part, fix the run config."""
        rows, assumed = self.rows()
        split = split_reference(
            rows, seed=run.settings.seed, held_out_fraction=self.held_out_fraction
        )
        loss = BatteryLoss.build(split.fit, amount_scale_assumed=assumed, config=self.battery)
        common = run.fingerprint()
        config = {
            "kind": "microdata",
            "objective": "battery / noise scale" if split.by == "user" else "battery",
            **common,
            "space": run.space.kind,
            "parameters": run.space.names,
            "sigma0": run.settings.sigma0,
            "held_out_fraction": self.held_out_fraction,
            "battery": self.battery.digest(),
            "reference_sha256": _frame_hash(rows),
        }
        return ReferenceSetup(config, loss, split, assumed)

    def rows(self) -> tuple[pd.DataFrame, bool]:
        """The reference's transactions and whether its amount scale is assumed."""
        if isinstance(self.reference, ReferenceData):
            return self.reference.transactions, self.reference.amount_scale_assumed
        return self.reference, False

    def search_loss(self, setup: ReferenceSetup, run: Run, map_fn: Map) -> BatteryLoss:
        """Split by user: each metric in units of its own noise; else the plain mean."""
        users = setup.part_users()
        if users is None:
            return setup.loss
        return _with_noise_scales(setup.loss, run, users["fit"], map_fn)

    def score(
        self, setup: ReferenceSetup, loss: Loss, search: SearchOutcome, map_fn: Map
    ) -> ReferenceCalibrationResult:
        """Both parts on the fresh seeds, with their noise floors and the plot profiles."""
        assert isinstance(loss, BatteryLoss), "the reference objective scores with its battery"
        run, part_users = search.run, setup.part_users()
        parts, profiles = score_reference(
            run.simulator,
            run.defaults,
            search.final,
            {"fit": setup.split.fit, "held_out": setup.split.held_out},
            objective=loss,
            fit_seed=run.seeds.fit,
            seeds=run.seeds.held_out,
            part_users=part_users,
            config=self.battery,
            map_fn=map_fn,
        )
        return ReferenceCalibrationResult.from_search(
            search,
            held_out_calls=2 * run.settings.held_out_seeds + (1 if part_users else 0),
            parts=parts,
            split=setup.summary(),
            objective_metrics=list(loss.metrics),
            objective_scales=list(loss.scales or []),
            profiles=profiles,
        )


def _with_noise_scales(loss: BatteryLoss, run: Run, fit_users: int, map_fn: Map) -> BatteryLoss:
    """The loss with per-metric noise scales from two pairs of default simulations."""
    children = np.random.SeedSequence([run.settings.seed, NOISE_SEED_KEY]).spawn(4)
    seeds = [int(c.generate_state(1)[0]) for c in children]
    frames = map_fn(
        same_source_battery,
        [run.simulator] * 2,
        [run.defaults] * 2,
        [(seeds[0], seeds[1]), (seeds[2], seeds[3])],
        [fit_users] * 2,
        [loss] * 2,
    )
    return replace(loss, scales=noise_scales(frames, loss.metrics))


def _frame_hash(frame: pd.DataFrame) -> str:
    columns = [c for c in ("user_id", "ts", "amount", "category", "direction") if c in frame]
    text = frame[columns].to_csv(index=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
