"""Reading and checking a target file (the format: ``docs/targets.md``).

:func:`load_target` turns a TOML file into a :class:`TargetSpec` with every template
compiled, or refuses it in one line naming the file, the place and the problem
(:class:`TargetError`): an unknown action or key, a template that does not compile, a bad
JSON pointer or regex, a missing required key. Nothing is sent before a target is valid.
The browser side of a target (``[browser]`` and ``[journeys]``) is read by
:mod:`sim.targets.journeys`; a file without them gets Moni's locale and no journeys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monilab.contracts.errors import read_toml
from sim.targets.errors import TargetError
from sim.targets.errors import fail as _fail
from sim.targets.errors import unknown_keys as _unknown
from sim.targets.journeys import BrowserSpec, JourneySpec, parse_browser, parse_journeys
from sim.targets.templates import Template, TemplateError, compile_tree

ACTIONS: tuple[str, ...] = (
    "signup",
    "login",
    "logout",
    "mydata_start",
    "add_spending",
    "add_spendings",
    "view_history",
    "view_analysis",
    "view_type",
    "view_assets",
    "view_profile",
    "set_goal",
    "read_notifications",
)
"""The population's action kinds a target carries out (``sim.agents.decisions``)."""
REQUIRED_ACTIONS = ("signup", "login")
WRITES = ("add_spending", "add_spendings")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SESSION_STYLES = ("bearer", "cookie", "api_key", "none")
CAPTURE_SOURCES = ("json", "header", "cookie", "regex")

_REQUEST_KEYS = {
    "method", "path", "query", "headers", "json", "form", "ok", "name", "capture", "auth",
    "for_each", "limit", "end_session", "exists",
}  # fmt: skip
_ACTION_KEYS = _REQUEST_KEYS | {"steps", "key", "idempotency_header"}
_TOP_KEYS = {"target", "session", "headers", "actions", "skip", "readback", "browser", "journeys"}


@dataclass(frozen=True)
class Capture:
    """Where a value is taken from an answer (``source`` is json/header/cookie/regex)."""

    name: str
    source: str
    where: str
    required: bool = True


@dataclass(frozen=True)
class RequestSpec:
    """One HTTP request of an action (templates compiled)."""

    method: str
    path: Template
    name: str
    query: Any = None
    headers: Any = None
    json: Any = None
    form: Any = None
    ok: tuple[int, ...] = (200,)
    exists: tuple[int, ...] = ()
    auth: bool = True
    captures: tuple[Capture, ...] = ()
    for_each: Template | None = None
    limit: Template | None = None
    end_session: bool = False


@dataclass(frozen=True)
class ActionSpec:
    """How one action kind is carried out: its requests, and for writes its key."""

    name: str
    steps: tuple[RequestSpec, ...]
    key: Template | None = None
    idempotency_header: str | None = None


@dataclass(frozen=True)
class SessionSpec:
    """How an agent stays logged in (see ``docs/targets.md``)."""

    style: str = "none"
    token: str = "token"
    api_key_header: str | None = None
    api_key_value: Template | None = None
    csrf_capture: str | None = None
    csrf_header: str | None = None
    csrf_field: str | None = None


@dataclass(frozen=True)
class ReadbackSpec:
    """How an agent's stored writes are listed for the reconciliation."""

    request: RequestSpec
    items: str
    key: Template
    total: str | None = None


@dataclass(frozen=True)
class TargetSpec:
    """A whole target file."""

    path: Path
    name: str
    health: str | None
    batch_size: int
    session: SessionSpec
    headers: Any
    actions: Mapping[str, ActionSpec]
    skip: frozenset[str]
    readback: ReadbackSpec | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    browser: BrowserSpec = field(default_factory=BrowserSpec)
    journeys: Mapping[str, JourneySpec] = field(default_factory=dict)

    def action(self, kind: str) -> ActionSpec | None:
        """The action's spec, None when the target skips it."""
        return self.actions.get(kind)


def load_target(path: str | Path) -> TargetSpec:
    """The target file at ``path``, checked (TargetError in one line otherwise)."""
    path = Path(path)
    data = read_toml(path, "target")
    try:
        return _parse(path, data)
    except (TargetError, TemplateError) as exc:
        raise TargetError(f"target {path}: {exc}") from None


def _parse(path: Path, data: Mapping[str, Any]) -> TargetSpec:
    _unknown(data, _TOP_KEYS, "")
    target = _table(data, "target")
    skip = frozenset(_strings(data.get("skip", []), "skip"))
    for name in sorted(skip):
        if name not in ACTIONS:
            raise _fail("skip", f"unknown action {name!r} (known: {', '.join(ACTIONS)})")
        if name in REQUIRED_ACTIONS:
            raise _fail("skip", f"{name} cannot be skipped")
    tables = _table(data, "actions")
    for name in tables:
        if name not in ACTIONS:
            raise _fail(f"actions.{name}", f"unknown action (known: {', '.join(ACTIONS)})")
        if name in skip:
            raise _fail(f"actions.{name}", "declared and skipped")
    missing = [name for name in ACTIONS if name not in tables and name not in skip]
    if missing:
        raise _fail(f"actions.{missing[0]}", "not declared (declare it or add it to skip)")
    actions = {name: _action(name, _table(tables, name, "actions")) for name in tables}
    health = target.get("health", "/healthz")
    return TargetSpec(
        path=path,
        name=str(target.get("name") or path.stem),
        health=str(health) or None,
        batch_size=_int(target.get("batch_size", 500), "target.batch_size", 1, 100_000),
        session=_session(_table(data, "session", required=False)),
        headers=compile_tree(_table(data, "headers", required=False), "headers"),
        actions=actions,
        skip=skip,
        readback=_readback(data["readback"]) if "readback" in data else None,
        meta={k: v for k, v in target.items() if k not in ("name", "health", "batch_size")},
        browser=parse_browser(_table(data, "browser", required=False)),
        journeys=parse_journeys(_table(data, "journeys", required=False), ACTIONS),
    )


def _table(data: Mapping[str, Any], key: str, prefix: str = "", *, required: bool = True) -> Any:
    where = f"{prefix}.{key}" if prefix else key
    value = data.get(key)
    if value is None:
        if required:
            raise _fail(where, "missing")
        return {}
    if not isinstance(value, Mapping):
        raise _fail(where, "expected a table")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, "expected a list of names")
    return list(value)


def _int(value: Any, where: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _fail(where, f"expected a whole number from {low} to {high}, got {value!r}")
    return value


def _statuses(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(where, "expected a list of HTTP statuses")
    return tuple(_int(v, where, 100, 599) for v in value)


def _action(name: str, table: Mapping[str, Any]) -> ActionSpec:
    where = f"actions.{name}"
    _unknown(table, _ACTION_KEYS, where)
    if "steps" in table:
        steps = table["steps"]
        if not isinstance(steps, list) or not steps:
            raise _fail(f"{where}.steps", "expected a list of requests")
        requests = tuple(_request(s, f"{where}.steps[{i}]") for i, s in enumerate(steps))
    else:
        requests = (_request(table, where),)
    key = table.get("key")
    if name in WRITES and key is None:
        raise _fail(f"{where}.key", "missing (a write is retried and read back by its key)")
    header = table.get("idempotency_header")
    return ActionSpec(
        name=name,
        steps=requests,
        key=compile_tree(key, f"{where}.key") if key is not None else None,
        idempotency_header=str(header) if header else None,
    )


def _request(table: Any, where: str) -> RequestSpec:
    if not isinstance(table, Mapping):
        raise _fail(where, "expected a table")
    _unknown(table, _REQUEST_KEYS | ({"steps", "key", "idempotency_header"}), where)
    if "path" not in table:
        raise _fail(f"{where}.path", "missing")
    method = str(table.get("method", "GET")).upper()
    if method not in METHODS:
        raise _fail(f"{where}.method", f"{method!r} is not one of {', '.join(METHODS)}")
    if "json" in table and "form" in table:
        raise _fail(where, "json and form: at most one body")
    return RequestSpec(
        method=method,
        path=compile_tree(str(table["path"]), f"{where}.path"),
        name=str(table.get("name") or table["path"]),
        query=compile_tree(table.get("query"), f"{where}.query"),
        headers=compile_tree(table.get("headers"), f"{where}.headers"),
        json=compile_tree(table.get("json"), f"{where}.json"),
        form=compile_tree(table.get("form"), f"{where}.form"),
        ok=_statuses(table.get("ok", [200]), f"{where}.ok"),
        exists=_statuses(table["exists"], f"{where}.exists") if "exists" in table else (),
        auth=bool(table.get("auth", True)),
        captures=_captures(table.get("capture", {}), f"{where}.capture"),
        for_each=_expression(table.get("for_each"), f"{where}.for_each"),
        limit=compile_tree(str(table["limit"]), f"{where}.limit") if "limit" in table else None,
        end_session=bool(table.get("end_session", False)),
    )


def _expression(value: Any, where: str) -> Template | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text.startswith("{{"):
        text = "{{ " + text + " }}"
    return compile_tree(text, where)


def _captures(table: Any, where: str) -> tuple[Capture, ...]:
    if not isinstance(table, Mapping):
        raise _fail(where, "expected a table of name = { json | header | cookie | regex }")
    out = []
    for name, spec in table.items():
        place = f"{where}.{name}"
        if not isinstance(spec, Mapping):
            raise _fail(place, "expected { json = ... } or { header | cookie | regex = ... }")
        _unknown(spec, {*CAPTURE_SOURCES, "required"}, place)
        sources = [s for s in CAPTURE_SOURCES if s in spec]
        if len(sources) != 1:
            raise _fail(place, f"expected exactly one of {', '.join(CAPTURE_SOURCES)}")
        source, value = sources[0], str(spec[sources[0]])
        _check_capture(source, value, place)
        out.append(Capture(name, source, value, bool(spec.get("required", True))))
    return tuple(out)


def _check_capture(source: str, value: str, where: str) -> None:
    if source == "json" and value and not value.startswith("/"):
        raise _fail(f"{where}.json", f"{value!r} is not a JSON pointer (it starts with /)")
    if source == "regex":
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise _fail(f"{where}.regex", f"not a regular expression ({exc})") from None
        if pattern.groups != 1:
            raise _fail(f"{where}.regex", "needs exactly one (group)")


def _session(table: Mapping[str, Any]) -> SessionSpec:
    _unknown(table, {"style", "token", "api_key", "csrf"}, "session")
    style = str(table.get("style", "none"))
    if style not in SESSION_STYLES:
        raise _fail("session.style", f"{style!r} is not one of {', '.join(SESSION_STYLES)}")
    api_key = table.get("api_key") or {}
    csrf = table.get("csrf") or {}
    if style == "api_key" and not ("header" in api_key and "value" in api_key):
        raise _fail("session.api_key", "missing: api_key = { header = ..., value = ... }")
    if csrf and ("capture" not in csrf or not ("header" in csrf or "field" in csrf)):
        raise _fail("session.csrf", "expected { capture = ..., header = ... } or field = ...")
    return SessionSpec(
        style=style,
        token=str(table.get("token", "token")),
        api_key_header=api_key.get("header"),
        api_key_value=compile_tree(str(api_key["value"]), "session.api_key.value")
        if "value" in api_key
        else None,
        csrf_capture=csrf.get("capture"),
        csrf_header=csrf.get("header"),
        csrf_field=csrf.get("field"),
    )


def _readback(table: Any) -> ReadbackSpec:
    if not isinstance(table, Mapping):
        raise _fail("readback", "expected a table")
    request_keys = {k: v for k, v in table.items() if k not in ("items", "key", "total")}
    for needed in ("items", "key"):
        if needed not in table:
            raise _fail(f"readback.{needed}", "missing")
    for pointer in ("items", "total"):
        if pointer in table and not str(table[pointer]).startswith("/"):
            raise _fail(f"readback.{pointer}", "expected a JSON pointer (it starts with /)")
    return ReadbackSpec(
        request=_request(request_keys, "readback"),
        items=str(table["items"]),
        key=compile_tree(str(table["key"]), "readback.key"),
        total=str(table["total"]) if "total" in table else None,
    )
