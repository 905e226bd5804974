"""The metrics of the microdata battery, one small class each, and their registry.

Each metric compares one reference sample with one synthetic sample and yields a raw
``value`` (lower is better) and a ``score`` in [0, 1] (higher is better); it belongs to one
property (``amounts``, ``timing``, ``composition``, ``per_user``, ``detectability``) and,
for money quantities, to one amount basis (``absolute`` or ``relative``). The battery
(:func:`calibration.battery.run_battery`) runs :data:`BATTERY_METRICS` in order, one row
each; the fidelity report (:mod:`calibration.fidelity`) averages the scores per property.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from calibration.c2st import c2st_auc
from calibration.distances import js_distance, ks_complement, tv_complement, wasserstein_sd
from calibration.frames import WEEKDAYS, hour_of_day, time_known, timestamps, user_months
from calibration.frames import weekday as weekday_index
from calibration.targets.vocabulary import hour_band

if TYPE_CHECKING:
    from calibration.battery import BatteryConfig

__all__ = ["BASES", "BATTERY_METRICS", "Metric", "SamplePair"]

BASES: tuple[str, ...] = ("absolute", "relative")
"""Amount bases: KRW as mapped, and each sample divided by its own median (shape only)."""


@dataclass
class SamplePair:
    """A reference and a synthetic spending sample, with the views several metrics share.

    Attributes:
        reference: Reference spending rows (schema frame, optional ``has_time``).
        synthetic: Synthetic spending rows.
        config: Battery settings.
        seed: Seed of the classifier test.
        amount_scale_assumed: The reference amounts carry an assumed currency factor.
    """

    reference: pd.DataFrame
    synthetic: pd.DataFrame
    config: BatteryConfig
    seed: int | np.random.SeedSequence
    amount_scale_assumed: bool

    @cached_property
    def timed(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Both samples cut to the rows whose time of day is known."""
        return self.reference.loc[time_known(self.reference)], self.synthetic.loc[
            time_known(self.synthetic)
        ]

    @cached_property
    def user_months(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per user-month totals of both samples."""
        return user_months(self.reference), user_months(self.synthetic)

    @cached_property
    def c2st(self) -> dict[str, float]:
        """Classifier two-sample test AUC per model (one fit of both models)."""
        return c2st_auc(
            self.reference,
            self.synthetic,
            seed=self.seed,
            config=self.config,
            relative_amounts=self.amount_scale_assumed,
        )


Pair = tuple[np.ndarray, np.ndarray]
Quantity = Callable[[SamplePair], Pair]
"""The two sides (reference, synthetic) of the numeric quantity a metric compares."""
Columns = Callable[[SamplePair], tuple[pd.Series, pd.Series]]
"""The two sides (reference, synthetic) of a money or label column a metric compares."""


@dataclass(frozen=True, kw_only=True)
class Metric(ABC):
    """One row of the battery.

    Attributes:
        name: Metric name (``*_ks``, ``*_tv``, ``*_wasserstein``, ``*_js``, ``c2st_auc_*``).
        prop: The property it belongs to.
        basis: Amount basis (``""`` when amounts play no part).
        diagnostic: Reported but kept out of the calibration objective.
    """

    name: str
    prop: str
    basis: str = ""
    diagnostic: bool = False
    better: ClassVar[str] = "lower"
    classifier: ClassVar[bool] = False
    """The slow classifier test (left out of the battery on request)."""

    @abstractmethod
    def measure(self, pair: SamplePair) -> tuple[float, float]:
        """``(value, score)`` of the metric on one pair of samples."""

    def row(self, pair: SamplePair) -> tuple[str, str, float, float, str, str]:
        """The battery row: metric, property, value, score, better, basis."""
        value, score = self.measure(pair)
        return (self.name, self.prop, value, score, self.better, self.basis)

    def in_objective(self, objective_basis: str) -> bool:
        """Whether the calibration objective may average this metric."""
        return not self.diagnostic and self.basis in ("", objective_basis)


@dataclass(frozen=True, kw_only=True)
class KS(Metric):
    """Two-sample Kolmogorov-Smirnov statistic; score ``1 - KS``."""

    quantity: Quantity

    def measure(self, pair: SamplePair) -> tuple[float, float]:
        """KS and its complement."""
        return ks_complement(*self.quantity(pair))


@dataclass(frozen=True, kw_only=True)
class MoneyKS(Metric):
    """KS of a money quantity in the metric's amount basis; score ``1 - KS``."""

    quantity: Columns

    def measure(self, pair: SamplePair) -> tuple[float, float]:
        """KS and its complement."""
        return ks_complement(*_money(self.quantity(pair), self.basis))


@dataclass(frozen=True, kw_only=True)
class LogWasserstein(Metric):
    """Wasserstein-1 distance of log money values in reference SDs; score ``exp(-W)``."""

    quantity: Columns

    def measure(self, pair: SamplePair) -> tuple[float, float]:
        """The distance and ``exp(-W)``."""
        a, b = _money(self.quantity(pair), self.basis)
        w = wasserstein_sd(np.log(a), np.log(b))
        return w, np.exp(-w)


@dataclass(frozen=True, kw_only=True)
class CategoryAmountKS(Metric):
    """KS of amounts within each category, averaged with the reference's category counts.

    Pooled amounts cannot tell a dearer coffee from a cheaper meal, amounts per category
    can. Only categories with :attr:`BatteryConfig.min_category_rows` rows on both sides.
    """

    def measure(self, pair: SamplePair) -> tuple[float, float]:
        """The weighted mean KS and its complement."""
        reference, synthetic = pair.reference, pair.synthetic
        a_all, b_all = _money((reference["amount"], synthetic["amount"]), self.basis)
        syn_groups = synthetic.groupby("category", sort=True).indices
        min_rows = pair.config.min_category_rows
        stats, weights = [], []
        for category, ref_rows in reference.groupby("category", sort=True).indices.items():
            syn_rows = syn_groups.get(category)
            if syn_rows is None or min(len(ref_rows), len(syn_rows)) < min_rows:
                continue
            stats.append(ks_complement(a_all[ref_rows], b_all[syn_rows])[0])
            weights.append(len(ref_rows))
        ks = float(np.average(stats, weights=weights)) if stats else float("nan")
        return ks, 1.0 - ks


@dataclass(frozen=True, kw_only=True)
class TV(Metric):
    """Total variation distance of two label samples; score ``1 - TV``."""

    labels: Columns

    def measure(self, pair: SamplePair) -> tuple[float, float]:
        """TV and its complement."""
        return tv_complement(*self.labels(pair))


@dataclass(frozen=True, kw_only=True)
class ColumnTV(Metric):
    """TV of a label column; NaN when one side declared the column missing."""

    column: str

    def measure(self, pair: SamplePair) -> tuple[float, float]:
        """TV and its complement."""
        a, b = pair.reference[self.column], pair.synthetic[self.column]
        if a.isna().all() or b.isna().all():  # declared missing on one side: not comparable
            return float("nan"), float("nan")
        return tv_complement(a.fillna("<missing>"), b.fillna("<missing>"))


@dataclass(frozen=True, kw_only=True)
class JS(Metric):
    """Jensen-Shannon distance (base 2) of integer profiles; score ``1 - JS``."""

    quantity: Quantity
    bins: int

    def measure(self, pair: SamplePair) -> tuple[float, float]:
        """JS and its complement."""
        js = js_distance(*self.quantity(pair), self.bins)
        return js, 1.0 - js


@dataclass(frozen=True, kw_only=True)
class C2STAUC(Metric):
    """Classifier two-sample test AUC (0.5: indistinguishable); score ``min(1, 2(1 - AUC))``."""

    model: str
    classifier: ClassVar[bool] = True

    def measure(self, pair: SamplePair) -> tuple[float, float]:
        """The AUC of the model and its score."""
        auc = pair.c2st[self.model]
        return auc, min(1.0, 2.0 * (1.0 - auc)) if np.isfinite(auc) else np.nan


def _money(sides: tuple[pd.Series, pd.Series], basis: str) -> Pair:
    a, b = (_scaled(v.to_numpy(dtype=float), basis) for v in sides)
    return a, b


def _scaled(values: np.ndarray, basis: str) -> np.ndarray:
    """Values as they are (absolute) or divided by their own median (relative)."""
    if basis == "relative" and len(values):
        return values / np.median(values)
    return values


def _amounts(pair: SamplePair) -> tuple[pd.Series, pd.Series]:
    return pair.reference["amount"], pair.synthetic["amount"]


def _user_month(column: str) -> Columns:
    def sides(pair: SamplePair) -> tuple[pd.Series, pd.Series]:
        a, b = pair.user_months
        return a[column], b[column]

    return sides


def _txns(pair: SamplePair) -> Pair:
    a, b = pair.user_months
    return a["txns"].to_numpy(dtype=float), b["txns"].to_numpy(dtype=float)


def _fractional_hours(pair: SamplePair) -> Pair:
    a, b = pair.timed
    return hour_of_day(a), hour_of_day(b)


def _whole_hours(pair: SamplePair) -> Pair:
    a, b = pair.timed
    return timestamps(a).dt.hour.to_numpy(), timestamps(b).dt.hour.to_numpy()


def _hour_bands(pair: SamplePair) -> tuple[pd.Series, pd.Series]:
    a, b = pair.timed
    return _band_labels(a, pair.config.hour_bands), _band_labels(b, pair.config.hour_bands)


def _band_labels(frame: pd.DataFrame, bands: tuple[str, ...]) -> pd.Series:
    hours = timestamps(frame).dt.hour.to_numpy()
    labels = np.full(len(frame), "<none>", dtype=object)
    for band in bands:
        start, end = hour_band(band)
        labels[(hours >= start) & (hours < end)] = band
    return pd.Series(labels)


def _weekdays(pair: SamplePair) -> Pair:
    return weekday_index(pair.reference), weekday_index(pair.synthetic)


def _weekday_labels(pair: SamplePair) -> tuple[pd.Series, pd.Series]:
    a, b = _weekdays(pair)
    return pd.Series(a), pd.Series(b)


def _days_of_month(pair: SamplePair) -> Pair:
    return (
        timestamps(pair.reference).dt.day.to_numpy(),
        timestamps(pair.synthetic).dt.day.to_numpy(),
    )


def _money_metrics(name: str, prop: str, quantity: Columns) -> tuple[Metric, ...]:
    """KS and log-Wasserstein of a money quantity, in both bases (KS first in each)."""
    return tuple(
        metric
        for basis in BASES
        for metric in (
            MoneyKS(name=f"{name}_ks", prop=prop, basis=basis, quantity=quantity),
            LogWasserstein(
                name=f"log_{name}_wasserstein", prop=prop, basis=basis, quantity=quantity
            ),
        )
    )


BATTERY_METRICS: tuple[Metric, ...] = (
    *_money_metrics("amount", "amounts", _amounts),
    *(CategoryAmountKS(name="amount_by_category_ks", prop="amounts", basis=b) for b in BASES),
    KS(name="hour_ks", prop="timing", quantity=_fractional_hours),
    TV(name="hour_band_tv", prop="timing", labels=_hour_bands),
    JS(name="hour_js", prop="timing", quantity=_whole_hours, bins=24, diagnostic=True),
    TV(name="weekday_tv", prop="timing", labels=_weekday_labels),
    JS(name="weekday_js", prop="timing", quantity=_weekdays, bins=len(WEEKDAYS), diagnostic=True),
    KS(name="day_of_month_ks", prop="timing", quantity=_days_of_month),
    ColumnTV(name="category_tv", prop="composition", column="category"),
    ColumnTV(name="method_tv", prop="composition", column="method"),
    *_money_metrics("spend_per_user_month", "per_user", _user_month("spend")),
    *_money_metrics("ticket_per_user_month", "per_user", _user_month("ticket")),
    KS(name="txn_per_user_month_ks", prop="per_user", quantity=_txns),
    C2STAUC(name="c2st_auc_logistic", prop="detectability", model="logistic", diagnostic=True),
    C2STAUC(name="c2st_auc_gbm", prop="detectability", model="gbm", diagnostic=True),
)
"""The registry: every battery metric, in report order. JS repeats the TV/KS profile
checks and the classifier test is the held-out judge of a calibration, so both are
diagnostics, reported and kept out of the objective."""
