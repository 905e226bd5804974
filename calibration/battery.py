"""The microdata metric battery: one reference sample against one synthetic sample.

Every metric (:mod:`calibration.battery_metrics`) yields a raw ``value`` (with the direction
that is ``better``) and a ``score`` in [0, 1], higher is better, SDMetrics style:

- ``*_ks``: two-sample Kolmogorov-Smirnov statistic; score ``1 - KS``.
  ``amount_by_category_ks`` is the KS of amounts within each category, weighted by the
  reference's category counts.
- ``*_tv``: total variation distance of two categorical distributions; score ``1 - TV``.
- ``*_wasserstein``: Wasserstein-1 distance in reference standard deviations; score
  ``exp(-W)``.
- ``*_js``: Jensen-Shannon distance (base 2, in [0, 1]) of hour or weekday profiles;
  score ``1 - JS``.
- ``c2st_auc_*``: classifier two-sample test AUC (:mod:`calibration.c2st`), 0.5 means
  indistinguishable; score ``min(1, 2 * (1 - AUC))``.

Amount metrics come in two bases: ``absolute`` (KRW as mapped) and ``relative`` (each
sample's amounts divided by its own median, i.e. shape only). Hour metrics use only rows
whose time of day is known.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from calibration.battery_metrics import BATTERY_METRICS, SamplePair

__all__ = ["METRIC_COLUMNS", "BatteryConfig", "run_battery"]

METRIC_COLUMNS: tuple[str, ...] = ("metric", "property", "value", "score", "better", "basis")


@dataclass(frozen=True)
class BatteryConfig:
    """Fixed settings of the battery; their hash goes into every report."""

    hour_bands: tuple[str, ...] = ("00-06", "06-11", "11-14", "14-17", "17-21", "21-24")
    c2st_max_per_class: int = 5000
    c2st_test_fraction: float = 0.3
    logistic_c: float = 1.0
    gbm_max_iter: int = 200
    gbm_learning_rate: float = 0.1
    gbm_max_leaf_nodes: int = 15
    floor_block_months: int = 3
    min_category_rows: int = 20

    def digest(self) -> str:
        """Short SHA-256 of the settings."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_battery(
    reference: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    seed: int | np.random.SeedSequence,
    amount_scale_assumed: bool = False,
    config: BatteryConfig | None = None,
    classifiers: bool = True,
) -> pd.DataFrame:
    """All battery metrics of two spending samples, one row per registered metric.

    Args:
        reference: Reference spending rows (schema frame, optional ``has_time``).
        synthetic: Synthetic spending rows.
        seed: Seed for the classifier test's subsampling, split and models.
        amount_scale_assumed: The reference amounts were converted by an assumed factor:
            relative amount metrics go into the objective, absolute ones do not.
        config: Battery settings.
        classifiers: Run the classifier two-sample test (the slow part; the calibration
            objective leaves it out, it is the held-out judge).

    Returns:
        Columns :data:`METRIC_COLUMNS` plus ``in_objective``.
    """
    pair = SamplePair(reference, synthetic, config or BatteryConfig(), seed, amount_scale_assumed)
    metrics = [m for m in BATTERY_METRICS if classifiers or not m.classifier]
    frame = pd.DataFrame([m.row(pair) for m in metrics], columns=list(METRIC_COLUMNS))
    objective_basis = "relative" if amount_scale_assumed else "absolute"
    frame["in_objective"] = np.array([m.in_objective(objective_basis) for m in metrics], dtype=bool)
    return frame
