"""The objective against reference microdata, and the honest scoring of a calibration.

Objective (:class:`BatteryObjective`): the metric battery (:mod:`calibration.battery`)
between the *fit* part of the reference and one simulation, without the classifier test,
reduced to one number: the mean over the battery's objective metrics of
``(1 - score) / scale``. Every score is in [0, 1] (KS and TV complements, ``exp(-W)`` for
Wasserstein distances of log amounts in reference standard deviations), 1 for identical
samples. The metrics are: amounts (KS, log-Wasserstein, KS within categories), hour of day
(KS, six-band TV), weekday TV, day-of-month KS, category and method TV, and per user-month
spend, ticket (KS, log-Wasserstein) and transaction count (KS).

``scale`` is each metric's own sampling noise (references split by user): its mean
``1 - score`` between default simulations of the sizes the search compares (as many users
as the fit part against one simulator call; two pairs of seeds the search never uses), at
least :data:`MIN_SCALE`. Every metric then counts in units of its noise, so a noisy
per-user statistic cannot buy a visibly worse amount distribution, and a loss near 1 is
the noise level. Without a split by user (one-user references) every scale is 1: the plain
mean. For a reference whose
amounts were converted from another currency by an assumed factor the amount metrics are
the scale-free (``relative``) ones. The set is fixed when the objective is built (metrics
the reference cannot support, e.g. hours on a file without times, are left out), and a
metric that becomes undefined for some parameters scores the worst loss, 1.

Scoring (:func:`score_reference`): defaults and final parameters are simulated with fresh
seeds the search never saw and compared, with the whole battery including the classifier
two-sample test (C2ST AUC, logistic and gradient-boosted, fixed settings), with the fit
and the held-out parts of the reference. Noise floors, per metric and for the loss:

- ``floor_synthetic`` (references split by user): the simulator against itself. The
  defaults at the fit seed, cut to as many users as the part has, play the reference;
  defaults at each fresh seed are compared with it. It is what a perfectly calibrated
  simulator would still score at these sample sizes.
- ``floor_reference`` (always): the fit part against the held-out part of the reference.
  With one user (a split by months) this is the only floor; it is pessimistic (both sides
  are small), so read a loss below it as "as close as the reference is to itself".

Fraction of the closable gap closed on a part: ``(L_default - L_final) / (L_default -
floor)`` with the synthetic floor when there is one, else the reference floor.

Metrics kept out of the objective (the classifier AUCs, Jensen-Shannon profile distances,
the amount basis not in the objective) must not get worse. A metric is flagged
``worse_beyond_floor`` when its mean change in the bad direction exceeds its tolerance:
the larger of its noise (how far the floor value is from the ideal: 0 for distances, 0.5
for an AUC) and twice the standard error of the per-seed change.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from calibration.battery import BatteryConfig, run_battery
from calibration.frames import WEEKDAYS, spending, time_known, timestamps, user_months
from calibration.honesty import gap_fraction
from calibration.simulator import Simulator

__all__ = [
    "BatteryObjective",
    "PartScore",
    "battery_loss",
    "noise_scales",
    "same_source_battery",
    "sample_profile",
    "score_reference",
]

Map = Callable[..., list[Any]]
"""``map(fn, *iterables)`` returning a list (inline or over a process pool)."""

_KEEP = ("user_id", "ts", "method", "amount", "category", "direction", "has_time")
MIN_SCALE = 0.01
"""Smallest noise scale of a metric (one point of KS or TV)."""
AMOUNT_BINS = np.linspace(np.log10(50.0), np.log10(5e6), 61)
"""Histogram bins of amounts (log10 KRW) for the report's distribution plots."""
RELATIVE_BINS = np.linspace(-2.5, 2.5, 61)
"""Histogram bins of log10(amount / the sample's median amount), for assumed currency scales."""


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
    objective: BatteryObjective,
) -> pd.DataFrame:
    """Battery (no classifiers) of two default simulations, the first cut to ``n_users``."""
    pseudo = first_users(_slim(simulator(defaults, seed=seeds[0])[0]), n_users)
    other = _slim(simulator(defaults, seed=seeds[1])[0])
    return run_battery(
        pseudo,
        other,
        seed=0,
        amount_scale_assumed=objective.amount_scale_assumed,
        config=objective.config,
        classifiers=False,
    )


def _slim(transactions: pd.DataFrame) -> pd.DataFrame:
    rows = spending(transactions)
    return rows[[c for c in _KEEP if c in rows.columns]].reset_index(drop=True)


@dataclass(frozen=True)
class BatteryObjective:
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
    ) -> BatteryObjective:
        """The objective of a reference's fit rows; fixes the metric set on the reference."""
        config = config or BatteryConfig()
        rows = _slim(reference)
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
            _slim(transactions),
            seed=0,
            amount_scale_assumed=self.amount_scale_assumed,
            config=self.config,
            classifiers=False,
        )

    def loss(self, battery: pd.DataFrame) -> float:
        """The objective loss of a battery frame."""
        return battery_loss(battery, self.metrics, self.scales)

    def __call__(self, transactions: pd.DataFrame, users: pd.DataFrame | None = None) -> float:
        """The loss of one simulation."""
        return self.loss(self.battery(transactions))


def sample_profile(transactions: pd.DataFrame, *, relative: bool = False) -> dict[str, Any]:
    """What the report plots of one sample: amount histogram, hour and weekday profiles,
    per-user-month spend and transaction counts (small arrays, cheap to send between
    processes). ``relative``: amounts and spends divided by the sample's median (the
    comparison for a reference whose currency scale is assumed)."""
    rows = _slim(transactions)
    amounts = rows["amount"].to_numpy(dtype=float)
    timed = rows.loc[time_known(rows)]
    months = user_months(rows)
    spend = months["spend"].to_numpy(dtype=float)
    if relative and len(amounts):
        amounts, spend = amounts / np.median(amounts), spend / np.median(spend)
    return {
        "relative": relative,
        "amount_hist": np.histogram(np.log10(amounts), RELATIVE_BINS if relative else AMOUNT_BINS)[
            0
        ].tolist(),
        "hour": np.bincount(timestamps(timed).dt.hour.to_numpy(), minlength=24).tolist(),
        "weekday": np.bincount(
            timestamps(rows).dt.day_of_week.to_numpy(), minlength=len(WEEKDAYS)
        ).tolist(),
        "spend_per_user_month": spend.tolist(),
        "txn_per_user_month": months["txns"].to_numpy(dtype=float).tolist(),
        "rows": len(rows),
    }


@dataclass
class PartScore:
    """One part of the reference (fit or held-out) scored on the fresh seeds.

    Attributes:
        name: ``fit`` or ``held_out``.
        loss_default: Mean objective loss of the defaults.
        loss_final: Mean objective loss of the final parameters.
        noise_floor: The floor the gap is measured to (see module doc).
        floor_kind: ``synthetic`` or ``reference``.
        losses_default: Loss per seed.
        losses_final: Loss per seed.
        metrics: Per metric: default, final, floors, tolerance, flag (see module doc).
    """

    name: str
    loss_default: float
    loss_final: float
    noise_floor: float
    floor_kind: str
    losses_default: list[float]
    losses_final: list[float]
    metrics: pd.DataFrame

    @property
    def gap_closed(self) -> float:
        """Fraction of the closable gap closed (NaN if the defaults were within the floor)."""
        return gap_fraction(self.loss_default, self.loss_final, self.noise_floor)

    def auc(self, model: str) -> dict[str, float]:
        """C2ST AUC of ``model`` (``logistic``/``gbm``): default, final and floors."""
        row = self.metrics.set_index("metric").loc[f"c2st_auc_{model}"]
        keys = ("default", "final", "floor_synthetic", "floor_reference")
        return {k: float(row[k]) for k in keys}

    def flagged(self) -> list[str]:
        """Metrics outside the objective that got worse beyond their noise floor."""
        frame = self.metrics.loc[self.metrics["worse_beyond_floor"]]
        return [
            f"{m}{'/' + b if b else ''}"
            for m, b in zip(frame["metric"], frame["basis"], strict=True)
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (NaN as None)."""
        return {
            "loss_default": _num(self.loss_default),
            "loss_final": _num(self.loss_final),
            "noise_floor": _num(self.noise_floor),
            "floor_kind": self.floor_kind,
            "gap_before": _num(self.loss_default - self.noise_floor),
            "gap_after": _num(self.loss_final - self.noise_floor),
            "fraction_of_closable_gap_closed": _num(self.gap_closed),
            "losses_default": self.losses_default,
            "losses_final": self.losses_final,
            "c2st_auc": {m: _nums(self.auc(m)) for m in ("logistic", "gbm")},
            "worse_beyond_floor": self.flagged(),
            "metrics": [
                {k: (_num(v) if isinstance(v, float) else v) for k, v in row.items()}
                for row in self.metrics.to_dict(orient="records")
            ],
        }


def _seed_batteries(
    simulator: Simulator,
    defaults: Mapping[str, float],
    final: Mapping[str, float],
    seed: int,
    parts: dict[str, pd.DataFrame],
    pseudo: dict[str, pd.DataFrame],
    assumed: bool,
    config: BatteryConfig,
    with_profiles: bool,
) -> dict[str, Any]:
    """Batteries of one fresh seed (a top-level function, so process pools can run it)."""
    out: dict[str, Any] = {}
    battery_seeds = np.random.SeedSequence(seed).spawn(3 * len(parts))
    samples = {
        "default": simulator(defaults, seed=seed)[0],
        "final": simulator(final, seed=seed)[0],
    }
    k = 0
    for part, reference in parts.items():
        for label, sample in samples.items():
            out[(part, label)] = run_battery(
                reference,
                _slim(sample),
                seed=battery_seeds[k],
                amount_scale_assumed=assumed,
                config=config,
            )
            k += 1
    for part, reference in pseudo.items():
        out[(part, "floor")] = run_battery(
            reference,
            _slim(samples["default"]),
            seed=battery_seeds[k],
            amount_scale_assumed=assumed,
            config=config,
        )
        k += 1
    if with_profiles:
        out["profiles"] = {
            label: sample_profile(s, relative=assumed) for label, s in samples.items()
        }
    return out


def first_users(transactions: pd.DataFrame, n_users: int) -> pd.DataFrame:
    """The rows of the ``n_users`` lowest user ids (a synthetic stand-in for a reference)."""
    users = np.sort(transactions["user_id"].unique())[:n_users]
    return transactions.loc[transactions["user_id"].isin(users)].reset_index(drop=True)


def score_reference(
    simulator: Simulator,
    defaults: Mapping[str, float],
    final: Mapping[str, float],
    parts: dict[str, pd.DataFrame],
    *,
    objective: BatteryObjective,
    fit_seed: int,
    seeds: Sequence[int],
    part_users: dict[str, int] | None,
    config: BatteryConfig | None = None,
    map_fn: Map = lambda fn, *its: list(map(fn, *its)),
) -> tuple[dict[str, PartScore], dict[str, Any]]:
    """Score defaults and final parameters on ``parts`` (``fit``, ``held_out``) and ``seeds``.

    Args:
        part_users: Users of each part, for the synthetic floors (None: no synthetic
            floor, e.g. a one-user reference split by months).

    Returns:
        The score of each part, and the profiles (reference parts and, at the first seed,
        the default and final simulations) for the report's plots.
    """
    config = config or BatteryConfig()
    amount_scale_assumed = objective.amount_scale_assumed
    parts = {name: _slim(rows) for name, rows in parts.items()}
    pseudo = {}
    if part_users:
        itself = _slim(simulator(defaults, seed=fit_seed)[0])
        pseudo = {name: first_users(itself, n) for name, n in part_users.items()}
    n = len(seeds)
    results = map_fn(
        _seed_batteries,
        [simulator] * n,
        [dict(defaults)] * n,
        [dict(final)] * n,
        list(seeds),
        [parts] * n,
        [pseudo] * n,
        [amount_scale_assumed] * n,
        [config] * n,
        [i == 0 for i in range(n)],
    )
    reference_floor = run_battery(
        parts["fit"],
        parts["held_out"],
        seed=np.random.SeedSequence(fit_seed),
        amount_scale_assumed=amount_scale_assumed,
        config=config,
    )
    scores = {}
    for part in parts:
        default = [r[(part, "default")] for r in results]
        final_frames = [r[(part, "final")] for r in results]
        floor = [r[(part, "floor")] for r in results] if part in pseudo else None
        losses_default = [objective.loss(f) for f in default]
        losses_final = [objective.loss(f) for f in final_frames]
        if floor is not None:
            floor_loss, kind = float(np.mean([objective.loss(f) for f in floor])), "synthetic"
        else:
            floor_loss, kind = objective.loss(reference_floor), "reference"
        scores[part] = PartScore(
            name=part,
            loss_default=float(np.mean(losses_default)),
            loss_final=float(np.mean(losses_final)),
            noise_floor=floor_loss,
            floor_kind=kind,
            losses_default=losses_default,
            losses_final=losses_final,
            metrics=_metric_table(default, final_frames, floor, reference_floor, objective),
        )
    profiles = {
        f"reference_{name}": sample_profile(rows, relative=amount_scale_assumed)
        for name, rows in parts.items()
    }
    profiles |= results[0]["profiles"] if n else {}
    return scores, profiles


def _metric_table(
    default: list[pd.DataFrame],
    final: list[pd.DataFrame],
    floor: list[pd.DataFrame] | None,
    reference_floor: pd.DataFrame,
    objective: BatteryObjective,
) -> pd.DataFrame:
    keys = ["metric", "property", "basis", "better"]
    table = default[0][keys].copy()
    d = np.array([f["value"].to_numpy(dtype=float) for f in default])
    f_ = np.array([f["value"].to_numpy(dtype=float) for f in final])
    table["default"] = np.nanmean(d, axis=0)
    table["final"] = np.nanmean(f_, axis=0)
    table["floor_synthetic"] = (
        np.nanmean([f["value"].to_numpy(dtype=float) for f in floor], axis=0)
        if floor is not None
        else np.nan
    )
    table["floor_reference"] = reference_floor["value"].to_numpy(dtype=float)
    scale = dict(
        zip(objective.metrics, objective.scales or [1.0] * len(objective.metrics), strict=True)
    )
    keys = list(zip(table["metric"], table["basis"], strict=True))
    table["in_objective"] = [k in scale for k in keys]
    table["objective_scale"] = [scale.get(k, np.nan) for k in keys]
    ideal = np.where(table["metric"].str.startswith("c2st_auc"), 0.5, 0.0)
    floor_value = table["floor_synthetic"].fillna(table["floor_reference"]).to_numpy(dtype=float)
    change = f_ - d
    se = np.nanstd(change, axis=0, ddof=1) / math.sqrt(len(change)) if len(change) > 1 else 0.0
    table["tolerance"] = np.fmax(np.abs(floor_value - ideal), 2.0 * se)
    worse = table["final"] - table["default"]
    table["worse_beyond_floor"] = (~table["in_objective"]) & (worse > table["tolerance"])
    return table


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _nums(values: dict[str, float]) -> dict[str, float | None]:
    return {k: _num(v) for k, v in values.items()}
