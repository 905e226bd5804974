"""Declarative input specs: one definition validates requests and documents them in OpenAPI.

A :class:`Spec` is a tuple of :class:`Field` objects. ``Spec.parse`` turns a JSON object
(strict types) or form/query data (text that is converted) into a clean ``dict`` or raises
:class:`~target_app.errors.ValidationError` naming the field. ``Spec.json_schema`` and
``Spec.parameters`` give the same rules as OpenAPI 3.0 schema objects, so the document at
``/api/v1/openapi.json`` cannot drift from what the code accepts.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from target_app.errors import BadRequest, ValidationError

Kind = Literal["string", "email", "password", "integer", "boolean", "datetime", "date", "month"]
Mode = Literal["json", "query", "form"]
"""``json``: strict JSON types; ``query``: strings converted; ``form``: like query, and an
empty field counts as absent (what an HTML form sends for a blank input)."""

TEXT_PATTERN = "^[^\\u0000]*$"
"""Strings may hold any character but NUL (lone surrogates, not Unicode text, are refused too)."""
EMAIL_PATTERN = "^[^@ \\t\\n\\r\\f\\v\\u0000]+@[^@ \\t\\n\\r\\f\\v\\u0000]+$"
MONTH_PATTERN = "^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])$"
"""Months of the years 1900 to 2199."""

_LEAP_YEAR = (
    "(?:19(?:0[48]|[2468][048]|[13579][26])|20(?:[02468][048]|[13579][26])"
    "|21(?:0[48]|[2468][048]|[13579][26]))"
)
_CALENDAR_DAY = (
    "(?:(?:19|20|21)[0-9]{2}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    "|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)|" + _LEAP_YEAR + "-02-29)"
)
DATETIME_PATTERN = (
    "^(" + _CALENDAR_DAY + ")[Tt ]([01][0-9]|2[0-3]):([0-5][0-9])"
    "(?::([0-5][0-9])(?:\\.([0-9]{1,6}))?)?([Zz]|[+-](?:0[0-9]|1[0-4]):[0-5][0-9])?$"
)
"""A spend time: a real calendar date of 1900-2199, hours and minutes, optional seconds
and fraction, optional UTC offset (``Z``, ``+09:00``); without an offset it is Korean
local time. Exactly what :func:`parse_datetime` accepts, so the OpenAPI pattern is exact.
"""

_TEXT_RE = re.compile(TEXT_PATTERN)
_EMAIL_RE = re.compile(EMAIL_PATTERN)
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_MONTH_RE = re.compile(MONTH_PATTERN)
_INT_RE = re.compile(r"^-?[0-9]+$")
_DATE_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_DATETIME_RE = re.compile(DATETIME_PATTERN)
_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no"}

MISSING: Any = object()


def _is_integral(raw: Any) -> bool:
    """A JSON integer (not a boolean), or a float with no fraction (JSON Schema says so)."""
    if isinstance(raw, bool):
        return False
    if isinstance(raw, float):
        return math.isfinite(raw) and raw.is_integer()
    return isinstance(raw, int)


def parse_datetime(text: str) -> dt.datetime:
    """A :data:`DATETIME_PATTERN` timestamp as naive Korean local time.

    A timestamp with an offset is converted to KST; one without is taken as KST already
    (what the lab's naive timestamps and an HTML ``datetime-local`` field mean).

    Raises:
        ValueError: The text does not match the pattern.
    """
    match = _DATETIME_RE.fullmatch(text)
    if not match:
        raise ValueError("is not a date-time like 2024-01-31T12:30:00+09:00 (1900 to 2199)")
    day, hour, minute, second, fraction, offset = match.groups()
    value = dt.datetime.combine(
        dt.date.fromisoformat(day),
        dt.time(int(hour), int(minute), int(second or 0), int((fraction or "0").ljust(6, "0"))),
    )
    if not offset:
        return value
    delta = dt.timedelta(0)
    if offset not in "Zz":
        delta = dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
        delta = delta if offset[0] == "+" else -delta
    return value - delta + dt.timedelta(hours=9)


def parse_date(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` date; raises ValueError otherwise."""
    match = _DATE_RE.fullmatch(text)
    if not match:
        raise ValueError("is not a date like 2024-01-31")
    return dt.date(*(int(part) for part in match.groups()))


def parse_month(text: str) -> dt.date:
    """A ``YYYY-MM`` month as the date of its first day; raises ValueError otherwise."""
    if not _MONTH_RE.fullmatch(text):
        raise ValueError("is not a month like 2024-01")
    return dt.date(int(text[:4]), int(text[5:7]), 1)


@dataclass(frozen=True)
class Field:
    """One input field: its kind, whether it is required and its limits.

    Attributes:
        name: Key in the JSON object, form or query string.
        kind: Value kind (see :data:`Kind`).
        required: A value must be given.
        choices: Allowed values of a string field.
        minimum: Smallest integer (inclusive).
        maximum: Largest integer (inclusive); every integer field has one.
        min_length: Shortest string.
        max_length: Longest string; every string field has one.
        nullable: JSON ``null`` is accepted (clears the value on update).
        default: Value used when the field is absent (not documented as required).
        description: Documentation for OpenAPI.
    """

    name: str
    kind: Kind = "string"
    required: bool = False
    choices: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    min_length: int = 0
    max_length: int = 200
    nullable: bool = False
    default: Any = MISSING
    description: str = ""

    def parse(self, raw: Any, mode: Mode, prefix: str = "") -> Any:
        """Validate one present value and return it converted (raises ValidationError)."""
        where = prefix + self.name
        if raw is None:
            if self.nullable:
                return None
            raise ValidationError(f"{where} must not be null", where)
        try:
            return getattr(self, f"_parse_{self.kind}")(raw, mode)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationError(f"{where} {exc}", where) from None

    def _parse_string(self, raw: Any, mode: Mode) -> str:
        if not isinstance(raw, str):
            raise TypeError("must be a string")
        if not _TEXT_RE.fullmatch(raw) or _SURROGATE_RE.search(raw):
            raise ValueError("contains a character that is not allowed")
        if self.choices is not None:
            if raw not in self.choices:
                raise ValueError(f"must be one of: {', '.join(self.choices)}")
            return raw
        if len(raw) < self.min_length:
            raise ValueError(f"must be at least {self.min_length} characters")
        if len(raw) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters")
        return raw

    def _parse_password(self, raw: Any, mode: Mode) -> str:
        return self._parse_string(raw, mode)

    def _parse_email(self, raw: Any, mode: Mode) -> str:
        value = self._parse_string(raw, mode)
        if not _EMAIL_RE.fullmatch(value):
            raise ValueError("is not an email address")
        return value.lower()

    def _parse_integer(self, raw: Any, mode: Mode) -> int:
        text = raw.replace(",", "") if mode == "form" and isinstance(raw, str) else raw
        if mode != "json" and isinstance(text, str) and _INT_RE.fullmatch(text):
            value = int(text)
        elif _is_integral(raw):
            value = int(raw)
        else:
            raise TypeError("must be an integer")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"must be at most {self.maximum}")
        return value

    def _parse_boolean(self, raw: Any, mode: Mode) -> bool:
        if isinstance(raw, bool):
            return raw
        if mode != "json" and isinstance(raw, str) and raw.lower() in _TRUE | _FALSE:
            return raw.lower() in _TRUE
        raise TypeError("must be true or false")

    def _parse_datetime(self, raw: Any, mode: Mode) -> dt.datetime:
        if not isinstance(raw, str):
            raise TypeError("must be a date-time string")
        return parse_datetime(raw)

    def _parse_date(self, raw: Any, mode: Mode) -> dt.date:
        if not isinstance(raw, str):
            raise TypeError("must be a date string")
        return parse_date(raw)

    def _parse_month(self, raw: Any, mode: Mode) -> dt.date:
        if not isinstance(raw, str):
            raise TypeError("must be a month string")
        return parse_month(raw)

    def json_schema(self) -> dict[str, Any]:
        """The field as an OpenAPI 3.0 schema object."""
        schema: dict[str, Any] = {}
        if self.kind in ("string", "password", "email"):
            schema = {"type": "string", "maxLength": self.max_length}
            if self.choices is not None:
                schema = {"type": "string", "enum": list(self.choices)}
            else:
                if self.min_length:
                    schema["minLength"] = self.min_length
                schema["pattern"] = EMAIL_PATTERN if self.kind == "email" else TEXT_PATTERN
            if self.kind == "password":
                schema["format"] = "password"
        elif self.kind == "integer":
            schema = {"type": "integer", "format": "int64"}
            if self.minimum is not None:
                schema["minimum"] = self.minimum
            if self.maximum is not None:
                schema["maximum"] = self.maximum
        elif self.kind == "boolean":
            schema = {"type": "boolean"}
        elif self.kind == "datetime":
            schema = {
                "type": "string",
                "pattern": DATETIME_PATTERN,
                "example": "2024-01-31T12:30:00+09:00",
            }
        elif self.kind == "date":
            schema = {"type": "string", "format": "date"}
        elif self.kind == "month":
            schema = {"type": "string", "pattern": MONTH_PATTERN, "example": "2024-01"}
        if self.nullable:
            schema["nullable"] = True
            if "enum" in schema:  # OpenAPI 3.0.3: null must also be an enum value
                schema["enum"] = [*schema["enum"], None]
        if self.default is not MISSING:
            schema["default"] = self.default
        if self.description:
            schema["description"] = self.description
        return schema


@dataclass(frozen=True)
class Spec:
    """An ordered set of fields: a request body or a query string."""

    fields: tuple[Field, ...]

    def parse(
        self,
        data: Any,
        *,
        mode: Mode = "json",
        partial: bool = False,
        prefix: str = "",
    ) -> dict[str, Any]:
        """Validate a whole object and return the clean values of the fields present.

        Args:
            data: The decoded JSON value, or a form/query mapping of strings.
            mode: ``json`` checks JSON types strictly; ``query`` and ``form`` convert
                strings. Both reject unknown keys; ``form`` ignores them (buttons, the CSRF
                token), trims text and treats empty strings as absent.
            partial: Update semantics: no field is required and defaults are not applied.
            prefix: Prefix for field names in messages, e.g. ``items[3].``.

        Raises:
            ValidationError: The first field at fault, by name.
            BadRequest: ``data`` is not an object.
        """
        if not isinstance(data, Mapping):
            raise BadRequest(f"{prefix.rstrip('.') or 'request body'} must be a JSON object")
        known = {f.name for f in self.fields}
        if mode != "form":
            for key in data:
                if key not in known:
                    where = f"{prefix}{key}"
                    raise ValidationError(f"{where!r} is not a known field", where)
        clean: dict[str, Any] = {}
        for fld in self.fields:
            raw = data.get(fld.name, MISSING)
            if mode == "form" and isinstance(raw, str):
                raw = raw.strip()
                if raw == "":
                    raw = None if fld.nullable and partial else MISSING
            if raw is MISSING:
                if fld.required and not partial:
                    where = prefix + fld.name
                    raise ValidationError(f"{where} is required", where)
                if fld.default is not MISSING and not partial:
                    clean[fld.name] = fld.default
                continue
            clean[fld.name] = fld.parse(raw, mode, prefix)
        return clean

    def json_schema(self, *, partial: bool = False) -> dict[str, Any]:
        """The spec as an OpenAPI object schema (``additionalProperties: false``)."""
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {f.name: f.json_schema() for f in self.fields},
            "additionalProperties": False,
        }
        required = [f.name for f in self.fields if f.required and f.default is MISSING]
        if required and not partial:
            schema["required"] = required
        return schema

    def parameters(self) -> list[dict[str, Any]]:
        """The spec as OpenAPI query parameters."""
        return [
            {
                "name": f.name,
                "in": "query",
                "required": f.required,
                "schema": f.json_schema(),
                **({"description": f.description} if f.description else {}),
            }
            for f in self.fields
        ]
