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


def compile_personas(personas: PersonaSet, catalog: MerchantCatalog) -> PersonaTables:
    """Compile a validated persona set against a merchant catalog."""
    plist = personas.personas
    scalars: dict[str, list[float]] = {}
    owner: dict[str, str] = {}
    for persona in plist:
        for section in _SCALAR_SECTIONS:
            for key, value in vars(getattr(persona, section)).items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    if owner.setdefault(key, section) != section:  # pragma: no cover
                        raise RuntimeError(f"persona field {key!r} is in two sections")
                    scalars.setdefault(key, []).append(float(value))
    weekday = np.array([personas.weekdays_of(p.spending.weekdays) for p in plist])
    weekday = weekday / weekday.mean(axis=1, keepdims=True)

    n_cat = len(SPEND_CATEGORIES)
    cat_share = np.zeros((len(plist), n_cat))
    cat_median = np.ones((len(plist), n_cat))
    cat_sigma = np.zeros((len(plist), n_cat))
    cat_reach = np.ones((len(plist), n_cat))
    cat_floor = np.full((len(plist), n_cat), 100.0)
    hours = np.zeros((len(plist), n_cat, 24))
    methods = np.zeros((len(plist), n_cat, len(METHODS)))
    for i, persona in enumerate(plist):
        base_hours = personas.hours_of(persona.spending.hours)
        for j, category in enumerate(SPEND_CATEGORIES):
            spec = persona.categories.get(category)
            if spec is not None:
                cat_share[i, j] = spec.share
                cat_median[i, j] = spec.median
                cat_sigma[i, j] = spec.sigma
                cat_reach[i, j] = spec.reach
                cat_floor[i, j] = spec.floor
            hours[i, j] = personas.hours_of(spec.hours) if spec and spec.hours else base_hours
            s = persona.spending
            if category == "transfer":
                methods[i, j, METHOD_TRANSFER] = 1.0
            else:
                methods[i, j, METHOD_CARD] = 1.0 - s.cash_share - s.transfer_share
                methods[i, j, METHOD_CASH] = s.cash_share
                methods[i, j, METHOD_TRANSFER] = s.transfer_share
    cat_share /= cat_share.sum(axis=1, keepdims=True)
    hours /= hours.sum(axis=2, keepdims=True)
    ticket_by_hour = ticket_multipliers(personas, hours)

    paydays = [sorted(p.income.paydays.items(), key=lambda kv: int(kv[0])) for p in plist]
    width = max(len(d) for d in paydays)
    payday_values = np.full((len(plist), width), 25, dtype=np.int8)
    payday_weights = np.zeros((len(plist), width))
    for i, days in enumerate(paydays):
        for k, (day, weight) in enumerate(days):
            payday_values[i, k], payday_weights[i, k] = int(day), weight

    occupations = sorted({o for p in plist for o in p.demographics.occupations})
    occ = np.array([[p.demographics.occupations.get(o, 0.0) for o in occupations] for p in plist])
    regions = tuple(REGION_SHARES)
    reg = np.zeros((len(plist), len(regions)))
    for i, persona in enumerate(plist):
        table = persona.demographics.regions or REGION_SHARES
        for name, weight in table.items():
            if name not in REGION_SHARES:
                raise PersonaError(
                    f"{_where(personas, persona.name, 'demographics.regions.' + name)}: "
                    f"unknown 시도 (expected one of {', '.join(regions)})"
                )
            reg[i, regions.index(name)] = weight

    return PersonaTables(
        names=tuple(personas.names),
        spending_types=tuple(p.spending_type for p in plist),
        styles=tuple(p.style for p in plist),
        share=np.array(personas.shares()),
        scalars={k: np.array(v) for k, v in scalars.items()},
        weekday=weekday,
        cat_share=cat_share,
        cat_median=cat_median,
        cat_sigma=cat_sigma,
        cat_reach=cat_reach,
        cat_floor=cat_floor,
        discretionary=np.array([c in DISCRETIONARY for c in SPEND_CATEGORIES]),
        hour_weights=hours,
        hour_cdf=make_cdf(hours.reshape(-1, 24)),
        ticket_by_hour=ticket_by_hour,
        base_hour_cdf=make_cdf(np.array([personas.hours_of(p.spending.hours) for p in plist])),
        method_cdf=make_cdf(methods.reshape(-1, len(METHODS))),
        payday_values=payday_values,
        payday_cdf=make_cdf(payday_weights),
        income_source=np.array(
            [
                _merchant(personas, catalog, p.name, "income.source", p.income.source, "income")
                for p in plist
            ],
            dtype=np.int32,
        ),
        occupation_names=tuple(occupations),
        occupation_cdf=make_cdf(occ),
        region_names=regions,
        region_cdf=make_cdf(reg),
        fixed=_fixed_costs(personas, catalog),
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
