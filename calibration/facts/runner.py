"""Run the battery: every fact's value beside its band, with a verdict.

A verdict is ``in`` (inside the band), ``out`` (outside) or ``n/a`` (cannot be computed
on this data; the reason says why). Under ``--check`` a fact fails when it is ``out``, and
also when it is ``n/a`` unless its band is marked ``optional`` in ``bands.toml`` (facts
that need what a valid source may lack: merchant names, app usage, a population, enough
months). A fact is never silently passed: an optional ``n/a`` is still listed.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from calibration.facts import money, repertoire, timing, usage
from calibration.facts.bands import Band, BandSet, load_bands
from calibration.facts.frames import FactData
from calibration.facts.measure import Measurement, NotApplicable
from monilab.contracts.errors import MonilabError

log = logging.getLogger(__name__)

IN, OUT, NOT_APPLICABLE = "in", "out", "n/a"

FactFunction = Callable[[FactData, BandSet], Measurement]


def _usage(function: Callable[..., Measurement]) -> FactFunction:
    return lambda data, _bands: function(data.sessions, data.sessions_missing)


def _plain(function: Callable[[FactData], Measurement]) -> FactFunction:
    return lambda data, _bands: function(data)


FACTS: dict[str, FactFunction] = {
    "daily_count_dispersion": _plain(timing.daily_count_dispersion),
    "gap_cv": _plain(timing.gap_cv),
    "longest_inactive_spell": _plain(timing.longest_inactive_spell),
    "monthly_spend_cv": _plain(money.monthly_spend_cv),
    "seasonality": _plain(money.seasonality),
    "categories_per_user": _plain(repertoire.categories_per_user),
    "category_rank_slope": _plain(repertoire.category_rank_slope),
    "merchants_per_user_month": _plain(repertoire.merchants_per_user_month),
    "new_merchant_rate": _plain(repertoire.new_merchant_rate),
    "payday_share": _plain(money.payday_share),
    "income_regularity": _plain(money.income_regularity),
    "spend_to_income": _plain(money.spend_to_income),
    "outflow_to_income": _plain(money.outflow_to_income),
    "consumption_mix_distance": lambda data, bands: money.consumption_mix_distance(
        data, bands.mix.target, bands.mix.groups
    ),
    "sessions_per_week_tail": _usage(usage.sessions_per_week_tail),
    "session_gap_cv": _usage(usage.session_gap_cv),
    "login_night_share": _usage(usage.login_night_share),
    "login_diurnal_peak": _usage(usage.login_diurnal_peak),
    "login_weekend_ratio": _usage(usage.login_weekend_ratio),
    "pages_per_session": _usage(usage.pages_per_session),
}
"""Every fact of the battery, in report order."""


@dataclass(frozen=True)
class FactResult:
    """One fact measured on one dataset, beside its band.

    Attributes:
        name: The fact's key (as in ``bands.toml``).
        value: The measured value, or None when not applicable.
        band: The reference band and its source.
        verdict: ``in``, ``out`` or ``n/a``.
        reason: Why ``n/a``; otherwise what the value was computed over.
        detail: Extra context (e.g. the flat payday share, the largest mix gaps).
    """

    name: str
    value: float | None
    band: Band
    verdict: str
    reason: str
    detail: str = ""

    @property
    def fails_check(self) -> bool:
        """Out of band, or not applicable for a fact the bands file requires."""
        return self.verdict == OUT or (self.verdict == NOT_APPLICABLE and not self.band.optional)

    @property
    def low(self) -> float:
        """The band's low end."""
        return self.band.low

    @property
    def high(self) -> float:
        """The band's high end."""
        return self.band.high

    @property
    def source(self) -> str:
        """The band's short source."""
        return self.band.cite


def evaluate(data: FactData, bands: BandSet | None = None) -> list[FactResult]:
    """Every fact of :data:`FACTS` on prepared data, beside its band.

    Raises:
        MonilabError: The bands file lacks a band for a fact.
    """
    bands = bands or load_bands()
    missing = [name for name in FACTS if name not in bands.bands]
    if missing:
        raise MonilabError(f"{bands.path}: no band for fact {missing[0]!r}")
    return [_measure(name, function, data, bands) for name, function in FACTS.items()]


def _measure(name: str, function: FactFunction, data: FactData, bands: BandSet) -> FactResult:
    band = bands.bands[name]
    began = time.perf_counter()
    try:
        measured = function(data, bands)
    except NotApplicable as exc:
        return FactResult(name, None, band, NOT_APPLICABLE, str(exc))
    finally:
        log.debug("fact %s: %.2f s", name, time.perf_counter() - began)
    if not math.isfinite(measured.value):
        return FactResult(name, None, band, NOT_APPLICABLE, f"not finite ({measured.basis})")
    verdict = IN if band.contains(measured.value) else OUT
    return FactResult(name, measured.value, band, verdict, measured.basis, measured.detail)


def run_facts(
    source: str | Path | FactData | None,
    *,
    mapping: str | Path | None = None,
    bands: str | Path | BandSet | None = None,
) -> list[FactResult]:
    """Run the battery on a dataset directory, a microdata file (with a mapping) or frames.

    Args:
        source: A dataset directory, a microdata file (with ``mapping``; None: the
            mapping's own file in the reference directory), or prepared :class:`FactData`.
            A dataset's app sessions come from its events table or, for a generated
            dataset, from a seeded sample of its agents' decisions.
        mapping: A TOML mapping for microdata (see :mod:`calibration.adapters.mapping`).
        bands: A bands file or loaded bands (default: the bundled ``bands.toml``).
    """
    from calibration.facts.sources import load_dataset_facts, load_microdata_facts

    band_set = bands if isinstance(bands, BandSet) else load_bands(bands)
    if isinstance(source, FactData):
        data = source
    elif mapping is not None:
        data = load_microdata_facts(mapping, source)
    elif source is None:
        raise MonilabError("give a dataset directory, or a mapping for microdata")
    else:
        data = load_dataset_facts(source)
    return evaluate(data, band_set)
