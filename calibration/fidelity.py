"""Fidelity of synthetic data: battery metric -> property -> report, next to noise floors.

A metric value means little without the value the same metric takes between two samples
that come from the *same* source. Two noise floors are offered:

- ``noise_floor`` (always): the reference against itself, split in halves by
  :func:`calibration.split.split_reference` (by user, or by month blocks for one user).
  Each half is about half the size, so this floor is somewhat pessimistic.
- ``noise_floor_synthetic`` (when a second synthetic sample from another seed is given):
  the simulator against itself, see :func:`noise_floor`.

A synthetic sample whose metric sits within the noise floor is as close to the reference as
the reference is to itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calibration.adapters.microdata import ReferenceData
from calibration.battery import BatteryConfig, run_battery
from calibration.frames import spending
from calibration.split import split_reference
from monilab.contracts.errors import MonilabError

REPORT_COLUMNS: tuple[str, ...] = (
    "metric",
    "property",
    "value",
    "score",
    "noise_floor",
    "noise_floor_synthetic",
    "better",
    "basis",
    "in_objective",
)


@dataclass
class FidelityReport:
    """Result of :func:`fidelity_report`.

    Attributes:
        metrics: One row per metric, columns :data:`REPORT_COLUMNS`: raw ``value`` (its
            direction in ``better``), ``score`` in [0, 1] (higher is better), the noise
            floors in value units, the amount ``basis`` and whether the metric is part of
            the calibration objective.
        seed: The seed everything random was drawn from.
        config_hash: Hash of the :class:`~calibration.battery.BatteryConfig`.
        duration_s: Wall time of the report.
        details: Sizes of the samples and how the reference was split for the floor.
    """

    metrics: pd.DataFrame
    seed: int
    config_hash: str
    duration_s: float
    details: dict[str, object] = field(default_factory=dict)

    def properties(self) -> pd.DataFrame:
        """Mean score per property (SDMetrics style), over all and over objective metrics."""
        frame = self.metrics.assign(
            objective_score=self.metrics["score"].where(self.metrics["in_objective"])
        )
        return frame.groupby("property", sort=False)[["score", "objective_score"]].mean()

    def objective_loss(self) -> float:
        """Mean ``1 - score`` over the objective metrics that could be computed."""
        scores = self.metrics.loc[self.metrics["in_objective"], "score"].dropna()
        return float((1.0 - scores).mean()) if len(scores) else float("nan")


def _as_sample(data: ReferenceData | pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Spending rows and whether their amounts carry an assumed currency scale."""
    if isinstance(data, ReferenceData):
        return spending(data.transactions), data.amount_scale_assumed
    return spending(data), False


def noise_floor(
    sample_a: pd.DataFrame,
    sample_b: pd.DataFrame,
    *,
    seed: int | np.random.SeedSequence,
    amount_scale_assumed: bool = False,
    config: BatteryConfig | None = None,
) -> pd.DataFrame:
    """The battery between two samples of one source (e.g. the simulator with two seeds)."""
    return run_battery(
        spending(sample_a),
        spending(sample_b),
        seed=seed,
        amount_scale_assumed=amount_scale_assumed,
        config=config,
    )


def reference_noise_floor(
    reference: ReferenceData | pd.DataFrame,
    *,
    seed: int | np.random.SeedSequence,
    config: BatteryConfig | None = None,
) -> tuple[pd.DataFrame | None, dict[str, object]]:
    """The battery between two halves of the reference (None if it cannot be split)."""
    config = config or BatteryConfig()
    rows, assumed = _as_sample(reference)
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    split_seed, battery_seed = root.spawn(2)
    try:
        halves = split_reference(
            rows, seed=split_seed, held_out_fraction=0.5, block_months=config.floor_block_months
        )
    except MonilabError as exc:
        return None, {"floor_split": f"not possible: {exc}"}
    floor = run_battery(
        halves.fit, halves.held_out, seed=battery_seed, amount_scale_assumed=assumed, config=config
    )
    return floor, {"floor_split": halves.by, "floor_rows": (len(halves.fit), len(halves.held_out))}


def fidelity_report(
    reference: ReferenceData | pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    seed: int,
    noise_floor_sample: pd.DataFrame | None = None,
    config: BatteryConfig | None = None,
) -> FidelityReport:
    """Compare synthetic transactions with a reference, next to the noise floors.

    Args:
        reference: Reference microdata (:class:`ReferenceData` keeps its currency
            assumption) or a transactions frame in KRW.
        synthetic: Synthetic transactions.
        seed: Root seed; children go to the comparison and to each noise floor.
        noise_floor_sample: A second synthetic sample (another simulator seed) for the
            simulator's own noise floor.
        config: Battery settings (defaults: :class:`BatteryConfig`).

    Returns:
        The :class:`FidelityReport`.
    """
    started = time.perf_counter()
    config = config or BatteryConfig()
    main_seed, floor_seed, sim_seed = np.random.SeedSequence(seed).spawn(3)
    ref_rows, assumed = _as_sample(reference)
    syn_rows = spending(synthetic)
    metrics = run_battery(
        ref_rows, syn_rows, seed=main_seed, amount_scale_assumed=assumed, config=config
    )
    floor, details = reference_noise_floor(reference, seed=floor_seed, config=config)
    metrics["noise_floor"] = np.nan if floor is None else floor["value"].to_numpy()
    metrics["noise_floor_synthetic"] = np.nan
    if noise_floor_sample is not None:
        sim_floor = noise_floor(
            synthetic,
            noise_floor_sample,
            seed=sim_seed,
            amount_scale_assumed=assumed,
            config=config,
        )
        metrics["noise_floor_synthetic"] = sim_floor["value"].to_numpy()
    details |= {
        "reference_rows": len(ref_rows),
        "synthetic_rows": len(syn_rows),
        "amount_scale_assumed": assumed,
    }
    return FidelityReport(
        metrics=metrics[list(REPORT_COLUMNS)],
        seed=seed,
        config_hash=config.digest(),
        duration_s=time.perf_counter() - started,
        details=details,
    )
