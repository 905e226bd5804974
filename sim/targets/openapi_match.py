"""Which operation of an OpenAPI 3 document carries out each action kind.

The reading side of ``monilab target init`` (:mod:`sim.targets.openapi` writes the draft):
:class:`Resolver` follows local ``$ref``\\ s (with a cycle guard), :func:`operations` lists
the document's operations with the words of their path, operationId and summary, and
:func:`match_actions` picks at most one operation per action kind, each with the reason it
was picked. Words are compared lower-case with a plural ``s`` dropped, and neighbouring
words joined too (``sign up`` also reads as ``signup``). A path word counts 3, an
operationId word 2, a summary word 1, a body property the rule looks for 2; the best
score wins, fewer path parameters and a shorter path break ties, and an operation serves
one action only.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
COLLECTION_WORDS = ("spendings", "transactions", "transfers", "payments", "expenses", "records")
BATCH_WORDS = ("batch", "bulk")
IDEMPOTENCY_NAMES = ("client_txn_id", "idempotency_key", "reference", "external_id")
_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_WEIGHTS = {"path": 3, "id": 2, "summary": 1}


def stem(word: str) -> str:
    """``word`` lower-case, without a plural ``s`` (``Users`` → ``user``)."""
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def words(text: str) -> frozenset[str]:
    """The stems of ``text``'s words and of each pair of neighbours joined."""
    tokens = [t.lower() for t in _TOKEN.findall(re.sub(r"\{[^}]*\}", " ", text))]
    joined = [a + b for a, b in itertools.pairwise(tokens)]
    return frozenset(stem(t) for t in tokens + joined)


class Resolver:
    """Follows local ``$ref``\\ s of one document; a cycle or a dangling ref gives ``{}``."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def __call__(self, node: Any) -> Any:
        """``node``, or what its chain of ``$ref``\\ s points to."""
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#/"):
                return {}
            seen.add(ref)
            node = self._pointer(ref)
        return node

    def _pointer(self, ref: str) -> Any:
        node: Any = self.document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                return {}
            node = node[part]
        return node

    def properties(self, schema: Any, depth: int = 0) -> dict[str, Any]:
        """An object schema's properties (``allOf`` parts merged), each resolved."""
        schema = self(schema)
        if not isinstance(schema, Mapping) or depth > 8:
            return {}
        out: dict[str, Any] = {}
        for part in schema.get("allOf") or []:
            out.update(self.properties(part, depth + 1))
        for name, value in (schema.get("properties") or {}).items():
            out[str(name)] = self(value)
        return out

    def required(self, schema: Any) -> set[str]:
        """The names an object schema requires (``allOf`` parts included)."""
        schema = self(schema)
        if not isinstance(schema, Mapping):
            return set()
        names = {str(n) for n in schema.get("required") or []}
        for part in schema.get("allOf") or []:
            names |= self.required(part)
        return names

    def items(self, schema: Any) -> Mapping[str, Any] | None:
        """An array schema's item schema (resolved); None when it is no array."""
        schema = self(schema)
        if not isinstance(schema, Mapping):
            return None
        if schema.get("type") == "array" or "items" in schema:
            items = self(schema.get("items") or {})
            return items if isinstance(items, Mapping) else {}
        return None


@dataclass(frozen=True)
class Operation:
    """One operation of the document, what the matching looks at."""

    method: str
    path: str
    words: Mapping[str, frozenset[str]]
    parameters: tuple[Mapping[str, Any], ...] = ()
    body: Mapping[str, Any] = field(default_factory=dict)
    body_kind: str = ""
    responses: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``POST /path``."""
        return f"{self.method} {self.path}"

    def statuses(self) -> list[int]:
        """The documented 2xx statuses ([200] when none is)."""
        codes = sorted(int(c) for c in self.responses if str(c).isdigit() and str(c)[0] == "2")
        return codes or [200]

    def parameter(self, where: str, names: Iterable[str]) -> str | None:
        """The first parameter ``in`` ``where`` whose name (case and ``-``/``_`` aside) is
        one of ``names``."""
        wanted = {_plain(n) for n in names}
        for param in self.parameters:
            if param.get("in") == where and _plain(str(param.get("name", ""))) in wanted:
                return str(param["name"])
        return None

    def response_schema(self, resolve: Resolver) -> Any:
        """The JSON schema of the first documented 2xx answer (``{}`` without one)."""
        for code in self.statuses():
            response = resolve(self.responses.get(str(code)) or {})
            for media, content in (response.get("content") or {}).items():
                if "json" in media:
                    return resolve((content or {}).get("schema") or {})
        return {}


def _plain(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def operations(resolve: Resolver) -> list[Operation]:
    """Every operation of the document, in its order."""
    out = []
    for path, item in (resolve.document.get("paths") or {}).items():
        item = resolve(item)
        if not isinstance(item, Mapping):
            continue
        shared = [resolve(p) for p in item.get("parameters") or []]
        for method in HTTP_METHODS:
            if isinstance(item.get(method), Mapping):
                out.append(_operation(resolve, str(path), method.upper(), item[method], shared))
    return out


def _operation(
    resolve: Resolver, path: str, method: str, op: Mapping[str, Any], shared: list[Any]
) -> Operation:
    own = [resolve(p) for p in op.get("parameters") or []]
    keys = {(p.get("name"), p.get("in")) for p in own if isinstance(p, Mapping)}
    params = [
        p for p in shared if isinstance(p, Mapping) and (p.get("name"), p.get("in")) not in keys
    ]
    body, kind = _body(resolve, op.get("requestBody"))
    responses = {str(code): resolve(answer) for code, answer in (op.get("responses") or {}).items()}
    return Operation(
        method=method,
        path=path,
        words={
            "path": words(path),
            "id": words(str(op.get("operationId") or "")),
            "summary": words(str(op.get("summary") or "")),
        },
        parameters=tuple(params + [p for p in own if isinstance(p, Mapping)]),
        body=body,
        body_kind=kind,
        responses=responses,
    )


def _body(resolve: Resolver, request_body: Any) -> tuple[Mapping[str, Any], str]:
    """The request body's schema and whether it is sent as ``json`` or ``form``."""
    content = (resolve(request_body) or {}).get("content") or {}
    for kind, test in (("json", "json"), ("form", "form")):
        for media, entry in content.items():
            if test in media:
                schema = resolve((entry or {}).get("schema") or {})
                return (schema if isinstance(schema, Mapping) else {}), kind
    return {}, ""


# ------------------------------------------------------------------------ matching


@dataclass(frozen=True)
class Rule:
    """What an action's operation looks like: its methods, words and body properties."""

    methods: tuple[str, ...]
    words: tuple[str, ...]
    body: tuple[str, ...] = ()


_CREDENTIALS = ("email", "password")
RULES: dict[str, Rule] = {
    "signup": Rule(("POST",), ("register", "registration", "signup", "users"), _CREDENTIALS),
    "login": Rule(("POST",), ("login", "signin", "session", "token", "auth"), _CREDENTIALS),
    "logout": Rule(("POST", "DELETE"), ("logout", "signout", "session")),
    "view_analysis": Rule(("GET",), ("analysis", "insights", "stats", "statistics", "report")),
    "view_type": Rule(("GET",), ("type",)),
    "view_assets": Rule(("GET",), ("balance", "assets", "accounts", "wallet")),
    "view_profile": Rule(("GET",), ("me", "profile", "user")),
    "set_goal": Rule(("POST",), ("goals",)),
    "read_notifications": Rule(("GET",), ("notifications",)),
    "mydata_start": Rule(("POST",), ("mydata", "link", "connect", "accounts")),
}  # fmt: skip
"""The plain word rules; add_spending(s) and view_history have their own (below)."""

ORDER = (
    "signup", "login", "logout", "add_spendings", "add_spending", "view_history", "view_type",
    "view_analysis", "view_assets", "view_profile", "set_goal", "read_notifications",
    "mydata_start",
)  # fmt: skip
"""The order actions pick operations in (an operation serves one action)."""


@dataclass(frozen=True)
class Match:
    """The operation picked for an action, and why (for the draft's GUESS comment)."""

    operation: Operation
    why: str


def looked_for(kind: str) -> str:
    """What the matching looked for, for the comment of a skipped action."""
    if kind == "add_spending":
        return "no POST whose body has 'amount'"
    if kind == "add_spendings":
        return "no POST whose body holds a list of items with 'amount'"
    if kind == "view_history":
        return "no GET of the spendings' collection"
    rule = RULES[kind]
    return f"no {'/'.join(rule.methods)} whose path or summary says {'/'.join(rule.words)}"


def match_actions(resolve: Resolver, ops: list[Operation]) -> dict[str, Match]:
    """The operation of each action kind the document seems to have."""
    matches: dict[str, Match] = {}
    for kind in ORDER:
        free = [op for op in ops if all(m.operation is not op for m in matches.values())]
        if kind == "add_spendings":
            found = _batch_write(resolve, free)
        elif kind == "add_spending":
            found = _single_write(resolve, free)
        elif kind == "view_history":
            found = _history(free, matches.get("add_spending"))
        else:
            found = _by_rule(resolve, free, RULES[kind], 1 if kind in ("signup", "login") else 2)
        if found:
            matches[kind] = found
    return matches


def _rank(op: Operation, score: int) -> tuple[int, int, int]:
    return (score, -op.path.count("{"), -len(op.path))


def _by_rule(resolve: Resolver, ops: list[Operation], rule: Rule, least: int) -> Match | None:
    """The best-scoring operation of ``rule`` whose words score at least ``least``."""
    wanted = {stem(w): w for w in rule.words}
    best: tuple[tuple[int, int, int], Match] | None = None
    for op in ops:
        if op.method not in rule.methods:
            continue
        hits = {src: sorted(wanted[w] for w in op.words[src] & set(wanted)) for src in _WEIGHTS}
        score = sum(_WEIGHTS[src] * len(found) for src, found in hits.items())
        if score < least:
            continue
        body = [p for p in rule.body if p in resolve.properties(op.body)]
        why = ", ".join(f"{src} word {'/'.join(f)!r}" for src, f in hits.items() if f)
        why += f"; body has {', '.join(body)}" if body else ""
        rank = _rank(op, score + 2 * len(body))
        if best is None or rank > best[0]:
            best = (rank, Match(op, why))
    return best[1] if best else None


def _collection_word(op: Operation) -> str | None:
    found = op.words["path"] & {stem(w) for w in COLLECTION_WORDS}
    return min(found) if found else None


def _is_batch(op: Operation) -> bool:
    stems = {stem(w) for w in BATCH_WORDS}
    return any(op.words[src] & stems for src in _WEIGHTS)


def _single_write(resolve: Resolver, ops: list[Operation]) -> Match | None:
    """A POST (no batch) whose body has ``amount``; a collection word in the path wins."""
    found = [
        op
        for op in ops
        if op.method == "POST" and not _is_batch(op) and "amount" in resolve.properties(op.body)
    ]
    if not found:
        return None
    op = max(found, key=lambda o: _rank(o, 1 if _collection_word(o) else 0))
    if len(found) == 1:
        return Match(op, "the only POST whose body has 'amount'")
    word = _collection_word(op)
    where = f"a collection of {word}s" if word else "no collection word: check it"
    return Match(op, f"POST whose body has 'amount', {where}; {len(found)} such POSTs")


def batch_items(resolve: Resolver, op: Operation) -> tuple[str, Mapping[str, Any]] | None:
    """Where a batch write's list is (``""``: the body is the list) and its schema, when
    its items have ``amount``."""
    candidates = [("", op.body), *resolve.properties(op.body).items()]
    for name, schema in candidates:
        items = resolve.items(schema)
        if items is not None and "amount" in resolve.properties(items):
            return name, resolve(schema)
    return None


def _batch_write(resolve: Resolver, ops: list[Operation]) -> Match | None:
    """A POST whose body holds a list of items with ``amount``; batch/bulk words win."""
    found = [op for op in ops if op.method == "POST" and batch_items(resolve, op)]
    if not found:
        return None
    op = max(found, key=lambda o: _rank(o, int(_is_batch(o))))
    named = "batch/bulk in its words, " if _is_batch(op) else ""
    return Match(op, f"{named}its body holds a list of items with 'amount'")


def _history(ops: list[Operation], write: Match | None) -> Match | None:
    """The GET of the single write's path, else a GET of a collection of spendings."""
    if write is not None:
        for op in ops:
            if op.method == "GET" and op.path == write.operation.path:
                return Match(op, f"the GET of add_spending's path {write.operation.path}")
    found = [op for op in ops if op.method == "GET" and _collection_word(op)]
    if not found:
        return None
    op = max(found, key=lambda o: _rank(o, 0))
    return Match(op, f"a GET of a collection of {_collection_word(op)}s")
