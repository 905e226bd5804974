"""The TOML mapping from a microdata file to the transactions (and users) schema.

A mapping says, for one source, which column plays which part, how dates are written, how
source values translate into Moni's vocabularies, and which schema fields the source simply
does not have (``[declared_missing]``). Every schema field must be either mapped or declared
missing, so nothing is silently invented. Example (``calibration/mappings/household_ledger.toml``)::

    [source]
    name = "household_ledger"
    file = "household_ledger/daily_household_transactions.csv"  # under the reference dir
    currency = "INR"
    currency_scale = 16.0     # KRW per source unit: a declared assumption
    user_id = 1               # constant user when there is no user column

    [columns]                 # role = source column
    ts = "Date"               # required, with amount and category
    amount = "Amount"
    category = "Category"
    subcategory = "Subcategory"   # optional: enables [kinds.X.subcategories]
    kind = "Income/Expense"   # optional: selects the [kinds.X] rule of each row
    method = "Mode"           # optional: values translated by [methods]
    memo = "Note"             # optional; also merchant, user_id, currency (checked)

    [dates]
    formats = ["%d-%m-%Y %H:%M", "%d-%m-%Y"]  # tried in order; no %H -> time unknown

    [declared_missing]
    transactions = ["merchant", "is_anomaly", "anomaly_kind"]
    users = ["age", "gender", ...]

    [methods]
    "Cash" = "cash"

    [kinds.Expense]           # one table per value of the kind column ("*" without one)
    direction = "out"
    default_category = "etc"  # optional: for source categories not listed
    [kinds.Expense.categories]
    "Food" = "food"
    [kinds.Expense.subcategories]
    "Food/Tea" = "coffee"     # "Category/Subcategory" overrides the category map
    [kinds.Expense.exclude]
    "Own account" = "reason"  # rows dropped on purpose, counted with the reason

    [users]                   # optional: a users file next to the transactions
    [users.columns]
    user_id = "uid"           # plus any of age, gender, occupation, region,
    age = "age"               # monthly_income (scaled like amounts), signup_at, spending_type
    [users.genders]
    "F" = "f"

Source values (kinds, categories, subcategories, methods, genders) match case-insensitively
with runs of whitespace collapsed. ``is_anomaly`` and ``anomaly_kind`` cannot be mapped from a
source yet: declare them missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monilab.contracts.errors import MonilabError, read_toml
from monilab.contracts.vocabulary import CATEGORIES, DIRECTIONS, GENDERS, METHODS

COLUMN_ROLES: tuple[str, ...] = (
    "ts",
    "amount",
    "category",
    "subcategory",
    "kind",
    "method",
    "merchant",
    "memo",
    "user_id",
    "currency",
)
REQUIRED_ROLES: tuple[str, ...] = ("ts", "amount", "category")
TRANSACTION_FIELDS_MAPPABLE: tuple[str, ...] = ("method", "merchant", "is_anomaly", "anomaly_kind")
"""Transaction fields that must be mapped or declared missing (the rest are always derived)."""
USER_FIELDS: tuple[str, ...] = (
    "spending_type",
    "age",
    "gender",
    "occupation",
    "region",
    "monthly_income",
    "signup_at",
)
"""User fields that must be mapped or declared missing (persona is the source's label)."""
ANY_KIND = "*"


def fold(value: str) -> str:
    """Normalise a source value for matching: collapse whitespace, ignore case."""
    return " ".join(str(value).split()).casefold()


@dataclass(frozen=True)
class KindRule:
    """How rows of one kind (a value of the kind column) map: direction and categories."""

    direction: str
    categories: dict[str, str] = field(default_factory=dict)
    subcategories: dict[tuple[str, str], str] = field(default_factory=dict)
    exclude: dict[str, str] = field(default_factory=dict)
    default_category: str | None = None


@dataclass(frozen=True)
class UsersMapping:
    """Columns of a users file and the translation of its gender values."""

    columns: dict[str, str]
    genders: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MicrodataMapping:
    """A validated mapping; build it with :func:`load_mapping` or :func:`parse_mapping`."""

    name: str
    currency: str
    currency_scale: float
    columns: dict[str, str]
    date_formats: tuple[str, ...]
    kinds: dict[str, KindRule]
    declared_missing: frozenset[str]
    methods: dict[str, str] = field(default_factory=dict)
    user_id: int | None = None
    default_file: str | None = None
    users: UsersMapping | None = None

    @property
    def amount_scale_assumed(self) -> bool:
        """True when amounts were converted from another currency by an assumed factor."""
        return self.currency.upper() != "KRW"


def load_mapping(path: str | Path) -> MicrodataMapping:
    """Read and validate a TOML mapping file."""
    return parse_mapping(read_toml(path, "mapping"), name=str(path))


def parse_mapping(data: dict[str, Any], *, name: str = "<mapping>") -> MicrodataMapping:
    """Validate a mapping already read from TOML; errors name the file and the table."""
    try:
        return _build(data)
    except (ValueError, TypeError, KeyError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        raise MonilabError(f"{name}: {message}") from None


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"[{where}] must be a table")
    return value


def _strings(table: dict[str, Any], where: str) -> dict[str, str]:
    for key, value in table.items():
        if not isinstance(value, str):
            raise ValueError(f"[{where}] {key!r} must map to a string")
    return {fold(k): v for k, v in table.items()}


def _check_domain(values: dict[Any, str], domain: tuple[str, ...], where: str) -> None:
    for key, value in values.items():
        if value not in domain:
            raise ValueError(f"[{where}] {key!r} -> {value!r} is not one of {', '.join(domain)}")


def _build(data: dict[str, Any]) -> MicrodataMapping:
    source = _table(data, "source", "source")
    columns = _table(data, "columns", "columns")
    unknown = set(columns) - set(COLUMN_ROLES)
    if unknown:
        raise ValueError(f"[columns] unknown role {sorted(unknown)[0]!r}")
    for role in REQUIRED_ROLES:
        if not isinstance(columns.get(role), str):
            raise ValueError(f"[columns] needs {role} = <source column>")
    missing_tables = _table(data, "declared_missing", "declared_missing")
    declared = frozenset(missing_tables.get("transactions", [])) | frozenset(
        missing_tables.get("users", [])
    )
    user_id = source.get("user_id")
    if ("user_id" in columns) == (user_id is not None):
        raise ValueError("give exactly one of [columns] user_id and [source] user_id")
    scale = float(source.get("currency_scale", 1.0))
    if not scale > 0:
        raise ValueError("[source] currency_scale must be > 0")
    formats = tuple(_table(data, "dates", "dates").get("formats", ()))
    if not formats:
        raise ValueError("[dates] formats must list at least one date format")
    methods = _strings(_table(data, "methods", "methods"), "methods")
    _check_domain(methods, METHODS, "methods")
    users = _users(data, declared)
    mapping = MicrodataMapping(
        name=str(source.get("name", "reference")),
        currency=str(source.get("currency", "KRW")),
        currency_scale=scale,
        columns=dict(columns),
        date_formats=formats,
        kinds=_kinds(_table(data, "kinds", "kinds"), has_kind_column="kind" in columns),
        declared_missing=declared,
        methods=methods,
        user_id=None if user_id is None else int(user_id),
        default_file=source.get("file"),
        users=users,
    )
    _check_coverage(mapping)
    return mapping


def _kinds(table: dict[str, Any], *, has_kind_column: bool) -> dict[str, KindRule]:
    if not table:
        raise ValueError("[kinds] must define at least one kind")
    if not has_kind_column and set(table) != {ANY_KIND}:
        raise ValueError('without a [columns] kind, [kinds] must have exactly one table "*"')
    rules = {}
    for kind, spec in table.items():
        where = f"kinds.{kind}"
        if not isinstance(spec, dict):
            raise ValueError(f"[{where}] must be a table")
        direction = spec.get("direction")
        if direction not in DIRECTIONS:
            raise ValueError(f"[{where}] direction must be one of {', '.join(DIRECTIONS)}")
        categories = _strings(_table(spec, "categories", where + ".categories"), where)
        subcategories = {}
        for key, value in _strings(_table(spec, "subcategories", where), where).items():
            category, sep, sub = key.partition("/")
            if not sep:
                raise ValueError(f"[{where}.subcategories] key {key!r} is not Category/Sub")
            subcategories[(category, sub)] = value
        exclude = _strings(_table(spec, "exclude", where + ".exclude"), where + ".exclude")
        default = spec.get("default_category")
        if default is not None and default not in CATEGORIES:
            raise ValueError(f"[{where}] default_category {default!r} is not a Moni category")
        _check_domain(categories, CATEGORIES, where + ".categories")
        _check_domain(subcategories, CATEGORIES, where + ".subcategories")
        rules[fold(kind)] = KindRule(direction, categories, subcategories, exclude, default)
    return rules


def _users(data: dict[str, Any], declared: frozenset[str]) -> UsersMapping | None:
    table = _table(data, "users", "users")
    if not table:
        return None
    columns = _strings(_table(table, "columns", "users.columns"), "users.columns")
    unknown = set(columns) - {"user_id", *USER_FIELDS}
    if unknown:
        raise ValueError(f"[users.columns] unknown field {sorted(unknown)[0]!r}")
    if "user_id" not in columns:
        raise ValueError("[users.columns] needs user_id = <source column>")
    genders = _strings(_table(table, "genders", "users.genders"), "users.genders")
    _check_domain(genders, GENDERS, "users.genders")
    return UsersMapping(columns=columns, genders=genders)


def _check_coverage(mapping: MicrodataMapping) -> None:
    """Every schema field is mapped or declared missing, never both, never neither."""
    user_columns = set(mapping.users.columns) if mapping.users else set()
    mapped = {name: name in mapping.columns for name in TRANSACTION_FIELDS_MAPPABLE} | {
        name: name in user_columns for name in USER_FIELDS
    }
    unknown = mapping.declared_missing - set(mapped)
    if unknown:
        raise ValueError(f"[declared_missing] {sorted(unknown)[0]!r} is not a mappable field")
    for name, is_mapped in mapped.items():
        declared = name in mapping.declared_missing
        if is_mapped and declared:
            raise ValueError(f"field {name!r} is both mapped and declared missing")
        if not is_mapped and not declared:
            raise ValueError(f"field {name!r} is neither mapped nor in [declared_missing]")
    if "method" in mapping.columns and not mapping.methods:
        raise ValueError("[columns] method needs a [methods] table")
