"""Personas as data: typed dataclasses loaded from TOML and validated once.

A persona file has shared ``[profiles]`` (named hour-of-day and weekday weight arrays, and
hour-of-day ticket multipliers) and one ``[personas.NAME]`` table per persona; see
``sim/agents/personas/default.toml`` for every field with comments. Any number may be a
free parameter for calibration (see :mod:`sim.agents.parameters` for the syntax and the
naming scheme). Errors are one :class:`~sim.agents.parameters.PersonaError` naming the
file, persona and field::

    personas/default.toml: persona 'yolo_student': field 'income.monthly_median': must be > 0
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from monilab.contracts.vocabulary import CATEGORIES, SPENDING_TYPES, STYLES
from sim.agents import parameters
from sim.agents.parameters import PERSONAS_KEY, FreeParameter, PersonaError, describe_path

SPEND_CATEGORIES: tuple[str, ...] = tuple(
    c for c in CATEGORIES if c not in ("income", "savings", "investment")
)
"""Categories of everyday outgoing spending (the persona's category mix)."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PROFILE_KINDS = ("hours", "weekdays", "ticket_hours")
"""The tables allowed under ``[profiles]``."""


def rule(
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    choices: tuple[str, ...] | None = None,
    keys: tuple[str, ...] | None = None,
    length: int | None = None,
) -> dict[str, Any]:
    """Field metadata with validation rules (bounds, allowed values, keys, array length)."""
    rules = {"gt": gt, "ge": ge, "lt": lt, "le": le, "choices": choices, "keys": keys}
    rules["length"] = length
    return {k: v for k, v in rules.items() if v is not None}


@dataclass(frozen=True, kw_only=True)
class Demographics:
    """Who the persona's users are (ages inclusive; weights are relative)."""

    age_min: int = field(metadata=rule(ge=14, le=100))
    age_max: int = field(metadata=rule(ge=14, le=100))
    female_share: float = field(metadata=rule(ge=0, le=1))
    occupations: dict[str, float]
    regions: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Income:
    """Salary (paid on a per-user payday drawn from ``paydays``) and side deposits.

    Pay varies: ``salary_noise`` month to month (overtime, deductions), ``holiday_bonus``
    months of pay with the 설날 and 추석 salaries, ``year_end_bonus`` months of pay in
    December or January (연말/연초 상여금), a raise of ``annual_raise`` in a month of the
    user's own; side income (``side_income_per_month`` deposits of median
    ``side_income_median``, log-sd ``side_income_sigma``) is irregular, and refunds
    (``refunds_per_month``) return part of an earlier payment.
    """

    monthly_median: float = field(metadata=rule(gt=0))
    sigma: float = field(metadata=rule(ge=0, le=2))
    paydays: dict[str, float] = field(default_factory=lambda: {"25": 1.0})
    source: str = field(default="급여")
    opening_balance_months: float = field(default=1.0, metadata=rule(ge=0))
    side_income_per_month: float = field(default=0.3, metadata=rule(ge=0))
    side_income_median: float = field(default=50_000, metadata=rule(gt=0))
    side_income_sigma: float = field(default=1.0, metadata=rule(ge=0, le=3))
    salary_noise: float = field(default=0.03, metadata=rule(ge=0, le=1))
    holiday_bonus: float = field(default=0.0, metadata=rule(ge=0, le=5))
    year_end_bonus: float = field(default=0.0, metadata=rule(ge=0, le=12))
    annual_raise: float = field(default=0.03, metadata=rule(ge=-0.5, le=1))
    refunds_per_month: float = field(default=0.15, metadata=rule(ge=0, le=10))


@dataclass(frozen=True, kw_only=True)
class Spending:
    """Everyday spending: frequency, budget behaviour, mood, merchants and timing.

    Rhythm (see :mod:`sim.agents.rhythm`): a user's daily intensity is drawn from a gamma
    distribution of shape ``day_shape`` (negative-binomial daily counts, var/mean
    ``1 + mean / day_shape``), excited by the previous days' purchases (``burst_jump``
    per purchase relative to the user's rate, decaying by ``burst_decay`` a day), damped
    to ``quiet_level`` in quiet spells (``quiet_spells_per_year``, median ``quiet_days``
    long) and scaled per user-month (log-sd ``month_sigma``) and by the calendar's seasons
    and holidays (``season_amplitude``). ``trip_share`` of a day's payments follow the
    previous one within minutes (one outing). ``occasions_per_year`` irregular big
    purchases (trips, electronics, repairs, gifts) cost a median ``occasion_income_share``
    of monthly income. Merchants follow exploration and preferential return: a payment
    explores a new merchant with probability ``explore_share · S^-explore_decay`` (``S``:
    merchants the user knows in the category). ``taste_sigma`` spreads users' category
    mixes around the persona's.
    """

    txn_per_day: float = field(metadata=rule(gt=0))
    user_sigma: float = field(default=0.3, metadata=rule(ge=0, le=2))
    budget_share: float = field(metadata=rule(gt=0, le=2))
    discipline: float = field(metadata=rule(ge=0, le=1))
    payday_impulse: float = field(default=0.2, metadata=rule(ge=0, le=3))
    impulse_decay: float = field(default=0.75, metadata=rule(ge=0, lt=1))
    peer_influence: float = field(default=0.1, metadata=rule(ge=0, le=2))
    holiday_factor: float = field(default=1.0, metadata=rule(gt=0))
    cash_share: float = field(default=0.02, metadata=rule(ge=0, le=1))
    transfer_share: float = field(default=0.03, metadata=rule(ge=0, le=1))
    explore_share: float = field(default=0.6, metadata=rule(ge=0, le=1))
    explore_decay: float = field(default=0.21, metadata=rule(ge=0, le=3))
    favourite_merchants: int = field(default=4, metadata=rule(ge=1, le=16))
    zipf_exponent: float = field(default=1.0, metadata=rule(ge=0, le=4))
    taste_sigma: float = field(default=0.9, metadata=rule(ge=0, le=3))
    day_shape: float = field(default=1.5, metadata=rule(gt=0, le=1000))
    burst_jump: float = field(default=0.25, metadata=rule(ge=0, le=3))
    burst_decay: float = field(default=0.5, metadata=rule(ge=0, lt=1))
    trip_share: float = field(default=0.3, metadata=rule(ge=0, lt=1))
    quiet_spells_per_year: float = field(default=5.0, metadata=rule(ge=0, le=52))
    quiet_days: float = field(default=6.0, metadata=rule(ge=1, le=120))
    quiet_level: float = field(default=0.1, metadata=rule(ge=0, le=1))
    month_sigma: float = field(default=0.3, metadata=rule(ge=0, le=2))
    season_amplitude: float = field(default=1.0, metadata=rule(ge=0, le=5))
    occasions_per_year: float = field(default=4.0, metadata=rule(ge=0, le=52))
    occasion_income_share: float = field(default=0.12, metadata=rule(gt=0, le=10))
    hours: str | list[float] = field(metadata=rule(length=24))
    weekdays: str | list[float] = field(metadata=rule(length=7))


@dataclass(frozen=True, kw_only=True)
class CategorySpec:
    """Share of transactions and lognormal amount (KRW median, log-sigma) of a category.

    ``hours`` is the hour-of-day profile of its payments (default: the persona's);
    ``ticket_hours`` names a ``[profiles.ticket_hours]`` profile of relative ticket size by
    hour (default: the same ticket at every hour). ``reach`` is the share of users who buy
    the category at all (education belongs to some lives, not all); ``floor`` the lowest
    price paid (public transport: the basic fare).
    """

    share: float = field(metadata=rule(ge=0))
    median: float = field(metadata=rule(gt=0))
    sigma: float = field(metadata=rule(ge=0, le=3))
    hours: str | list[float] | None = field(default=None, metadata=rule(length=24))
    ticket_hours: str | None = None
    reach: float = field(default=1.0, metadata=rule(gt=0, le=1))
    floor: float = field(default=100, metadata=rule(gt=0))


@dataclass(frozen=True, kw_only=True)
class FixedCost:
    """A monthly auto-debit (rent, 관리비, telecom, subscriptions, insurance).

    ``day`` 0 draws a day per user; ``prob`` is the share of users who have the cost;
    ``sigma`` spreads the amount across users and ``jitter`` from month to month;
    ``winter_peak`` is the January bill over the July bill (heating: 관리비, 도시가스), the
    months between following a cosine.
    """

    category: str = field(metadata=rule(choices=SPEND_CATEGORIES))
    merchants: list[str]
    amount: float = field(metadata=rule(gt=0))
    day: int = field(default=0, metadata=rule(ge=0, le=31))
    prob: float = field(default=1.0, metadata=rule(ge=0, le=1))
    sigma: float = field(default=0.1, metadata=rule(ge=0, le=2))
    jitter: float = field(default=0.0, metadata=rule(ge=0, le=1))
    winter_peak: float = field(default=1.0, metadata=rule(gt=0, le=20))


@dataclass(frozen=True, kw_only=True)
class Saving:
    """Moves after payday: savings and investment transfers, and ad-hoc trades.

    ``savings_rate`` and ``investment_rate`` are the persona's medians: each user's own
    rates spread around them (log-sd ``rate_sigma``), a month's transfer is skipped with
    probability ``skip_prob``, and ``withdrawals_per_year`` times a user takes money back
    out of savings. Transfers and trades never spend the cash a month of living needs.
    """

    savings_rate: float = field(metadata=rule(ge=0, lt=1))
    savings_delay_days: int = field(default=1, metadata=rule(ge=0, le=10))
    investment_rate: float = field(default=0.0, metadata=rule(ge=0, lt=1))
    market_sensitivity: float = field(default=0.0, metadata=rule(ge=-20, le=20))
    trade_rate: float = field(default=0.0, metadata=rule(ge=0, le=60))
    trade_median: float = field(default=300_000, metadata=rule(gt=0))
    rate_sigma: float = field(default=0.6, metadata=rule(ge=0, le=3))
    skip_prob: float = field(default=0.1, metadata=rule(ge=0, le=1))
    withdrawals_per_year: float = field(default=0.5, metadata=rule(ge=0, le=52))


@dataclass(frozen=True, kw_only=True)
class Goals:
    """Goal setting: who sets a savings goal, how far, how hard they save toward it."""

    adoption: float = field(metadata=rule(ge=0, le=1))
    target_months: float = field(default=24, metadata=rule(gt=0))
    extra_saving: float = field(default=0.0, metadata=rule(ge=0, lt=1))


@dataclass(frozen=True, kw_only=True)
class AppUsage:
    """How the persona uses the Moni app.

    Use is uneven: each user's engagement is lognormal around ``sessions_per_week``
    (log-sd ``engagement_sigma``: a few heavy users, many light ones), days are bursty
    (a gamma day intensity of shape ``session_day_shape``), ``night_share`` of the browsing
    sessions start between midnight and 6 (phones in bed), and pages per session are
    geometric around ``pages_per_session``.
    """

    sessions_per_week: float = field(metadata=rule(ge=0))
    pages_per_session: float = field(default=3.0, metadata=rule(ge=1))
    notification_read: float = field(default=0.5, metadata=rule(ge=0, le=1))
    after_spend: float = field(default=0.1, metadata=rule(ge=0, le=1))
    engagement_sigma: float = field(default=0.9, metadata=rule(ge=0, le=3))
    session_day_shape: float = field(default=0.3, metadata=rule(gt=0, le=1000))
    night_share: float = field(default=0.03, metadata=rule(ge=0, le=1))


@dataclass(frozen=True, kw_only=True)
class Mixing:
    """How pure the persona's users are (see :mod:`sim.agents.identity`).

    ``secondary_weight`` is the mean share of days a user acts as its secondary persona;
    ``drift_per_year`` the chance a year that a user's life changes (dominant and
    secondary persona swap).
    """

    secondary_weight: float = field(default=0.15, metadata=rule(ge=0, lt=1))
    drift_per_year: float = field(default=0.06, metadata=rule(ge=0, le=12))


@dataclass(frozen=True, kw_only=True)
class AnomalySpec:
    """How prone the persona's users are to anomalous spending (× the global rate)."""

    propensity: float = field(default=1.0, metadata=rule(ge=0))


@dataclass(frozen=True, kw_only=True)
class Persona:
    """One persona: population share, type, style and behaviour parameters."""

    name: str
    label: str = field(default="")
    share: float = field(metadata=rule(gt=0))
    spending_type: str = field(metadata=rule(choices=SPENDING_TYPES))
    style: str = field(metadata=rule(choices=STYLES))
    demographics: Demographics
    income: Income
    spending: Spending
    categories: dict[str, CategorySpec] = field(metadata=rule(keys=SPEND_CATEGORIES))
    fixed_costs: dict[str, FixedCost] = field(default_factory=dict)
    saving: Saving
    goals: Goals
    app: AppUsage
    anomaly: AnomalySpec = field(default_factory=AnomalySpec)
    mixing: Mixing = field(default_factory=Mixing)


@dataclass(frozen=True, eq=False)
class PersonaSet:
    """The validated personas of one file plus the document they came from.

    Attributes:
        personas: Personas in file order.
        hour_profiles: Named 24-value hour-of-day weight arrays.
        weekday_profiles: Named 7-value (Monday first) weekday weight arrays.
        source: File name (or ``<string>``) used in error messages.
        document: The parsed TOML document, parameter tables included.
        sha256: Hex digest of the text the set was read from (or of its TOML dump).
        ticket_profiles: Named 24-value hour-of-day ticket multipliers (relative, > 0).
    """

    personas: tuple[Persona, ...]
    hour_profiles: dict[str, tuple[float, ...]]
    weekday_profiles: dict[str, tuple[float, ...]]
    source: str
    document: dict[str, Any]
    sha256: str
    ticket_profiles: dict[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Persona names in file order."""
        return [p.name for p in self.personas]

    def __getitem__(self, name: str) -> Persona:
        for persona in self.personas:
            if persona.name == name:
                return persona
        raise KeyError(name)

    def shares(self) -> list[float]:
        """Population shares, normalised to sum to 1."""
        total = sum(p.share for p in self.personas)
        return [p.share / total for p in self.personas]

    def hours_of(self, spec: str | list[float]) -> tuple[float, ...]:
        """A 24-value hour profile, by profile name or given inline."""
        return self.hour_profiles[spec] if isinstance(spec, str) else tuple(spec)

    def weekdays_of(self, spec: str | list[float]) -> tuple[float, ...]:
        """A 7-value weekday profile, by profile name or given inline."""
        return self.weekday_profiles[spec] if isinstance(spec, str) else tuple(spec)

    def free_parameters(self) -> list[FreeParameter]:
        """The free parameters with their names, values, bounds and scale."""
        return parameters.free_parameters(self.document)

    def with_values(self, values: Mapping[str, float]) -> PersonaSet:
        """A new, re-validated set with free parameters set (names or ``*`` patterns)."""
        doc = parameters.set_values(self.document, values, self.source)
        return parse_document(doc, source=self.source)

    def to_toml(self) -> str:
        """The set as TOML text; loading it gives an equal set."""
        return parameters.to_toml(self.document)

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_toml` to a file."""
        path = Path(path)
        path.write_text(self.to_toml(), encoding="utf-8")
        return path


# --------------------------------------------------------------------------- loading


def default_persona_path() -> Path:
    """The bundled persona file."""
    return Path(str(resources.files("sim.agents") / "personas" / "default.toml"))


def load_personas(path: str | Path | None = None) -> PersonaSet:
    """Read and validate a persona file (the bundled default when ``path`` is None)."""
    path = Path(path) if path is not None else default_persona_path()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PersonaError(f"cannot read persona file {path}: {exc.strerror}") from None
    label = f"personas/{path.name}" if path == default_persona_path() else str(path)
    return _parse_bytes(data, label)


def parse_personas(text: str, source: str = "<string>") -> PersonaSet:
    """Validate persona TOML given as text."""
    return _parse_bytes(text.encode("utf-8"), source)


def _parse_bytes(data: bytes, source: str) -> PersonaSet:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PersonaError(f"{source}: not valid TOML ({exc})") from None
    return parse_document(doc, source=source, sha256=hashlib.sha256(data).hexdigest())


def parse_document(doc: dict[str, Any], *, source: str, sha256: str | None = None) -> PersonaSet:
    """Validate a parsed persona document (parameter tables allowed anywhere)."""
    unknown = set(doc) - {"schema", "profiles", PERSONAS_KEY}
    if unknown:
        raise PersonaError(f"{source}: unknown top-level key {sorted(unknown)[0]!r}")
    plain = parameters.resolve(doc, source)
    profiles = _mapping(plain.get("profiles", {}), source, ("profiles",))
    hours = _profiles(profiles.get("hours", {}), 24, source, ("profiles", "hours"))
    weekdays = _profiles(profiles.get("weekdays", {}), 7, source, ("profiles", "weekdays"))
    tickets = _ticket_profiles(profiles.get("ticket_hours", {}), source)
    unknown = set(profiles) - set(PROFILE_KINDS)
    if unknown:
        where = describe_path(source, ("profiles", sorted(unknown)[0]))
        raise PersonaError(f"{where}: unknown profile kind (expected {', '.join(PROFILE_KINDS)})")
    known = {"hours": hours, "weekdays": weekdays, "tickets": tickets}
    tables = _mapping(plain.get(PERSONAS_KEY), source, (PERSONAS_KEY,))
    if not tables:
        raise PersonaError(f"{source}: no [personas.NAME] tables")
    personas = []
    for name, table in tables.items():
        path = (PERSONAS_KEY, name)
        if not _NAME.match(name) or name == "profiles":
            raise PersonaError(f"{source}: persona {name!r}: names are lowercase identifiers")
        table = _mapping(table, source, path)
        persona = _build(Persona, {**table, "name": name}, source, path)
        _check_persona(persona, known, source, path)
        personas.append(persona)
    if sha256 is None:
        sha256 = hashlib.sha256(parameters.to_toml(doc).encode("utf-8")).hexdigest()
    return PersonaSet(tuple(personas), hours, weekdays, source, doc, sha256, tickets)


@cache
def default_personas() -> PersonaSet:
    """The bundled personas (read once per process)."""
    return load_personas(None)


# --------------------------------------------------------------------------- validation


def _mapping(value: Any, source: str, path: tuple) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PersonaError(f"{describe_path(source, path)}: must be a table")
    return value


def _profiles(table: Any, length: int, source: str, path: tuple) -> dict[str, tuple]:
    out = {}
    for name, values in _mapping(table, source, path).items():
        out[name] = tuple(_weights(values, length, source, (*path, name)))
    return out


_BAND = re.compile(r"^(\d\d)-(\d\d)$")


def _ticket_profiles(table: Any, source: str) -> dict[str, tuple[float, ...]]:
    """``[profiles.ticket_hours]``: per profile 24 multipliers, or a table of hour bands.

    A band table (``"06-11" = 0.7``, hours 6..10) must cover 00-24 without gaps or overlaps.
    """
    path = ("profiles", "ticket_hours")
    hourly = {
        name: _hour_bands(value, source, (*path, name)) if isinstance(value, dict) else value
        for name, value in _mapping(table, source, path).items()
    }
    out = _profiles(hourly, 24, source, path)
    for name, values in out.items():
        if min(values) <= 0:
            raise PersonaError(f"{describe_path(source, (*path, name))}: multipliers must be > 0")
    return out


def _hour_bands(table: dict[str, Any], source: str, path: tuple) -> list[Any]:
    """24 hourly values from ``{"HH-HH": value}`` bands (end exclusive)."""
    hourly: list[Any] = [None] * 24
    for key, value in table.items():
        match = _BAND.match(key)
        start, end = (int(match[1]), int(match[2])) if match else (0, 0)
        if not 0 <= start < end <= 24:
            where = describe_path(source, (*path, key))
            rule_text = "hour bands are written HH-HH with 00 <= start < end <= 24"
            raise PersonaError(f"{where}: {rule_text}")
        for hour in range(start, end):
            if hourly[hour] is not None:
                where = describe_path(source, (*path, key))
                raise PersonaError(f"{where}: overlaps another band at hour {hour}")
            hourly[hour] = value
    if None in hourly:
        where = describe_path(source, path)
        raise PersonaError(f"{where}: bands leave hour {hourly.index(None)} uncovered")
    return hourly


def _weights(values: Any, length: int | None, source: str, path: tuple) -> list[float]:
    where = describe_path(source, path)
    if not isinstance(values, list) or not all(_number(v) for v in values):
        raise PersonaError(f"{where}: must be an array of numbers")
    if length is not None and len(values) != length:
        raise PersonaError(f"{where}: must have {length} values (got {len(values)})")
    if any(v < 0 for v in values) or not sum(values) > 0:
        raise PersonaError(f"{where}: weights must be >= 0 with a positive sum")
    return [float(v) for v in values]


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(cls: type, table: dict[str, Any], source: str, path: tuple) -> Any:
    """Construct a rule-annotated dataclass from a plain table, checking every field."""
    hints = _hints(cls)
    known = {f.name for f in fields(cls)}
    extra = set(table) - known
    if extra:
        key = sorted(extra)[0]
        raise PersonaError(f"{describe_path(source, (*path, key))}: unknown field")
    kwargs = {}
    for fld in fields(cls):
        where = (*path, fld.name) if fld.name != "name" else path
        if fld.name not in table:
            if fld.default is MISSING and fld.default_factory is MISSING:
                raise PersonaError(f"{describe_path(source, where)}: missing")
            continue
        value = _convert(hints[fld.name], table[fld.name], source, where)
        _check_rules(fld.metadata, value, source, where)
        kwargs[fld.name] = value
    return cls(**kwargs)


def _convert(hint: Any, value: Any, source: str, path: tuple) -> Any:
    where = describe_path(source, path)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        if isinstance(value, str) and str in args:
            return value
        inner = [a for a in args if a not in (str, type(None))]
        return _convert(inner[0], value, source, path)
    if hint is float:
        if not _number(value):
            raise PersonaError(f"{where}: must be a number")
        return float(value)
    if hint is int:
        if not _number(value):
            raise PersonaError(f"{where}: must be a number")
        return math.floor(value + 0.5)
    if hint is str:
        if not isinstance(value, str):
            raise PersonaError(f"{where}: must be a string")
        return value
    if origin is list:
        if args[0] is float:
            return _weights(value, None, source, path)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise PersonaError(f"{where}: must be a non-empty array of strings")
        return list(value)
    if origin is dict:
        table = _mapping(value, source, path)
        if args[1] is float:
            _weights(list(table.values()), None, source, path)
            return {str(k): float(v) for k, v in table.items()}
        return {
            k: _build(args[1], _mapping(v, source, (*path, k)), source, (*path, k))
            for k, v in table.items()
        }
    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        return _build(hint, _mapping(value, source, path), source, path)
    raise TypeError(f"unsupported field type {hint}")  # pragma: no cover - programming error


def _check_rules(meta: Mapping[str, Any], value: Any, source: str, path: tuple) -> None:
    where = describe_path(source, path)
    if isinstance(value, int | float) and not isinstance(value, bool):
        for key, test, text in (
            ("gt", lambda v, b: v > b, ">"),
            ("ge", lambda v, b: v >= b, ">="),
            ("lt", lambda v, b: v < b, "<"),
            ("le", lambda v, b: v <= b, "<="),
        ):
            if key in meta and not test(value, meta[key]):
                raise PersonaError(f"{where}: must be {text} {meta[key]:g} (got {value:g})")
    if "choices" in meta and value not in meta["choices"]:
        raise PersonaError(f"{where}: {value!r} is not one of {', '.join(meta['choices'])}")
    if "keys" in meta and isinstance(value, dict):
        bad = [k for k in value if k not in meta["keys"]]
        if bad:
            raise PersonaError(
                f"{describe_path(source, (*path, bad[0]))}: unknown key "
                f"(expected one of {', '.join(meta['keys'])})"
            )
    if "length" in meta and isinstance(value, list) and len(value) != meta["length"]:
        raise PersonaError(f"{where}: must have {meta['length']} values (got {len(value)})")


def _check_persona(persona: Persona, profiles: dict, source: str, path: tuple) -> None:
    """Rules across fields: ranges, profile references, category mix, paydays."""

    def fail(field_path: str, message: str) -> typing.NoReturn:
        raise PersonaError(f"{describe_path(source, (*path, *field_path.split('.')))}: {message}")

    demo = persona.demographics
    if demo.age_min > demo.age_max:
        fail("demographics.age_max", f"must be >= age_min ({demo.age_min})")
    for day in persona.income.paydays:
        if not day.isdigit() or not 1 <= int(day) <= 31:
            fail(f"income.paydays.{day}", "paydays are days of the month 1-31")
    hours, tickets = profiles["hours"], profiles["tickets"]
    refs: list[tuple[str, str | list[float] | None, dict]] = [
        ("spending.hours", persona.spending.hours, hours)
    ]
    refs.append(("spending.weekdays", persona.spending.weekdays, profiles["weekdays"]))
    for c, spec in persona.categories.items():
        refs.append((f"categories.{c}.hours", spec.hours, hours))
        refs.append((f"categories.{c}.ticket_hours", spec.ticket_hours, tickets))
    for where, ref, known in refs:
        if isinstance(ref, str) and ref not in known:
            fail(where, f"unknown profile {ref!r} (known: {', '.join(known) or 'none'})")
    if not sum(spec.share for spec in persona.categories.values()) > 0:
        fail("categories", "category shares must have a positive sum")
    if persona.spending.cash_share + persona.spending.transfer_share > 1:
        fail("spending.transfer_share", "cash_share + transfer_share must be <= 1")
