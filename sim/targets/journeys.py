"""The browser side of a target file: ``[browser]`` and ``[journeys.<action>]``.

A journey says how one agent action is carried out in a real browser: a list of steps
(``goto``, ``fill``, ``select``, ``check``, ``click``, ``expect_text``, ``expect_url``), each
acting on an element found by a **locator** (exactly one of ``role`` (+ ``name``),
``label``, ``test_id``, ``css``, ``text``). Values are templates with the same context as
the HTTP side (``agent``, ``action``, ``run``). ``[browser]`` sets the browser's locale and
time zone and names the app's pages for the page-timing report. The format is in
``docs/targets.md``; :mod:`sim.browser.steps` carries the steps out.

Everything is checked when the file is read, in the same one-line style as the rest of the
file (``journeys.add_spending.steps[2].fill: expected exactly one of role, ...``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.targets.errors import fail, unknown_keys
from sim.targets.templates import Template, compile_tree

STEP_KINDS: tuple[str, ...] = (
    "goto",
    "fill",
    "select",
    "check",
    "click",
    "expect_text",
    "expect_url",
)
"""What a journey step does (its one kind key)."""

LOCATOR_KINDS: tuple[str, ...] = ("role", "label", "test_id", "css", "text")
"""How a locator finds an element (Playwright's ``get_by_*`` and ``locator``)."""

_STEP_KEYS: dict[str, set[str]] = {
    "goto": {"query", "when"},
    "fill": {"value", "optional", "when"},
    "select": {"value", "optional", "when"},
    "check": {"optional", "when"},
    "click": {"optional", "when"},
    "expect_text": {"in", "when"},
    "expect_url": {"when"},
}
_LOCATING = ("fill", "select", "check", "click")
_PLACEHOLDER = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Locator:
    """How a step finds its element: ``kind`` is one of :data:`LOCATOR_KINDS`."""

    kind: str
    value: str
    name: str | None = None

    def describe(self) -> str:
        """``test_id='signup-submit'``, ``role='button' name='Save'``."""
        named = f" name={self.name!r}" if self.name is not None else ""
        return f"{self.kind}={self.value!r}{named}"


@dataclass(frozen=True)
class JourneyStep:
    """One step of a journey (templates compiled).

    Attributes:
        kind: One of :data:`STEP_KINDS`.
        text: ``goto``'s path, ``expect_text``'s text, ``expect_url``'s path or pattern.
        locator: The element of ``fill``/``select``/``check``/``click``; ``expect_text``'s
            ``in`` (None: the whole page).
        value: What ``fill`` types or ``select`` picks.
        query: ``goto``'s query parameters (those rendering to nothing are left out).
        optional: Skip the step when its locator finds nothing.
        when: Skip the step unless this renders to a true value.
    """

    kind: str
    text: Template | None = None
    locator: Locator | None = None
    value: Template | None = None
    query: Any = None
    optional: bool = False
    when: Template | None = None

    def describe(self) -> str:
        """The step in a few words, for failure reports: ``click test_id='save'``."""
        if self.locator is not None and self.kind != "expect_text":
            return f"{self.kind} {self.locator.describe()}"
        where = f" in {self.locator.describe()}" if self.locator is not None else ""
        source = self.text.source if self.text is not None else ""
        return f"{self.kind} {source!r}{where}"


@dataclass(frozen=True)
class JourneySpec:
    """How one action kind is carried out in the browser."""

    action: str
    steps: tuple[JourneyStep, ...]


@dataclass(frozen=True)
class PageSpec:
    """One named page of the app, for the page-timing report.

    Attributes:
        name: The page's name (the events' ``page`` column).
        route: Its URL rule, e.g. ``/spending-history/<day>/`` (``<x>``: one path segment).
    """

    name: str
    route: str

    def matches(self, path: str) -> bool:
        """Whether a URL path is this page."""
        pattern = "[^/]+".join(re.escape(part) for part in _PLACEHOLDER.split(self.route))
        return re.fullmatch(pattern, path) is not None


@dataclass(frozen=True)
class BrowserSpec:
    """The browser the journeys run in, and the app's named pages."""

    locale: str = "ko-KR"
    timezone: str = "Asia/Seoul"
    pages: tuple[PageSpec, ...] = ()


def parse_browser(table: Mapping[str, Any]) -> BrowserSpec:
    """``[browser]`` checked (every key optional)."""
    unknown_keys(table, {"locale", "timezone", "pages"}, "browser")
    defaults = BrowserSpec()
    pages = table.get("pages", {})
    if not isinstance(pages, Mapping):
        raise fail("browser.pages", 'expected a table of name = "/route/"')
    for name, route in pages.items():
        if not isinstance(route, str) or not route.startswith("/"):
            raise fail(f"browser.pages.{name}", f"expected a path starting with /, got {route!r}")
    return BrowserSpec(
        locale=_text(table.get("locale", defaults.locale), "browser.locale"),
        timezone=_text(table.get("timezone", defaults.timezone), "browser.timezone"),
        pages=tuple(PageSpec(str(name), route) for name, route in pages.items()),
    )


def parse_journeys(table: Mapping[str, Any], actions: Sequence[str]) -> dict[str, JourneySpec]:
    """``[journeys]`` checked: known action names, known step kinds and keys, locators with
    exactly one kind, templates that compile. A file with journeys starts them with
    ``signup`` or, when accounts are made over HTTP, ``login``."""
    journeys = {}
    for name, journey in table.items():
        where = f"journeys.{name}"
        if name not in actions:
            raise fail(where, f"unknown action (known: {', '.join(actions)})")
        journeys[name] = parse_journey(name, journey)
    if journeys and "signup" not in journeys and "login" not in journeys:
        raise fail("journeys.login", "missing (journeys start with signup or login)")
    return journeys


def parse_journey(name: str, table: Any) -> JourneySpec:
    """One ``[journeys.<name>]`` table checked (``steps = [...]``)."""
    where = f"journeys.{name}"
    if not isinstance(table, Mapping):
        raise fail(where, "expected a table with steps = [...]")
    unknown_keys(table, {"steps"}, where)
    steps = table.get("steps")
    if not isinstance(steps, list) or not steps:
        raise fail(f"{where}.steps", "expected a list of steps")
    return JourneySpec(name, tuple(_step(s, f"{where}.steps[{i}]") for i, s in enumerate(steps)))


def _step(raw: Any, where: str) -> JourneyStep:
    if not isinstance(raw, Mapping):
        raise fail(where, 'expected a table such as { goto = "/path" }')
    kinds = [kind for kind in STEP_KINDS if kind in raw]
    if not kinds:
        every_key = set().union(*_STEP_KEYS.values())
        strange = sorted(set(raw) - every_key)
        place = f"{where}.{strange[0]}" if strange else where
        raise fail(place, f"unknown step kind (known: {', '.join(STEP_KINDS)})")
    if len(kinds) > 1:
        raise fail(where, f"one kind per step, got {' and '.join(kinds)}")
    kind = kinds[0]
    unknown_keys(raw, {kind, *_STEP_KEYS[kind]}, where)
    place = f"{where}.{kind}"
    if kind in _LOCATING:
        return _locating_step(kind, raw, where)
    if kind == "expect_url":
        _check_url(raw[kind], place)
    locator = _locator(raw["in"], f"{where}.in") if "in" in raw else None
    query = raw.get("query")
    if query is not None and not isinstance(query, Mapping):
        raise fail(f"{where}.query", "expected a table of name = value")
    return JourneyStep(
        kind=kind,
        text=_template(raw[kind], place),
        locator=locator,
        query=compile_tree(query, f"{where}.query"),
        when=_condition(raw.get("when"), f"{where}.when"),
    )


def _locating_step(kind: str, raw: Mapping[str, Any], where: str) -> JourneyStep:
    if kind in ("fill", "select") and "value" not in raw:
        raise fail(f"{where}.value", f"missing (what to {kind})")
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        raise fail(f"{where}.optional", "expected true or false")
    return JourneyStep(
        kind=kind,
        locator=_locator(raw[kind], f"{where}.{kind}"),
        value=_template(raw["value"], f"{where}.value") if "value" in raw else None,
        optional=optional,
        when=_condition(raw.get("when"), f"{where}.when"),
    )


def _locator(raw: Any, where: str) -> Locator:
    if not isinstance(raw, Mapping):
        raise fail(where, f"expected a locator {{ {' | '.join(LOCATOR_KINDS)} = ... }}")
    unknown_keys(raw, {*LOCATOR_KINDS, "name"}, where)
    kinds = [kind for kind in LOCATOR_KINDS if kind in raw]
    if len(kinds) != 1:
        found = f", got {' and '.join(kinds)}" if kinds else ""
        raise fail(where, f"expected exactly one of {', '.join(LOCATOR_KINDS)}{found}")
    kind = kinds[0]
    if "name" in raw and kind != "role":
        raise fail(f"{where}.name", "only a role locator takes a name")
    name = _text(raw["name"], f"{where}.name") if "name" in raw else None
    return Locator(kind, _text(raw[kind], f"{where}.{kind}"), name)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise fail(where, f"expected a non-empty text, got {value!r}")
    return value


def _template(value: Any, where: str) -> Template:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail(where, f"expected a text or a template, got {value!r}")
    compiled = compile_tree(str(value), where)
    assert isinstance(compiled, Template)
    return compiled


def _condition(value: Any, where: str) -> Template | None:
    """``when``: an expression, with or without ``{{ }}``."""
    if value is None:
        return None
    text = _text(value, where).strip()
    return _template(text if text.startswith("{{") else "{{ " + text + " }}", where)


def _check_url(value: Any, where: str) -> None:
    text = _text(value, where)
    if "{{" in text or "{%" in text:
        return  # checked when rendered
    if text.startswith("^"):
        try:
            re.compile(text)
        except re.error as exc:
            raise fail(where, f"not a regular expression ({exc})") from None
    elif not text.startswith("/"):
        raise fail(where, f"expected a path (/...) or a regular expression (^...), got {text!r}")
