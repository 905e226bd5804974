"""Drafting a target file from an app's OpenAPI 3 document (``monilab target init``).

A target file says how each of the population's actions is carried out on an app
(``docs/targets.md``). Writing one starts from the app's API description, so
:func:`read_openapi` reads the document (a URL or a file, JSON, or YAML when PyYAML is
installed) and :func:`draft_target` writes a draft that :func:`~sim.targets.spec.load_target`
accepts. The draft is a starting point: every decision it makes is written as a
``# GUESS: ...`` comment on the line before, to be checked, then tried with
``monilab target check``.

Heuristics (the matching itself: :mod:`sim.targets.openapi_match`):

- Actions: each action kind is matched to one operation by method and by the words of its
  path, operationId and summary, plus the request body's property names: signup (POST
  register/signup/users, body email+password), login (POST login/session/token/auth),
  logout (POST/DELETE logout/session), add_spending (the POST whose body has ``amount``,
  a collection of spendings/transactions/transfers/payments/expenses/records winning),
  add_spendings (a POST whose body holds a list of such items, batch/bulk winning),
  view_history (the GET of add_spending's path), view_analysis (GET
  analysis/insights/stats/report), view_type (GET type), view_assets (GET
  balance/assets/accounts/wallet), view_profile (GET me/profile/user), set_goal (POST
  goals), read_notifications (GET notifications), mydata_start (POST
  mydata/link/connect/accounts). Unmatched kinds go to ``skip``; signup and login cannot
  be skipped and get a ``/TODO-...`` placeholder instead.
- Bodies: properties are filled by name from the agent (email, password, name, profile
  fields) or the action (amount, category, merchant, direction, method, memo; time-like
  names from ``action.ts``, with a ``+09:00`` offset for ``format: date-time`` (or an
  example with an offset); title, target_amount, deadline; opening_balance;
  client_txn_id/idempotency_key/reference/external_id from ``action.client_txn_id``). A
  required property with no match gets ``"TODO"``; an optional one is left out. JSON
  bodies become ``json``, form bodies ``form``.
- Writes are keyed by ``action.client_txn_id``; a header parameter named like
  ``Idempotency-Key`` becomes ``idempotency_header``.
- Session: the security scheme (http bearer → bearer with the login answer's
  token/access_token/jwt captured; apiKey in a cookie → cookie; apiKey in a header →
  api_key with a TODO value), a CSRF token in the login answer (csrf/csrf_token/xsrf) →
  ``csrf`` sent as ``X-CSRF-Token`` unless a header parameter names another; else none.
- Statuses: the operation's documented 2xx codes; signup's ``exists = [409]`` when 409 is
  documented. ``[target]``: the name from ``info.title``, health from a GET whose path says
  health/healthz/ping/status. ``[readback]``: the history GET paged by limit/offset (or page),
  the answer's first list as ``items``, an integer total/count as ``total``, and the listed
  records' client_txn_id/idempotency_key/reference/external_id as ``key``.

Limits: one request per action (no multi-step flows such as marking notifications read),
path parameters become ``TODO-name``, cursor paging and HTTP basic auth are not drafted.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monilab.contracts.errors import MonilabError
from sim.targets.openapi_match import (
    IDEMPOTENCY_NAMES,
    Match,
    Operation,
    Resolver,
    batch_items,
    looked_for,
    match_actions,
    operations,
    stem,
)
from sim.targets.spec import ACTIONS, REQUIRED_ACTIONS, WRITES

FETCH_TIMEOUT = 10.0
TOKEN_NAMES = ("token", "access_token", "accessToken", "jwt")
CSRF_NAMES = ("csrf", "csrf_token", "csrfToken", "xsrf", "xsrf_token", "xsrfToken")
TIME_NAMES = ("spent_at", "at", "date", "time", "timestamp", "occurred_at")
_OFFSET = re.compile(r"(Z|[+-]\d\d:\d\d)$")
HEALTH_WORDS = ("health", "healthz", "ping", "status")
_AGENT_FIELDS = ("persona", "age", "gender", "occupation", "region", "monthly_income")
_ACTION_FIELDS = {
    "add_spending": ("amount", "category", "merchant", "direction", "method", "memo"),
    "set_goal": ("title", "target_amount", "deadline"),
    "mydata_start": ("opening_balance",),
}
_HISTORY_QUERY = {
    "month": "{{ action.month }}",
    "from": "{{ action['from'] or month_first(action.month) }}",
    "to": "{{ action.to or month_last(action.month) }}",
    "category": "{{ action.category }}",
}
_HISTORY_ALIASES = {"start": "from", "since": "from", "end": "to", "until": "to"}


# ------------------------------------------------------------------------ reading


def read_openapi(source: str) -> dict[str, Any]:
    """The OpenAPI 3 document at ``source`` (an http(s) URL or a file).

    Raises:
        MonilabError: One line naming ``source``: it cannot be read, is neither JSON nor
            YAML, or is not an OpenAPI 3 document.
    """
    text = _fetch(source) if re.match(r"https?://", source) else _read_file(source)
    return _check_document(_parse(text, source), source)


def _problem(source: str, text: str) -> MonilabError:
    return MonilabError(f"OpenAPI document {source}: {' '.join(text.split())}")


def _fetch(url: str) -> str:
    import requests

    try:
        answer = requests.get(url, timeout=FETCH_TIMEOUT)
    except requests.RequestException as exc:
        raise _problem(url, f"cannot fetch it ({type(exc).__name__}: {exc})") from None
    if answer.status_code >= 400:
        raise _problem(url, f"cannot fetch it (HTTP {answer.status_code})")
    return answer.text


def _read_file(source: str) -> str:
    try:
        return Path(source).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise _problem(source, "no such file") from None
    except UnicodeDecodeError:
        raise _problem(source, "not a text file (UTF-8)") from None
    except OSError as exc:
        raise _problem(source, f"cannot read it ({exc.strerror or exc})") from None


def _parse(text: str, source: str) -> Any:
    """JSON, or YAML when PyYAML is installed."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith(("{", "[")):
            raise _problem(source, f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    try:
        yaml = importlib.import_module("yaml")
    except ImportError:
        raise _problem(
            source, "not JSON (only JSON is supported: install PyYAML for YAML)"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _problem(source, f"neither JSON nor YAML ({first})") from None


def _check_document(document: Any, source: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise _problem(source, "not an OpenAPI 3 document (expected an object)")
    if "swagger" in document:
        raise _problem(source, "a Swagger 2 document; convert it to OpenAPI 3 first")
    if not str(document.get("openapi", "")).startswith("3"):
        raise _problem(source, "not an OpenAPI 3 document (no 'openapi: 3.x' field)")
    if not isinstance(document.get("paths"), dict):
        raise _problem(source, "not an OpenAPI 3 document (no 'paths' object)")
    return document


# ------------------------------------------------------------------------ TOML text


def toml_value(value: Any) -> str:
    """``value`` as a TOML value: strings, numbers, booleans, lists and inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):  # a JSON string is a TOML basic string, but for DEL
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        pairs = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + pairs + " }" if pairs else "{}"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def toml_key(key: str) -> str:
    """A bare key when it may be one, else a quoted key."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)


@dataclass
class _Draft:
    """The draft's lines, with the count of guesses."""

    lines: list[str] = field(default_factory=list)

    def comment(self, text: str) -> None:
        self.lines.append("# " + " ".join(text.split()))

    def guess(self, text: str) -> None:
        self.comment("GUESS: " + text)

    def entry(self, key: str, value: Any) -> None:
        self.lines.append(f"{toml_key(key)} = {toml_value(value)}")

    def table(self, name: str) -> None:
        self.lines += ["", f"[{name}]"]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


# ------------------------------------------------------------------------ drafting


@dataclass(frozen=True)
class _Session:
    """How the draft keeps an agent logged in."""

    style: str
    why: str
    token: str | None = None
    csrf: str | None = None
    csrf_header: str = "X-CSRF-Token"
    csrf_named: bool = False
    api_key_header: str = ""


def draft_target(document: Mapping[str, Any], source: str) -> str:
    """The TOML text of a target file drafted from ``document`` (read from ``source``),
    every decision marked ``# GUESS:`` (see the module docstring)."""
    resolve = Resolver(document)
    ops = operations(resolve)
    matches = match_actions(resolve, ops)
    if "add_spending" not in matches:  # a batch is made of single writes' bodies
        matches.pop("add_spendings", None)
    session = _session(resolve, document, matches, ops)
    draft = _Draft()
    info = document.get("info") or {}
    draft.comment(f"Target file drafted by `monilab target init` from {source}")
    draft.comment(f"({info.get('title', 'untitled')}, OpenAPI {document.get('openapi')}).")
    draft.comment("Check every GUESS, then try it: monilab target check --target FILE --host URL")
    draft.comment("Format: docs/targets.md")
    _skip(draft, matches)
    _target(draft, resolve, info, ops, matches)
    _session_table(draft, session)
    for kind in ACTIONS:
        if kind in matches or kind in REQUIRED_ACTIONS:
            _action(draft, resolve, kind, matches.get(kind), session)
    _readback(draft, resolve, matches.get("view_history"))
    return draft.text()


def _skip(draft: _Draft, matches: Mapping[str, Match]) -> None:
    skipped = [k for k in ACTIONS if k not in matches and k not in REQUIRED_ACTIONS]
    if not skipped:
        return
    draft.lines.append("")
    draft.comment(
        "no matching operation found for these actions (declare them if the app has them):"
    )
    for kind in skipped:
        draft.comment(f"  {kind}: {looked_for(kind)}")
    draft.entry("skip", skipped)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "app"


def _target(
    draft: _Draft,
    resolve: Resolver,
    info: Mapping[str, Any],
    ops: list[Operation],
    matches: Mapping[str, Match],
) -> None:
    draft.table("target")
    draft.entry("name", _slug(str(info.get("title") or "app")))
    stems = {stem(w) for w in HEALTH_WORDS}
    checks = [op for op in ops if op.method == "GET" and op.words["path"] & stems]
    if checks:
        op = min(checks, key=lambda o: (o.path.count("{"), len(o.path)))
        draft.guess(f"health = {op.label} (its path says health/healthz/ping/status)")
        draft.entry("health", op.path)
    else:
        draft.guess("no health check found: the load starts without one")
        draft.entry("health", "")
    batch = matches.get("add_spendings")
    found = batch_items(resolve, batch.operation) if batch else None
    size = found[1].get("maxItems") if found else None
    if batch and isinstance(size, int) and 1 <= size <= 100_000:
        draft.guess(f"batch_size = the most items {batch.operation.label} takes (maxItems)")
        draft.entry("batch_size", size)


def _find(resolve: Resolver, schema: Any, names: tuple[str, ...], depth: int = 2) -> str | None:
    """The JSON pointer of the first property named one of ``names`` (nested at most
    ``depth`` objects deep)."""
    props = resolve.properties(schema)
    for name in names:
        if name in props:
            return f"/{name}"
    if depth > 1:
        for name, sub in props.items():
            inner = _find(resolve, sub, names, depth - 1)
            if inner:
                return f"/{name}{inner}"
    return None


def _scheme(resolve: Resolver, document: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """The security scheme the document requires first (else its first)."""
    schemes = resolve((document.get("components") or {}).get("securitySchemes") or {})
    if not isinstance(schemes, Mapping):
        return None
    required = [name for req in document.get("security") or [] for name in req or {}]
    for name in [*required, *schemes]:
        scheme = resolve(schemes.get(name))
        if isinstance(scheme, Mapping) and scheme.get("type"):
            return str(name), scheme
    return None


def _session(
    resolve: Resolver,
    document: Mapping[str, Any],
    matches: Mapping[str, Match],
    ops: list[Operation],
) -> _Session:
    login = matches.get("login")
    answer = login.operation.response_schema(resolve) if login else {}
    token = _find(resolve, answer, TOKEN_NAMES)
    csrf = _find(resolve, answer, CSRF_NAMES)
    header = _csrf_header(ops)
    found = _scheme(resolve, document)
    name, scheme = found if found else ("", {})
    kind, where = str(scheme.get("type", "")), str(scheme.get("in", ""))
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
        style, why = "bearer", f"security scheme {name!r} is http bearer"
    elif kind in ("oauth2", "openIdConnect"):
        style, why = "bearer", f"security scheme {name!r} is {kind}: its token sent as bearer"
    elif kind == "apiKey" and where == "cookie":
        style, why = "cookie", f"security scheme {name!r} is an apiKey in a cookie"
    elif kind == "apiKey" and where == "header":
        style, why = "api_key", f"security scheme {name!r} is an apiKey in a header"
    elif token and not kind:
        style, why = "bearer", f"no security scheme, but login answers {token}"
    else:
        style = "none"
        why = f"security scheme {name!r} ({kind}) is not drafted" if kind else "no security scheme"
    return _Session(
        style=style,
        why=why,
        token=token or ("/token" if style == "bearer" else None),
        csrf=csrf,
        csrf_header=header or "X-CSRF-Token",
        csrf_named=header is not None,
        api_key_header=str(scheme.get("name") or "X-Api-Key"),
    )


def _csrf_header(ops: list[Operation]) -> str | None:
    """The name of the first header parameter that says csrf or xsrf."""
    for op in ops:
        for param in op.parameters:
            name = str(param.get("name", ""))
            if param.get("in") == "header" and re.search(r"csrf|xsrf", name, re.I):
                return name
    return None


def _session_table(draft: _Draft, session: _Session) -> None:
    draft.table("session")
    draft.guess(f"style = {session.style} ({session.why})")
    draft.entry("style", session.style)
    if session.style == "bearer":
        draft.entry("token", "token")
    if session.style == "api_key":
        draft.guess("the API key's value is not in the document: edit the TODO")
        draft.entry("api_key", {"header": session.api_key_header, "value": "TODO"})
    if session.csrf:
        where = "a header parameter names it" if session.csrf_named else "the name is a guess"
        draft.guess(f"login answers a CSRF token {session.csrf}, sent as {session.csrf_header}")
        draft.guess(f"the CSRF header: {where}")
        draft.entry("csrf", {"capture": "csrf", "header": session.csrf_header})


# ------------------------------------------------------------------------ actions


def _action(
    draft: _Draft, resolve: Resolver, kind: str, match: Match | None, session: _Session
) -> None:
    draft.table(f"actions.{kind}")
    if match is None:
        draft.guess("nothing found, edit me")
        draft.entry("method", "POST")
        draft.entry("path", f"/TODO-{kind}")
        draft.entry("auth", False)
        draft.entry("json", {"email": "{{ agent.email }}", "password": "{{ agent.password }}"})
        return
    op = match.operation
    draft.guess(f"{kind} = {op.label} ({match.why})")
    draft.entry("method", op.method)
    _path(draft, op)
    if kind in REQUIRED_ACTIONS:
        draft.entry("auth", False)
    _query(draft, kind, op)
    _body(draft, resolve, kind, op)
    draft.entry("ok", op.statuses())
    if kind == "signup" and "409" in op.responses:
        draft.entry("exists", [409])
    _captures(draft, resolve, kind, op, session)
    if kind == "logout":
        draft.entry("end_session", True)
    if kind in WRITES:
        _write_key(draft, resolve, op)


def _path(draft: _Draft, op: Operation) -> None:
    names = re.findall(r"\{([^}]*)\}", op.path)
    if names:
        draft.guess(f"path parameters {', '.join(names)}: edit the TODO (e.g. a captured id)")
    draft.entry("path", re.sub(r"\{([^}]*)\}", r"TODO-\1", op.path))


def _query(draft: _Draft, kind: str, op: Operation) -> None:
    query: dict[str, str] = {}
    for param in op.parameters:
        if param.get("in") != "query":
            continue
        name = str(param.get("name"))
        field_name = _HISTORY_ALIASES.get(name, name)
        if kind == "view_history" and field_name in _HISTORY_QUERY:
            query[name] = _HISTORY_QUERY[field_name]
        elif param.get("required"):
            draft.guess(f"query {name}: required, no action field matches it: edit the TODO")
            query[name] = "TODO"
    if query:
        if kind == "view_history":
            draft.guess("query parameters from the action's month/from/to/category")
        draft.entry("query", query)


def _body_value(kind: str, name: str, schema: Mapping[str, Any]) -> str | None:
    """The template for body property ``name`` of ``kind`` (None: nothing matches)."""
    if kind in ("signup", "login") and name in ("email", "username", "password"):
        return "{{ agent.password }}" if name == "password" else "{{ agent.email }}"
    if kind == "signup" and name in ("name", "agent_id", *_AGENT_FIELDS):
        return {"name": "{{ agent.name or agent.id }}", "agent_id": "{{ agent.id }}"}.get(
            name, f"{{{{ agent.{name} }}}}"
        )
    if kind == "add_spending" and name in TIME_NAMES:
        if schema.get("format") == "date-time" or _OFFSET.search(str(schema.get("example", ""))):
            return "{{ with_offset(action.ts, '+09:00') }}"
        return "{{ action.ts }}"
    if kind == "add_spending" and name in IDEMPOTENCY_NAMES:
        return "{{ action.client_txn_id }}"
    if name in _ACTION_FIELDS.get(kind, ()):
        return f"{{{{ action.{name} }}}}"
    return None


def _body(draft: _Draft, resolve: Resolver, kind: str, op: Operation) -> None:
    if not op.body_kind:
        return
    if kind == "add_spendings":
        _batch_body(draft, resolve, op)
        return
    required = resolve.required(op.body)
    values: dict[str, str] = {}
    left_out = []
    for name, schema in resolve.properties(op.body).items():
        value = _body_value(kind, name, schema if isinstance(schema, Mapping) else {})
        if value is None and name in required:
            draft.guess(
                f"body {name}: required, no agent or action field matches it: edit the TODO"
            )
            value = "TODO"
        if value is None:
            left_out.append(name)
        else:
            values[name] = value
    note = f"; left out: {', '.join(left_out)}" if left_out else ""
    draft.guess(f"the {op.body_kind} body's fields filled by name{note}")
    draft.entry(op.body_kind, values)


def _batch_body(draft: _Draft, resolve: Resolver, op: Operation) -> None:
    found = batch_items(resolve, op)
    name = found[0] if found else ""
    draft.guess(f"{name or 'the body'} = the list of add_spending bodies (`batch`)")
    if not name:
        draft.entry(op.body_kind, "{{ batch }}")
        return
    body = {name: "{{ batch }}"}
    for other in sorted(resolve.required(op.body) - {name}):
        draft.guess(f"body {other}: required, nothing matches it: edit the TODO")
        body[other] = "TODO"
    draft.entry(op.body_kind, body)


def _captures(
    draft: _Draft, resolve: Resolver, kind: str, op: Operation, session: _Session
) -> None:
    if kind not in ("signup", "login"):
        return
    answer = op.response_schema(resolve)
    capture: dict[str, Any] = {}
    token = _find(resolve, answer, TOKEN_NAMES)
    if session.style == "bearer" and (token or kind == "login"):
        token = token or session.token or "/token"
        draft.guess(f"the bearer token is the answer's {token}")
        capture["token"] = {"json": token}
    csrf = _find(resolve, answer, CSRF_NAMES)
    if session.csrf and csrf:
        capture["csrf"] = {"json": csrf}
    if capture:
        draft.entry("capture", capture)


def _idempotency_header(op: Operation) -> str | None:
    for param in op.parameters:
        if param.get("in") == "header" and "idempotency" in str(param.get("name", "")).lower():
            return str(param["name"])
    return None


def _carries_key(resolve: Resolver, op: Operation) -> bool:
    """Whether the write's body (or its batch's items) has an idempotency-ish field."""
    names = set(resolve.properties(op.body))
    found = batch_items(resolve, op)
    if found:
        names |= set(resolve.properties(resolve.items(found[1])))
    return bool(names & set(IDEMPOTENCY_NAMES))


def _write_key(draft: _Draft, resolve: Resolver, op: Operation) -> None:
    draft.entry("key", "{{ action.client_txn_id }}")
    header = _idempotency_header(op)
    if header:
        draft.guess(f"the key is sent as {header} (a header parameter of {op.label})")
        draft.entry("idempotency_header", header)
    elif not _carries_key(resolve, op):
        draft.guess("no body field or header carries the key: a retry may store it twice")


# ------------------------------------------------------------------------ read-back


def _readback(draft: _Draft, resolve: Resolver, history: Match | None) -> None:
    if history is None:
        draft.lines.append("")
        draft.comment(
            "no [readback]: no GET lists the writes (the load reports it as not declared)"
        )
        return
    op = history.operation
    listed = _first_list(resolve, op.response_schema(resolve))
    if listed is None:
        draft.lines.append("")
        draft.comment(f"no [readback]: {op.label} answers no object with a list in it")
        return
    pointer, item = listed
    props = resolve.properties(item)
    key = next((n for n in IDEMPOTENCY_NAMES if n in props), None)
    paging = _paging(op)
    if key is None or paging is None:
        why = "its records show no key property" if key is None else "no offset/page parameter"
        draft.lines.append("")
        draft.comment(
            f"no [readback] from {op.label}: {why}; declare one to prove no write was lost"
        )
        return
    draft.table("readback")
    draft.guess(f"read back through {op.label}; each record's {key} is the write's key")
    draft.entry("method", "GET")
    draft.entry("path", op.path)
    draft.entry("query", paging)
    draft.entry("items", pointer)
    total = next((n for n in ("total", "count", "total_count") if n in _ints(resolve, op)), None)
    if total:
        draft.entry("total", f"/{total}")
    draft.entry("key", f"{{{{ item.{key} }}}}")


def _first_list(resolve: Resolver, schema: Any) -> tuple[str, Any] | None:
    """The pointer to the first list property of an answer and its item schema."""
    for name, sub in resolve.properties(schema).items():
        items = resolve.items(sub)
        if items is not None:
            return f"/{name}", items
    return None


def _ints(resolve: Resolver, op: Operation) -> set[str]:
    props = resolve.properties(op.response_schema(resolve))
    return {name for name, schema in props.items() if schema.get("type") == "integer"}


def _paging(op: Operation) -> dict[str, Any] | None:
    """The read-back's query: limit (its maximum, else 100) and offset or page number."""
    query: dict[str, Any] = {}
    limit = op.parameter("query", ("limit", "per_page", "page_size"))
    if limit:
        schema = next(p.get("schema") or {} for p in op.parameters if p.get("name") == limit)
        high = schema.get("maximum") if isinstance(schema, Mapping) else None
        query[limit] = int(high) if isinstance(high, int | float) and high >= 1 else 100
    offset = op.parameter("query", ("offset", "skip"))
    page = op.parameter("query", ("page", "page_number"))
    if offset:
        query[offset] = "{{ page.offset }}"
    elif page:
        query[page] = "{{ page.number + 1 }}"
    else:
        return None
    return query
