"""The search loss against reference microdata: the battery reduced to one number.

:class:`BatteryLoss` runs the metric battery (:mod:`calibration.battery`) between the *fit*
part of the reference and one simulation, without the classifier test, and reduces it to
the mean over the battery's objective metrics of ``(1 - score) / scale``. Every score is in
[0, 1] (KS and TV complements, ``exp(-W)`` for Wasserstein distances of log amounts in
reference standard deviations), 1 for identical samples. The metrics are: amounts (KS,
log-Wasserstein, KS within categories), hour of day (KS, six-band TV), weekday TV,
day-of-month KS, category and method TV, and per user-month spend, ticket (KS,
log-Wasserstein) and transaction count (KS).

``scale`` is each metric's own sampling noise (references split by user): its mean
``1 - score`` between default simulations of the sizes the search compares (as many users
as the fit part against one simulator call; two pairs of seeds the search never uses), at
least :data:`MIN_SCALE` (:func:`noise_scales`). Every metric then counts in units of its
noise, so a noisy per-user statistic cannot buy a visibly worse amount distribution, and a
loss near 1 is the noise level. Without a split by user (one-user references) every scale
is 1: the plain mean. For a reference whose amounts were converted from another currency
by an assumed factor the amount metrics are the scale-free (``relative``) ones. The set is
fixed when the loss is built (metrics the reference cannot support, e.g. hours on a file
without times, are left out), and a metric that becomes undefined for some parameters
scores the worst loss, 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calibration.battery import BatteryConfig, run_battery
from calibration.frames import spending
from calibration.simulator import Simulator

__all__ = [
    "MIN_SCALE",
    "BatteryLoss",
    "battery_loss",
    "first_users",
    "noise_scales",
    "same_source_battery",
    "slim",
]

_KEEP = ("user_id", "ts", "method", "amount", "category", "direction", "has_time")
MIN_SCALE = 0.01
"""Smallest noise scale of a metric (one point of KS or TV)."""


def slim(transactions: pd.DataFrame) -> pd.DataFrame:
    """The spending rows, only the columns the battery reads."""
    rows = spending(transactions)
    return rows[[c for c in _KEEP if c in rows.columns]].reset_index(drop=True)


def first_users(transactions: pd.DataFrame, n_users: int) -> pd.DataFrame:
    """The rows of the ``n_users`` lowest user ids (a synthetic stand-in for a reference)."""
    users = np.sort(transactions["user_id"].unique())[:n_users]
    return transactions.loc[transactions["user_id"].isin(users)].reset_index(drop=True)


def battery_loss(
    metrics: pd.DataFrame,
    names: Sequence[tuple[str, str]] | None = None,
    scales: Sequence[float] | None = None,
) -> float:
    """Mean ``(1 - score) / scale`` over objective metrics.

    Args:
        metrics: A battery frame.
        names: Fixed (metric, basis) keys; a listed metric that is missing or undefined
            counts as ``1 - score`` = 1. None: the frame's objective metrics that are defined.
        scales: Noise scale per name (None: all 1).
    """
    if names is None:
        scores = metrics.loc[metrics["in_objective"], "score"].dropna().to_numpy(dtype=float)
        return float((1.0 - scores).mean()) if len(scores) else float("nan")
    by_key = metrics.set_index(["metric", "basis"])["score"]
    losses = []
    for key in names:
        score = by_key.get(key, np.nan)
        losses.append(1.0 - float(score) if np.isfinite(score) else 1.0)
    if not losses:
        return float("nan")
    return float(np.mean(np.asarray(losses) / (1.0 if scales is None else np.asarray(scales))))


def noise_scales(
    frames: Sequence[pd.DataFrame], names: Sequence[tuple[str, str]]
) -> tuple[float, ...]:
    """Per name: mean ``1 - score`` over same-source battery frames, at least MIN_SCALE."""
    scales = []
    for key in names:
        values = []
        for frame in frames:
            score = frame.set_index(["metric", "basis"])["score"].get(key, np.nan)
            values.append(1.0 - float(score) if np.isfinite(score) else np.nan)
        mean = float(np.nanmean(values)) if np.isfinite(values).any() else MIN_SCALE
        scales.append(max(mean, MIN_SCALE))
    return tuple(scales)


def same_source_battery(
    simulator: Simulator,
    defaults: Mapping[str, float],
    seeds: tuple[int, int],
    n_users: int,
    loss: BatteryLoss,
) -> pd.DataFrame:
    """Battery (no classifiers) of two default simulations, the first cut to ``n_users``."""
    pseudo = first_users(slim(simulator(defaults, seed=seeds[0])[0]), n_users)
    other = slim(simulator(defaults, seed=seeds[1])[0])
    return run_battery(
        pseudo,
        other,
        seed=0,
        amount_scale_assumed=loss.amount_scale_assumed,
        config=loss.config,
        classifiers=False,
    )


@dataclass(frozen=True)
class BatteryLoss:
    """Loss of a simulation against the fit part of a reference (see module doc).

    Build with :meth:`build`; picklable (the reference rows travel to worker processes).

    Attributes:
        reference: Spending rows of the fit part (only the columns the battery reads).
        amount_scale_assumed: Amounts were converted by an assumed currency factor.
        metrics: The (metric, basis) keys averaged.
        config: Battery settings.
        scales: Noise scale per metric (None: all 1).
    """

    reference: pd.DataFrame
    amount_scale_assumed: bool
    metrics: tuple[tuple[str, str], ...]
    config: BatteryConfig = field(default_factory=BatteryConfig)
    scales: tuple[float, ...] | None = None

    @classmethod
    def build(
        cls,
        reference: pd.DataFrame,
        *,
        amount_scale_assumed: bool,
        config: BatteryConfig | None = None,
    ) -> BatteryLoss:
        """The loss of a reference's fit rows; fixes the metric set on the reference."""
        config = config or BatteryConfig()
        rows = slim(reference)
        itself = run_battery(
            rows,
            rows,
            seed=0,
            amount_scale_assumed=amount_scale_assumed,
            config=config,
            classifiers=False,
        )
        usable = itself.loc[itself["in_objective"] & itself["score"].notna()]
        keys = tuple(zip(usable["metric"], usable["basis"], strict=True))
        return cls(rows, amount_scale_assumed, keys, config)

    def battery(self, transactions: pd.DataFrame) -> pd.DataFrame:
        """The battery (no classifiers) of a simulation against the fit rows."""
        return run_battery(
            self.reference,
            slim(transactions),
            seed=0,
            amount_scale_assumed=self.amount_scale_assumed,
            config=self.config,
            classifiers=False,
        )

    def loss(self, battery: pd.DataFrame) -> float:
        """The loss of a battery frame."""
        return battery_loss(battery, self.metrics, self.scales)

    def __call__(self, transactions: pd.DataFrame, users: pd.DataFrame | None = None) -> float:
        """The loss of one simulation."""
        return self.loss(self.battery(transactions))
