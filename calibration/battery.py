"""The microdata metric battery: one reference sample against one synthetic sample.

Every metric yields a raw ``value`` (with the direction that is ``better``) and a ``score``
in [0, 1], higher is better, SDMetrics style:

- ``*_ks``: two-sample Kolmogorov-Smirnov statistic; score ``1 - KS``.
  ``amount_by_category_ks`` is the KS of amounts within each category (categories with at
  least :attr:`BatteryConfig.min_category_rows` rows on both sides), averaged with the
  reference's category counts as weights: pooled amounts cannot tell a dearer coffee from a
  cheaper meal, amounts per category can.
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
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp, wasserstein_distance

from calibration.c2st import c2st_auc
from calibration.frames import (
    WEEKDAYS,
    hour_of_day,
    time_known,
    timestamps,
    user_months,
    weekday,
)
from calibration.targets.vocabulary import hour_band

METRIC_COLUMNS: tuple[str, ...] = ("metric", "property", "value", "score", "better", "basis")
DIAGNOSTIC_METRICS: frozenset[str] = frozenset(
    {"hour_js", "weekday_js", "c2st_auc_logistic", "c2st_auc_gbm"}
)
"""Reported but kept out of the objective: JS repeats the TV/KS profile checks, and the
classifier test is the held-out judge of the calibration, not something to optimise."""


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


def ks_complement(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """KS statistic and ``1 - KS`` of two samples (NaN when either is empty)."""
    if not len(a) or not len(b):
        return float("nan"), float("nan")
    ks = float(ks_2samp(a, b).statistic)
    return ks, 1.0 - ks


def tv_complement(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    """Total variation distance of two label samples and ``1 - TV`` (NaN when empty)."""
    if not len(a) or not len(b):
        return float("nan"), float("nan")
    p = a.value_counts(normalize=True)
    q = b.value_counts(normalize=True)
    p, q = p.align(q, fill_value=0.0)
    tv = 0.5 * float(np.abs(p - q).sum())
    return tv, 1.0 - tv


def wasserstein_sd(reference: np.ndarray, other: np.ndarray) -> float:
    """Wasserstein-1 distance in standard deviations of the reference sample."""
    if len(reference) < 2 or not len(other):
        return float("nan")
    spread = float(np.std(reference))
    if spread == 0:
        return float("nan")
    return float(wasserstein_distance(reference, other)) / spread


def js_distance(a: np.ndarray, b: np.ndarray, bins: int) -> float:
    """Jensen-Shannon distance (base 2) between the histograms of two integer samples."""
    if not len(a) or not len(b):
        return float("nan")
    p = np.bincount(a, minlength=bins)
    q = np.bincount(b, minlength=bins)
    return float(jensenshannon(p, q, base=2))


def run_battery(
    reference: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    seed: int | np.random.SeedSequence,
    amount_scale_assumed: bool = False,
    config: BatteryConfig | None = None,
    classifiers: bool = True,
) -> pd.DataFrame:
    """All battery metrics of two spending samples.

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
    config = config or BatteryConfig()
    rows: list[tuple] = []
    rows += _money_rows("amount", "amounts", reference["amount"], synthetic["amount"])
    rows += _category_amount_rows(reference, synthetic, config.min_category_rows)
    rows += _timing_rows(reference, synthetic, config)
    rows.append(("category_tv", "composition", *_tv(reference, synthetic, "category"), ""))
    rows.append(("method_tv", "composition", *_tv(reference, synthetic, "method"), ""))
    rows += _per_user_rows(user_months(reference), user_months(synthetic))
    aucs = (
        c2st_auc(
            reference, synthetic, seed=seed, config=config, relative_amounts=amount_scale_assumed
        )
        if classifiers
        else {}
    )
    for model, auc in aucs.items():
        score = min(1.0, 2.0 * (1.0 - auc)) if np.isfinite(auc) else np.nan
        rows.append((f"c2st_auc_{model}", "detectability", auc, score, "lower", ""))
    frame = pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
    objective_basis = "relative" if amount_scale_assumed else "absolute"
    frame["in_objective"] = ~frame["metric"].isin(DIAGNOSTIC_METRICS) & frame["basis"].isin(
        ["", objective_basis]
    )
    return frame


def _ks(a: np.ndarray, b: np.ndarray) -> tuple[float, float, str]:
    return (*ks_complement(a, b), "lower")


def _tv(reference: pd.DataFrame, synthetic: pd.DataFrame, column: str) -> tuple[float, float, str]:
    a, b = reference[column], synthetic[column]
    if a.isna().all() or b.isna().all():  # declared missing on one side: not comparable
        return float("nan"), float("nan"), "lower"
    return (*tv_complement(a.fillna("<missing>"), b.fillna("<missing>")), "lower")


def _timed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[time_known(frame)]


def _hour_bands(frame: pd.DataFrame, bands: tuple[str, ...]) -> pd.Series:
    hours = timestamps(frame).dt.hour.to_numpy()
    labels = np.full(len(frame), "<none>", dtype=object)
    for band in bands:
        start, end = hour_band(band)
        labels[(hours >= start) & (hours < end)] = band
    return pd.Series(labels)


def _timing_rows(
    reference: pd.DataFrame, synthetic: pd.DataFrame, config: BatteryConfig
) -> list[tuple]:
    ref_t, syn_t = _timed(reference), _timed(synthetic)
    hour_js = js_distance(
        timestamps(ref_t).dt.hour.to_numpy(), timestamps(syn_t).dt.hour.to_numpy(), 24
    )
    weekday_js = js_distance(weekday(reference), weekday(synthetic), len(WEEKDAYS))
    day_a = timestamps(reference).dt.day.to_numpy()
    day_b = timestamps(synthetic).dt.day.to_numpy()
    bands_a, bands_b = (_hour_bands(f, config.hour_bands) for f in (ref_t, syn_t))
    return [
        ("hour_ks", "timing", *_ks(hour_of_day(ref_t), hour_of_day(syn_t)), ""),
        ("hour_band_tv", "timing", *tv_complement(bands_a, bands_b), "lower", ""),
        ("hour_js", "timing", hour_js, 1.0 - hour_js, "lower", ""),
        ("weekday_tv", "timing", *_weekday_tv(reference, synthetic), "lower", ""),
        ("weekday_js", "timing", weekday_js, 1.0 - weekday_js, "lower", ""),
        ("day_of_month_ks", "timing", *_ks(day_a, day_b), ""),
    ]


def _weekday_tv(reference: pd.DataFrame, synthetic: pd.DataFrame) -> tuple[float, float]:
    return tv_complement(pd.Series(weekday(reference)), pd.Series(weekday(synthetic)))


def _per_user_rows(ref: pd.DataFrame, syn: pd.DataFrame) -> list[tuple]:
    rows = _money_rows("spend_per_user_month", "per_user", ref["spend"], syn["spend"])
    rows += _money_rows("ticket_per_user_month", "per_user", ref["ticket"], syn["ticket"])
    txns = (ref["txns"].to_numpy(dtype=float), syn["txns"].to_numpy(dtype=float))
    rows.append(("txn_per_user_month_ks", "per_user", *_ks(*txns), ""))
    return rows


def _money_rows(name: str, prop: str, reference: pd.Series, synthetic: pd.Series) -> list[tuple]:
    """KS and log-Wasserstein rows of a money quantity, in both amount bases."""
    rows = []
    for basis in ("absolute", "relative"):
        a, b = (_scaled(v.to_numpy(dtype=float), basis) for v in (reference, synthetic))
        rows.append((f"{name}_ks", prop, *_ks(a, b), basis))
        w = wasserstein_sd(np.log(a), np.log(b))
        rows.append((f"log_{name}_wasserstein", prop, w, np.exp(-w), "lower", basis))
    return rows


def _category_amount_rows(
    reference: pd.DataFrame, synthetic: pd.DataFrame, min_rows: int
) -> list[tuple]:
    """Reference-weighted mean KS of amounts within categories, in both amount bases."""
    rows = []
    ref_amounts = reference["amount"].to_numpy(dtype=float)
    syn_amounts = synthetic["amount"].to_numpy(dtype=float)
    ref_groups = reference.groupby("category", sort=True).indices
    syn_groups = synthetic.groupby("category", sort=True).indices
    for basis in ("absolute", "relative"):
        a_all, b_all = _scaled(ref_amounts, basis), _scaled(syn_amounts, basis)
        stats, weights = [], []
        for category, ref_rows in ref_groups.items():
            syn_rows = syn_groups.get(category)
            if syn_rows is None or min(len(ref_rows), len(syn_rows)) < min_rows:
                continue
            stats.append(ks_complement(a_all[ref_rows], b_all[syn_rows])[0])
            weights.append(len(ref_rows))
        ks = float(np.average(stats, weights=weights)) if stats else float("nan")
        rows.append(("amount_by_category_ks", "amounts", ks, 1.0 - ks, "lower", basis))
    return rows


def _scaled(values: np.ndarray, basis: str) -> np.ndarray:
    """Values as they are (absolute) or divided by their own median (relative)."""
    if basis == "relative" and len(values):
        return values / np.median(values)
    return values
