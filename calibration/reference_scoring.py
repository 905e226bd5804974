"""Honest scoring of a calibration against reference microdata.

The search loss is :class:`~calibration.battery_loss.BatteryLoss`. Scoring
(:func:`score_reference`): defaults and final parameters are simulated with fresh seeds the
search never saw and compared, with the whole battery including the classifier two-sample
test (C2ST AUC, logistic and gradient-boosted, fixed settings), with the fit and the
held-out parts of the reference. Noise floors, per metric and for the loss:

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calibration.battery import BatteryConfig, run_battery
from calibration.battery_loss import BatteryLoss, first_users, slim
from calibration.frames import WEEKDAYS, time_known, timestamps, user_months
from calibration.honesty import GapScore, finite_or_none
from calibration.simulator import Simulator
from calibration.workers import Map

__all__ = ["AMOUNT_BINS", "RELATIVE_BINS", "PartScore", "sample_profile", "score_reference"]

AMOUNT_BINS = np.linspace(np.log10(50.0), np.log10(5e6), 61)
"""Histogram bins of amounts (log10 KRW) for the report's distribution plots."""
RELATIVE_BINS = np.linspace(-2.5, 2.5, 61)
"""Histogram bins of log10(amount / the sample's median amount), for assumed currency scales."""


def sample_profile(transactions: pd.DataFrame, *, relative: bool = False) -> dict[str, Any]:
    """What the report plots of one sample: amount histogram, hour and weekday profiles,
    per-user-month spend and transaction counts (small arrays, cheap to send between
    processes). ``relative``: amounts and spends divided by the sample's median (the
    comparison for a reference whose currency scale is assumed)."""
    rows = slim(transactions)
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


@dataclass(frozen=True, kw_only=True)
class PartScore(GapScore):
    """One part of the reference (fit or held-out) scored on the fresh seeds.

    ``name`` is ``fit`` or ``held_out``; ``noise_floor`` the floor the gap is measured to
    and ``floor_kind`` which one it is (``synthetic`` or ``reference``, see module doc);
    ``metrics`` per metric: default, final, floors, tolerance, flag.
    """

    floor_kind: str

    def auc(self, model: str) -> dict[str, float]:
        """C2ST AUC of ``model`` (``logistic``/``gbm``): default, final and floors."""
        table = self.metrics.set_index("metric")
        name = f"c2st_auc_{model}"
        keys = ("default", "final", "floor_synthetic", "floor_reference")
        return {k: float(table[k].loc[name]) for k in keys}

    def flagged(self) -> list[str]:
        """Metrics outside the objective that got worse beyond their noise floor."""
        frame = self.metrics.loc[self.metrics["worse_beyond_floor"]]
        return [
            f"{m}{'/' + b if b else ''}"
            for m, b in zip(frame["metric"], frame["basis"], strict=True)
        ]

    def _floor_details(self) -> dict[str, Any]:
        return {"floor_kind": self.floor_kind}

    def _metric_details(self) -> dict[str, Any]:
        return {
            "c2st_auc": {
                m: {k: finite_or_none(v) for k, v in self.auc(m).items()}
                for m in ("logistic", "gbm")
            },
            "worse_beyond_floor": self.flagged(),
        }


@dataclass(frozen=True)
class SeedBatteries:
    """The batteries of one fresh seed and, at the first seed, the samples' profiles.

    Attributes:
        frames: Battery frame by (part, sample): sample ``default``, ``final`` or ``floor``.
        profiles: :func:`sample_profile` of the ``default`` and ``final`` samples (empty
            after the first seed).
    """

    frames: dict[tuple[str, str], pd.DataFrame]
    profiles: dict[str, dict[str, Any]]


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
) -> SeedBatteries:
    """Batteries of one fresh seed (a top-level function, so process pools can run it)."""
    out: dict[tuple[str, str], pd.DataFrame] = {}
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
                slim(sample),
                seed=battery_seeds[k],
                amount_scale_assumed=assumed,
                config=config,
            )
            k += 1
    for part, reference in pseudo.items():
        out[(part, "floor")] = run_battery(
            reference,
            slim(samples["default"]),
            seed=battery_seeds[k],
            amount_scale_assumed=assumed,
            config=config,
        )
        k += 1
    profiles = (
        {label: sample_profile(s, relative=assumed) for label, s in samples.items()}
        if with_profiles
        else {}
    )
    return SeedBatteries(out, profiles)


def score_reference(
    simulator: Simulator,
    defaults: Mapping[str, float],
    final: Mapping[str, float],
    parts: dict[str, pd.DataFrame],
    *,
    objective: BatteryLoss,
    fit_seed: int,
    seeds: Sequence[int],
    part_users: dict[str, int] | None,
    config: BatteryConfig | None = None,
    map_fn: Map = lambda fn, *its: list(map(fn, *its)),
) -> tuple[dict[str, PartScore], dict[str, Any]]:
    """Score defaults and final parameters on ``parts`` (``fit``, ``held_out``) and ``seeds``.

    Args:
        objective: The search loss (its metric set and noise scales).
        part_users: Users of each part, for the synthetic floors (None: no synthetic
            floor, e.g. a one-user reference split by months).

    Returns:
        The score of each part, and the profiles (reference parts and, at the first seed,
        the default and final simulations) for the report's plots.
    """
    config = config or BatteryConfig()
    assumed = objective.amount_scale_assumed
    parts = {name: slim(rows) for name, rows in parts.items()}
    pseudo = _pseudo_references(simulator, defaults, fit_seed, part_users)
    n = len(seeds)
    results: list[SeedBatteries] = map_fn(
        _seed_batteries,
        [simulator] * n,
        [dict(defaults)] * n,
        [dict(final)] * n,
        list(seeds),
        [parts] * n,
        [pseudo] * n,
        [assumed] * n,
        [config] * n,
        [i == 0 for i in range(n)],
    )
    reference_floor = run_battery(
        parts["fit"],
        parts["held_out"],
        seed=np.random.SeedSequence(fit_seed),
        amount_scale_assumed=assumed,
        config=config,
    )
    scores = {
        part: _part_score(part, results, reference_floor, objective, synthetic_floor=part in pseudo)
        for part in parts
    }
    profiles = {
        f"reference_{name}": sample_profile(rows, relative=assumed) for name, rows in parts.items()
    }
    profiles |= results[0].profiles if n else {}
    return scores, profiles


def _pseudo_references(
    simulator: Simulator,
    defaults: Mapping[str, float],
    fit_seed: int,
    part_users: dict[str, int] | None,
) -> dict[str, pd.DataFrame]:
    """Per part, the defaults at the fit seed cut to the part's users (the synthetic floor)."""
    if not part_users:
        return {}
    itself = slim(simulator(defaults, seed=fit_seed)[0])
    return {name: first_users(itself, n) for name, n in part_users.items()}


def _part_score(
    part: str,
    results: list[SeedBatteries],
    reference_floor: pd.DataFrame,
    objective: BatteryLoss,
    *,
    synthetic_floor: bool,
) -> PartScore:
    """One part's losses, noise floor and metric table from the per-seed batteries."""
    default = [r.frames[(part, "default")] for r in results]
    final = [r.frames[(part, "final")] for r in results]
    floor = [r.frames[(part, "floor")] for r in results] if synthetic_floor else None
    losses_default = [objective.loss(f) for f in default]
    losses_final = [objective.loss(f) for f in final]
    if floor is not None:
        floor_loss, kind = float(np.mean([objective.loss(f) for f in floor])), "synthetic"
    else:
        floor_loss, kind = objective.loss(reference_floor), "reference"
    return PartScore(
        name=part,
        loss_default=float(np.mean(losses_default)),
        loss_final=float(np.mean(losses_final)),
        noise_floor=floor_loss,
        floor_kind=kind,
        losses_default=losses_default,
        losses_final=losses_final,
        metrics=_metric_table(default, final, floor, reference_floor, objective),
    )


def _metric_table(
    default: list[pd.DataFrame],
    final: list[pd.DataFrame],
    floor: list[pd.DataFrame] | None,
    reference_floor: pd.DataFrame,
    objective: BatteryLoss,
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
    metric_keys: list[tuple[str, str]] = list(zip(table["metric"], table["basis"], strict=True))
    table["in_objective"] = [k in scale for k in metric_keys]
    table["objective_scale"] = [scale.get(k, np.nan) for k in metric_keys]
    ideal = np.where(table["metric"].str.startswith("c2st_auc"), 0.5, 0.0)
    floor_value = table["floor_synthetic"].fillna(table["floor_reference"]).to_numpy(dtype=float)
    change = f_ - d
    se = np.nanstd(change, axis=0, ddof=1) / math.sqrt(len(change)) if len(change) > 1 else 0.0
    table["tolerance"] = np.fmax(np.abs(floor_value - ideal), 2.0 * se)
    worse = table["final"] - table["default"]
    table["worse_beyond_floor"] = (~table["in_objective"]) & (worse > table["tolerance"])
    return table
