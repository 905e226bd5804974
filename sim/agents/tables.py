"""Personas compiled to NumPy arrays indexed by persona (and category, hour, ...).

The hot path never touches a :class:`~sim.agents.personas.Persona` object: it gathers
from these arrays with each user's persona index. Compiling also checks the references a
persona file makes into the merchant catalog and the region list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monilab.contracts.vocabulary import CATEGORIES, METHODS
from sim.agents.merchants import MerchantCatalog
from sim.agents.parameters import PERSONAS_KEY, PersonaError, describe_path
from sim.agents.personas import SPEND_CATEGORIES, PersonaSet
from sim.agents.sampling import make_cdf

DISCRETIONARY: frozenset[str] = frozenset(
    {"coffee", "shopping", "beauty", "entertainment", "travel", "etc"}
)
"""Spend categories driven by mood, payday impulse and friends; the rest are essentials."""

REGION_SHARES: dict[str, float] = {
    "서울특별시": 18.2,
    "부산광역시": 6.4,
    "대구광역시": 4.6,
    "인천광역시": 5.8,
    "광주광역시": 2.7,
    "대전광역시": 2.8,
    "울산광역시": 2.1,
    "세종특별자치시": 0.8,
    "경기도": 26.6,
    "강원특별자치도": 2.9,
    "충청북도": 3.1,
    "충청남도": 4.1,
    "전북특별자치도": 3.4,
    "전라남도": 3.5,
    "경상북도": 4.9,
    "경상남도": 6.3,
    "제주특별자치도": 1.3,
}
"""Resident population share (%) of the 17 시도, 2024 (names as in Faker ko_KR)."""

SPEND_INDEX = np.array([CATEGORIES.index(c) for c in SPEND_CATEGORIES], dtype=np.int8)
"""Schema category code of each spend category column."""

METHOD_CARD, METHOD_TRANSFER, METHOD_AUTO, METHOD_CASH = (
    METHODS.index(m) for m in ("card", "transfer", "auto_debit", "cash")
)


@dataclass(frozen=True)
class FixedCostTable:
    """All personas' auto-debits as flat arrays (one entry per persona cost)."""

    persona: np.ndarray
    category: np.ndarray
    merchants: np.ndarray
    merchant_cdf: np.ndarray
    amount: np.ndarray
    day: np.ndarray
    prob: np.ndarray
    sigma: np.ndarray
    jitter: np.ndarray
    winter_peak: np.ndarray


@dataclass(frozen=True)
class PersonaTables:
    """Persona parameters as arrays; ``P`` personas, ``C`` spend categories."""

    names: tuple[str, ...]
    spending_types: tuple[str, ...]
    styles: tuple[str, ...]
    share: np.ndarray
    scalars: dict[str, np.ndarray]
    weekday: np.ndarray
    cat_share: np.ndarray
    cat_median: np.ndarray
    cat_sigma: np.ndarray
    cat_reach: np.ndarray
    cat_floor: np.ndarray
    discretionary: np.ndarray
    hour_weights: np.ndarray
    hour_cdf: np.ndarray
    ticket_by_hour: np.ndarray
    base_hour_cdf: np.ndarray
    method_cdf: np.ndarray
    payday_values: np.ndarray
    payday_cdf: np.ndarray
    income_source: np.ndarray
    occupation_names: tuple[str, ...]
    occupation_cdf: np.ndarray
    region_names: tuple[str, ...]
    region_cdf: np.ndarray
    fixed: FixedCostTable

    def __getattr__(self, name: str) -> np.ndarray:
        """Per-persona scalar parameters by field name (``tables.txn_per_day``)."""
        scalars = self.__dict__.get("scalars", {})
        if name in scalars:
            return scalars[name]
        raise AttributeError(name)


_SCALAR_SECTIONS = (
    "income",
    "spending",
    "saving",
    "goals",
    "app",
    "anomaly",
    "demographics",
    "mixing",
)


def ticket_multipliers(personas: PersonaSet, hours: np.ndarray) -> np.ndarray:
    """Ticket multiplier per persona, category and hour, ``(P, C, 24)``.

    A category's ``ticket_hours`` profile is scaled so that its mean over the category's
    payment hours is 1: the profile moves money between hours and ``median`` keeps the
    category's overall level. Without a profile (or with a flat one) every value is
    exactly 1, so such personas draw the same amounts as before profiles existed.
    """
    out = np.ones_like(hours)
    for i, persona in enumerate(personas.personas):
        for j, category in enumerate(SPEND_CATEGORIES):
            spec = persona.categories.get(category)
            if spec is None or spec.ticket_hours is None:
                continue
            multipliers = np.array(personas.ticket_profiles[spec.ticket_hours])
            if np.all(multipliers == multipliers[0]):
                continue
            out[i, j] = multipliers / float(hours[i, j] @ multipliers)
    return out


@dataclass(frozen=True)
class CategoryArrays:
    """Per persona and spend category ``(P, C, ...)``: amounts, payment hours and methods."""

    share: np.ndarray
    median: np.ndarray
    sigma: np.ndarray
    reach: np.ndarray
    floor: np.ndarray
    hours: np.ndarray
    """``(P, C, 24)`` hour-of-day weights, each row summing to 1."""
    methods: np.ndarray
    """``(P, C, M)`` payment method weights."""


@dataclass(frozen=True)
class PaydayArrays:
    """Each persona's paydays (days of the month, padded with 25) and their weights."""

    values: np.ndarray
    weights: np.ndarray


@dataclass(frozen=True)
class WeightedNames:
    """Names and each persona's weights over them, ``(P, len(names))``."""

    names: tuple[str, ...]
    weights: np.ndarray


def compile_personas(personas: PersonaSet, catalog: MerchantCatalog) -> PersonaTables:
    """Compile a validated persona set against a merchant catalog."""
    plist = personas.personas
    scalars = _scalar_columns(personas)
    weekday = np.array([personas.weekdays_of(p.spending.weekdays) for p in plist])
    weekday = weekday / weekday.mean(axis=1, keepdims=True)
    cats = _category_arrays(personas)
    paydays = _payday_arrays(personas)
    occupations = _occupations(personas)
    regions = _regions(personas)
    return PersonaTables(
        names=tuple(personas.names),
        spending_types=tuple(p.spending_type for p in plist),
        styles=tuple(p.style for p in plist),
        share=np.array(personas.shares()),
        scalars=scalars,
        weekday=weekday,
        cat_share=cats.share,
        cat_median=cats.median,
        cat_sigma=cats.sigma,
        cat_reach=cats.reach,
        cat_floor=cats.floor,
        discretionary=np.array([c in DISCRETIONARY for c in SPEND_CATEGORIES]),
        hour_weights=cats.hours,
        hour_cdf=make_cdf(cats.hours.reshape(-1, 24)),
        ticket_by_hour=ticket_multipliers(personas, cats.hours),
        base_hour_cdf=make_cdf(np.array([personas.hours_of(p.spending.hours) for p in plist])),
        method_cdf=make_cdf(cats.methods.reshape(-1, len(METHODS))),
        payday_values=paydays.values,
        payday_cdf=make_cdf(paydays.weights),
        income_source=_income_sources(personas, catalog),
        occupation_names=occupations.names,
        occupation_cdf=make_cdf(occupations.weights),
        region_names=regions.names,
        region_cdf=make_cdf(regions.weights),
        fixed=_fixed_costs(personas, catalog),
    )


def _scalar_columns(personas: PersonaSet) -> dict[str, np.ndarray]:
    """Every numeric field of the scalar sections, one value per persona, by field name."""
    scalars: dict[str, list[float]] = {}
    owner: dict[str, str] = {}
    for persona in personas.personas:
        for section in _SCALAR_SECTIONS:
            for key, value in vars(getattr(persona, section)).items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    if owner.setdefault(key, section) != section:  # pragma: no cover
                        raise RuntimeError(f"persona field {key!r} is in two sections")
                    scalars.setdefault(key, []).append(float(value))
    return {k: np.array(v) for k, v in scalars.items()}


def _category_arrays(personas: PersonaSet) -> CategoryArrays:
    """Category shares (normalised), ticket sizes, payment hours and payment methods."""
    plist = personas.personas
    shape = (len(plist), len(SPEND_CATEGORIES))
    share, median, sigma = np.zeros(shape), np.ones(shape), np.zeros(shape)
    reach, floor = np.ones(shape), np.full(shape, 100.0)
    hours = np.zeros((*shape, 24))
    methods = np.zeros((*shape, len(METHODS)))
    for i, persona in enumerate(plist):
        base_hours = personas.hours_of(persona.spending.hours)
        s = persona.spending
        for j, category in enumerate(SPEND_CATEGORIES):
            spec = persona.categories.get(category)
            if spec is not None:
                share[i, j], median[i, j], sigma[i, j] = spec.share, spec.median, spec.sigma
                reach[i, j], floor[i, j] = spec.reach, spec.floor
            hours[i, j] = personas.hours_of(spec.hours) if spec and spec.hours else base_hours
            if category == "transfer":
                methods[i, j, METHOD_TRANSFER] = 1.0
            else:
                methods[i, j, METHOD_CARD] = 1.0 - s.cash_share - s.transfer_share
                methods[i, j, METHOD_CASH] = s.cash_share
                methods[i, j, METHOD_TRANSFER] = s.transfer_share
    share /= share.sum(axis=1, keepdims=True)
    hours /= hours.sum(axis=2, keepdims=True)
    return CategoryArrays(share, median, sigma, reach, floor, hours, methods)


def _payday_arrays(personas: PersonaSet) -> PaydayArrays:
    """Paydays in day order, one row per persona."""
    plist = personas.personas
    paydays = [sorted(p.income.paydays.items(), key=lambda kv: int(kv[0])) for p in plist]
    width = max(len(d) for d in paydays)
    values = np.full((len(plist), width), 25, dtype=np.int8)
    weights = np.zeros((len(plist), width))
    for i, days in enumerate(paydays):
        for k, (day, weight) in enumerate(days):
            values[i, k], weights[i, k] = int(day), weight
    return PaydayArrays(values, weights)


def _occupations(personas: PersonaSet) -> WeightedNames:
    """Every occupation any persona names (sorted) and each persona's weights over them."""
    plist = personas.personas
    names = sorted({o for p in plist for o in p.demographics.occupations})
    weights = np.array([[p.demographics.occupations.get(o, 0.0) for o in names] for p in plist])
    return WeightedNames(tuple(names), weights)


def _regions(personas: PersonaSet) -> WeightedNames:
    """The 17 시도 and each persona's weights over them (population shares by default)."""
    names = tuple(REGION_SHARES)
    weights = np.zeros((len(personas.personas), len(names)))
    for i, persona in enumerate(personas.personas):
        table = persona.demographics.regions or REGION_SHARES
        for name, weight in table.items():
            if name not in REGION_SHARES:
                raise PersonaError(
                    f"{_where(personas, persona.name, 'demographics.regions.' + name)}: "
                    f"unknown 시도 (expected one of {', '.join(names)})"
                )
            weights[i, names.index(name)] = weight
    return WeightedNames(names, weights)


def _income_sources(personas: PersonaSet, catalog: MerchantCatalog) -> np.ndarray:
    """The catalog id of each persona's income merchant."""
    return np.array(
        [
            _merchant(personas, catalog, p.name, "income.source", p.income.source, "income")
            for p in personas.personas
        ],
        dtype=np.int32,
    )


def _where(personas: PersonaSet, persona: str, field: str) -> str:
    return describe_path(personas.source, (PERSONAS_KEY, persona, *field.split(".")))


def _merchant(
    personas: PersonaSet, catalog: MerchantCatalog, persona: str, field: str, name: str, cat: str
) -> int:
    try:
        return catalog.id_of(name, cat)
    except KeyError:
        raise PersonaError(
            f"{_where(personas, persona, field)}: merchant {name!r} is not in the {cat!r} "
            f"merchants of {catalog.source}"
        ) from None


def _fixed_costs(personas: PersonaSet, catalog: MerchantCatalog) -> FixedCostTable:
    rows = []
    for i, persona in enumerate(personas.personas):
        for key, cost in persona.fixed_costs.items():
            ids = [
                _merchant(
                    personas,
                    catalog,
                    persona.name,
                    f"fixed_costs.{key}.merchants",
                    m,
                    cost.category,
                )
                for m in cost.merchants
            ]
            rows.append((i, CATEGORIES.index(cost.category), ids, cost))
    width = max((len(r[2]) for r in rows), default=1)
    merchants = np.zeros((len(rows), width), dtype=np.int32)
    weights = np.zeros((max(len(rows), 1), width))
    for k, (_, _, ids, _) in enumerate(rows):
        merchants[k, : len(ids)] = ids
        weights[k, : len(ids)] = 1.0

    def col(get, dtype=float) -> np.ndarray:
        return np.array([get(r) for r in rows], dtype=dtype)

    return FixedCostTable(
        persona=col(lambda r: r[0], np.int32),
        category=col(lambda r: r[1], np.int8),
        merchants=merchants,
        merchant_cdf=make_cdf(weights),
        amount=col(lambda r: r[3].amount),
        day=col(lambda r: r[3].day, np.int8),
        prob=col(lambda r: r[3].prob),
        sigma=col(lambda r: r[3].sigma),
        jitter=col(lambda r: r[3].jitter),
        winter_peak=col(lambda r: r[3].winter_peak),
    )
