"""Honest scoring of a calibration: held-out seeds, held-out targets, the noise floor.

The defaults and the calibrated parameters are both scored with fresh seeds the search never
saw, on every target set (the fit targets and, with ``--validate``, a second file).

Noise floor of a target set: the set's rows with values computed from a default-parameter
simulation at the fit seed, scored against default-parameter simulations at the held-out
seeds (mean loss). It is the loss a perfectly calibrated simulator of this size would still
show from sampling noise alone. The fraction of the closable gap closed is
``(loss_default - loss_final) / (loss_default - noise_floor)`` on the held-out seeds
(NaN when the defaults are already within the noise floor).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calibration.simulator import Simulator, evaluate_targets, targets_from_simulation
from calibration.workers import Map

__all__ = ["GapScore", "HeldOutScore", "finite_or_none", "gap_fraction", "score_held_out"]


def gap_fraction(loss_default: float, loss_final: float, noise_floor: float) -> float:
    """``(default - final) / (default - floor)``; NaN when the defaults are within the floor."""
    closable = loss_default - noise_floor
    if not closable > 0:
        return float("nan")
    return (loss_default - loss_final) / closable


@dataclass(frozen=True, kw_only=True)
class GapScore:
    """Defaults and calibrated parameters scored on held-out seeds against a noise floor.

    The common part of :class:`HeldOutScore` (aggregate targets) and
    :class:`~calibration.reference_scoring.PartScore` (reference microdata).

    Attributes:
        name: What was scored (a target set or a part of the reference).
        loss_default: Mean loss of the defaults.
        loss_final: Mean loss of the calibrated parameters.
        noise_floor: The loss the gap is measured to.
        losses_default: Loss per held-out seed.
        losses_final: Loss per held-out seed.
        metrics: Per row of the score: simulated values, floors and losses (means over seeds).
    """

    name: str
    loss_default: float
    loss_final: float
    noise_floor: float
    losses_default: list[float]
    losses_final: list[float]
    metrics: pd.DataFrame

    @property
    def gap_closed(self) -> float:
        """Fraction of the closable gap closed (NaN if the defaults were within the floor)."""
        return gap_fraction(self.loss_default, self.loss_final, self.noise_floor)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (NaN as None)."""
        return {
            "loss_default": finite_or_none(self.loss_default),
            "loss_final": finite_or_none(self.loss_final),
            "noise_floor": finite_or_none(self.noise_floor),
            **self._floor_details(),
            "gap_before": finite_or_none(self.loss_default - self.noise_floor),
            "gap_after": finite_or_none(self.loss_final - self.noise_floor),
            "fraction_of_closable_gap_closed": finite_or_none(self.gap_closed),
            "losses_default": self.losses_default,
            "losses_final": self.losses_final,
            **self._metric_details(),
            "metrics": [
                {k: (finite_or_none(v) if isinstance(v, float) else v) for k, v in row.items()}
                for row in self.metrics.to_dict(orient="records")
            ],
        }

    def _floor_details(self) -> dict[str, Any]:
        """Summary keys after ``noise_floor`` (what kind of floor it is)."""
        return {}

    def _metric_details(self) -> dict[str, Any]:
        """Summary keys before ``metrics`` (headline metrics, flags)."""
        return {}


@dataclass(frozen=True, kw_only=True)
class HeldOutScore(GapScore):
    """One target set scored on the held-out seeds.

    ``name`` is ``fit`` or ``validate``; ``noise_floor`` the mean loss of the simulator
    against itself (see module doc); ``metrics`` per target row: target, default and final
    simulated values and row losses (means over seeds).
    """


def score_held_out(
    simulator: Simulator,
    defaults: Mapping[str, float],
    final: Mapping[str, float],
    target_sets: Mapping[str, pd.DataFrame],
    *,
    fit_seed: int,
    seeds: Sequence[int],
    map_fn: Map = lambda fn, *its: list(map(fn, *its)),
) -> dict[str, HeldOutScore]:
    """Score defaults and final parameters on ``seeds``; ``1 + 2 * len(seeds)`` simulator calls."""
    names = list(target_sets)
    sets = tuple(target_sets[n] for n in names)
    transactions, users = simulator(defaults, seed=fit_seed)
    pseudo = tuple(targets_from_simulation(t, transactions, users) for t in sets)
    n = len(seeds)
    frames = map_fn(
        evaluate_targets,
        [simulator] * (2 * n),
        [dict(defaults)] * n + [dict(final)] * n,
        list(seeds) * 2,
        [sets + pseudo] * n + [sets] * n,
    )
    scores = {}
    for i, name in enumerate(names):
        default_frames = [f[i] for f in frames[:n]]
        final_frames = [f[i] for f in frames[n:]]
        floor = [f[len(sets) + i].attrs["loss"] for f in frames[:n]]
        scores[name] = HeldOutScore(
            name=name,
            loss_default=float(np.mean([f.attrs["loss"] for f in default_frames])),
            loss_final=float(np.mean([f.attrs["loss"] for f in final_frames])),
            noise_floor=float(np.mean(floor)),
            losses_default=[float(f.attrs["loss"]) for f in default_frames],
            losses_final=[float(f.attrs["loss"]) for f in final_frames],
            metrics=_metrics(default_frames, final_frames),
        )
    return scores


def _metrics(default: list[pd.DataFrame], final: list[pd.DataFrame]) -> pd.DataFrame:
    keys = ["statistic", "filter", "key", "target"]
    out = default[0][keys].copy()
    for label, frames in (("default", default), ("final", final)):
        out[label] = np.nanmean([f["simulated"].to_numpy(dtype=float) for f in frames], axis=0)
        out[f"{label}_row_loss"] = np.mean([f["row_loss"].to_numpy() for f in frames], axis=0)
    return out


def finite_or_none(x: float | None) -> float | None:
    """``x`` as a float for JSON, None when it is missing, NaN or infinite."""
    return None if x is None or not math.isfinite(x) else float(x)
