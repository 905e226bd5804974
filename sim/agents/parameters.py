"""Free (calibratable) parameters of a persona document, and writing documents back to TOML.

Any number in a persona file may be written as a parameter table instead of a plain value::

    txn_per_day = 2.1                                                   # fixed
    txn_per_day = { value = 2.1, free = true, low = 0.5, high = 6.0, log = true }

A parameter's *name* is its dotted path in the document with the leading ``personas.``
dropped, array elements by index: ``yolo_student.spending.txn_per_day``,
``yolo_student.categories.coffee.median``, ``yolo_student.income.paydays.25``,
``profiles.hours.office.13``. Patterns with ``*`` (:func:`fnmatch.fnmatchcase`) address
several at once, e.g. ``*.categories.coffee.median``.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from monilab.contracts.errors import MonilabError

PARAM_KEYS = frozenset({"value", "free", "low", "high", "log"})
PERSONAS_KEY = "personas"


class PersonaError(MonilabError):
    """A persona file or parameter set is invalid; the message names persona and field."""


@dataclass(frozen=True)
class FreeParameter:
    """One calibratable number: its stable name, current value and search bounds.

    Attributes:
        name: Dotted name, e.g. ``yolo_student.spending.txn_per_day``.
        value: Current value.
        low: Lower bound (inclusive).
        high: Upper bound (inclusive).
        log: Search on a log scale (bounds > 0).
    """

    name: str
    value: float
    low: float
    high: float
    log: bool = False

    def to_unit(self, value: float | None = None) -> float:
        """Map a value (default: the current one) to [0, 1] on the parameter's scale."""
        x = self.value if value is None else value
        if self.log:
            return (math.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (x - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        """Map a point of [0, 1] back to a value within the bounds."""
        u = min(1.0, max(0.0, u))
        if self.log:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)


def is_param(obj: Any) -> bool:
    """True for a parameter table (``{ value = ..., free = ..., ... }``)."""
    return isinstance(obj, dict) and "value" in obj and set(obj) <= PARAM_KEYS


def param_name(path: tuple[str | int, ...]) -> str:
    """The public name of a document path (``personas.`` dropped)."""
    parts = path[1:] if path and path[0] == PERSONAS_KEY else path
    return ".".join(str(p) for p in parts)


def describe_path(source: str, path: tuple[str | int, ...]) -> str:
    """Error prefix naming the persona (or profile) and field of a document path."""
    if len(path) >= 2 and path[0] == PERSONAS_KEY:
        field = ".".join(str(p) for p in path[2:])
        where = f"persona {path[1]!r}"
        return f"{source}: {where}: field {field!r}" if field else f"{source}: {where}"
    return f"{source}: field {'.'.join(str(p) for p in path)!r}"


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _check_param(source: str, path: tuple[str | int, ...], table: dict[str, Any]) -> None:
    where = describe_path(source, path)
    for key in ("value", "low", "high"):
        if key in table and not _is_number(table[key]):
            raise PersonaError(f"{where}: {key!r} must be a finite number")
    for key in ("free", "log"):
        if key in table and not isinstance(table[key], bool):
            raise PersonaError(f"{where}: {key!r} must be true or false")
    if not table.get("free", False):
        return
    if "low" not in table or "high" not in table:
        raise PersonaError(f"{where}: a free parameter needs 'low' and 'high'")
    low, high, value = table["low"], table["high"], table["value"]
    if not low < high:
        raise PersonaError(f"{where}: 'low' must be < 'high' (got {low} and {high})")
    if not low <= value <= high:
        raise PersonaError(f"{where}: value {value} is outside [{low}, {high}]")
    if table.get("log", False) and low <= 0:
        raise PersonaError(f"{where}: a log-scale parameter needs 'low' > 0")


def iter_params(doc: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple, Any]]:
    """Yield ``(path, node)`` for every parameter table and plain number in a document."""
    if is_param(doc) or _is_number(doc):
        yield path, doc
    elif isinstance(doc, dict):
        for key, value in doc.items():
            yield from iter_params(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from iter_params(value, (*path, index))


def resolve(doc: Any, source: str, path: tuple[str | int, ...] = ()) -> Any:
    """A copy of a document with every parameter table replaced by its value (checked)."""
    if is_param(doc):
        _check_param(source, path, doc)
        return doc["value"]
    if isinstance(doc, dict):
        return {k: resolve(v, source, (*path, k)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [resolve(v, source, (*path, i)) for i, v in enumerate(doc)]
    return doc


def free_parameters(doc: Mapping[str, Any]) -> list[FreeParameter]:
    """The free parameters of a document, in document order."""
    found = []
    for path, node in iter_params(doc):
        if is_param(node) and node.get("free", False):
            found.append(
                FreeParameter(
                    name=param_name(path),
                    value=float(node["value"]),
                    low=float(node["low"]),
                    high=float(node["high"]),
                    log=bool(node.get("log", False)),
                )
            )
    return found


def set_values(doc: Mapping[str, Any], values: Mapping[str, float], source: str) -> dict:
    """A new document with free parameters set; names may be ``*`` patterns.

    Raises:
        PersonaError: A name or pattern matches no free parameter, or a value is out of
            bounds or not a finite number.
    """
    new = copy.deepcopy(dict(doc))
    free = {param_name(path): node for path, node in iter_params(new) if is_param(node)}
    free = {name: node for name, node in free.items() if node.get("free", False)}
    for pattern, value in values.items():
        names = [n for n in free if fnmatchcase(n, pattern)] if "*" in pattern else [pattern]
        if not names or any(n not in free for n in names):
            raise PersonaError(f"{source}: no free parameter named {pattern!r}")
        if not _is_number(value):
            raise PersonaError(f"{source}: parameter {pattern!r}: {value!r} is not a number")
        for name in names:
            node = free[name]
            if not node["low"] <= value <= node["high"]:
                raise PersonaError(
                    f"{source}: parameter {name!r}: {value} is outside "
                    f"[{node['low']}, {node['high']}]"
                )
            node["value"] = float(value) if isinstance(node["value"], float) else value
    return new


# --------------------------------------------------------------------------- TOML writing

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
_HEADER_DEPTH = 3
"""Tables up to this depth (``personas.NAME.SECTION``) get a header; deeper ones are inline."""


def _key(key: str | int) -> str:
    key = str(key)
    return key if _BARE.match(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PersonaError(f"cannot write {value} to TOML")
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise PersonaError(f"cannot write {type(value).__name__} to TOML")


def _is_header_table(value: Any, depth: int) -> bool:
    return isinstance(value, dict) and not is_param(value) and depth <= _HEADER_DEPTH


def to_toml(doc: Mapping[str, Any]) -> str:
    """Write a persona document as TOML (comments are not kept; values round-trip)."""
    lines: list[str] = []

    def emit(table: Mapping[str, Any], path: tuple[str, ...]) -> None:
        plain = [(k, v) for k, v in table.items() if not _is_header_table(v, len(path) + 1)]
        nested = [(k, v) for k, v in table.items() if _is_header_table(v, len(path) + 1)]
        if path and (plain or not nested):
            if lines:
                lines.append("")
            lines.append("[" + ".".join(_key(p) for p in path) + "]")
        lines.extend(f"{_key(k)} = {_value(v)}" for k, v in plain)
        for key, value in nested:
            emit(value, (*path, str(key)))

    emit(doc, ())
    return "\n".join(lines) + "\n"
