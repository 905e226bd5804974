"""Templates of target files: Jinja2 in its sandbox, typed when a string is one expression.

A string that is exactly one expression (``"{{ action.amount }}"``) renders to the value
itself (an int stays an int, a list a list); any other string renders to text. Values that
render to nothing (an undefined field, ``none``, an empty string from a missing field) are
left out of the mapping they belong to. Templates are compiled once, when the target file
is read, so a broken one is refused before the run (:class:`TemplateError`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

_ONE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>.*?)\}\}\s*$", re.S)


class TemplateError(ValueError):
    """A template that does not compile, or fails to render (with the reason)."""


def with_offset(stamp: Any, offset: str) -> str | None:
    """An ISO time with ``offset`` (e.g. ``+09:00``) unless it already has one."""
    if stamp is None or stamp == "":
        return None
    text = str(stamp).replace(" ", "T")
    clock = text.partition("T")[2]
    if clock.endswith("Z") or "+" in clock or "-" in clock:
        return text
    return text + offset


def datetime_local(stamp: Any, offset: str = "+09:00") -> str | None:
    """An ISO time as a ``datetime-local`` input's value (``2024-03-01T08:12:00``): naive,
    at ``offset`` when the time has a zone of its own."""
    if stamp is None or stamp == "":
        return None
    moment = dt.datetime.fromisoformat(str(stamp))
    if moment.tzinfo is not None:
        zone = dt.datetime.strptime(offset, "%z").tzinfo
        moment = moment.astimezone(zone).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def month_first(month: Any) -> str | None:
    """``"2024-03"`` → ``"2024-03-01"``."""
    return f"{month}-01" if month else None


def month_last(month: Any) -> str | None:
    """``"2024-03"`` → ``"2024-03-31"``."""
    if not month:
        return None
    first = dt.date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (following - dt.timedelta(days=1)).isoformat()


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
    env.globals.update(
        with_offset=with_offset,
        datetime_local=datetime_local,
        month_first=month_first,
        month_last=month_last,
    )
    return env


_ENV = _environment()


class Template:
    """One compiled template string (see the module docstring)."""

    def __init__(self, source: str) -> None:
        self.source = source
        match = _ONE_EXPRESSION.match(source)
        self._expression: Any = None
        self._template: Any = None
        try:
            if match and "{{" not in match.group("expr") and "{%" not in source:
                self._expression = _ENV.compile_expression(match.group("expr"))
            else:
                self._template = _ENV.from_string(source)
        except TemplateSyntaxError as exc:
            raise TemplateError(exc.message or str(exc)) from None

    def render(self, context: Mapping[str, Any]) -> Any:
        """The value (one expression) or the text; TemplateError with the reason."""
        try:
            if self._expression is not None:
                value = self._expression(**context)
                return None if _undefined(value) else value
            return self._template.render(**context) if self._template else None
        except (UndefinedError, SecurityError, TypeError, ValueError, ArithmeticError) as exc:
            raise TemplateError(f"{self.source!r}: {type(exc).__name__}: {exc}") from None


def _undefined(value: Any) -> bool:
    return isinstance(value, Undefined)


def compile_tree(value: Any, where: str) -> Any:
    """A TOML value with every string compiled (TemplateError naming ``where``)."""
    if isinstance(value, str):
        try:
            return Template(value)
        except TemplateError as exc:
            raise TemplateError(f"{where}: {exc}") from None
    if isinstance(value, Mapping):
        return {key: compile_tree(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [compile_tree(item, f"{where}[{i}]") for i, item in enumerate(value)]
    return value


def render_tree(value: Any, context: Mapping[str, Any]) -> Any:
    """A compiled tree rendered: mappings drop keys whose value renders to nothing."""
    if isinstance(value, Template):
        return value.render(context)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            rendered = render_tree(item, context)
            if rendered is not None and rendered != "":
                out[key] = rendered
        return out
    if isinstance(value, list):
        return [render_tree(item, context) for item in value]
    return value
