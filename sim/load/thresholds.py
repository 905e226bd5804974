"""k6-like thresholds: pass/fail criteria a load run is checked against (``--threshold``).

Grammar (whitespace between tokens is free; metric, unit and ``persona`` in any case)::

    THRESHOLD := [SCOPE ":"] METRIC OP NUMBER [UNIT]
    SCOPE     := METHOD NAME           an endpoint: Locust's method and name, e.g.
                                       POST /api/v1/spendings  or  GET /api/v1/spendings [list]
               | "persona" NAME        one persona, e.g. persona yolo_student
    METRIC    := p50 | p90 | p95 | p99 | avg | max     latency; UNIT ms (default) or s
               | failures                              failed / requests; 0.005 or 0.5%
               | rps                                   requests per second
               | requests                              number of requests
               | lost_writes                           whole run only (see below)
    OP        := < | <= | > | >= | == | !=
    NUMBER    := digits with an optional decimal part (never negative)

k6's ``p(95)`` is read as ``p95``. Without a scope a threshold is about the whole run (the
aggregated row). The scope ends at the last colon, so an endpoint name may hold colons.

Where a value comes from in ``summary.json``: the ``total`` row (run), the ``endpoints`` row
of that method and name, or the ``personas`` entry (a persona's ``rps`` is its requests over
``wall_time_s``). ``lost_writes`` is ``missing + duplicated + unexpected`` of a declared
reconciliation: the acknowledged writes not stored exactly once, plus stored writes nobody
made (``unacknowledged`` writes are not errors, see :mod:`sim.reconcile.check`).

A threshold that cannot be checked (unknown endpoint or persona, no requests, reconciliation
skipped or not declared by the target) has the verdict ``no data`` and is not ok: a run
never passes a check it could not make.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from monilab.contracts.errors import MonilabError

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}

LATENCIES = ("p50", "p90", "p95", "p99", "avg", "max")


@dataclass(frozen=True)
class Metric:
    """What a metric measures: the base unit of its values and the units a limit may use.

    Attributes:
        unit: The unit of ``limit`` and ``value`` in results (``ms``, ``fraction`` ...).
        units: Written unit (``""`` = none) → factor to the base unit.
        hint: What to write, for error messages.
        run_only: The metric exists for the whole run only (no scope).
    """

    unit: str
    units: Mapping[str, float]
    hint: str
    run_only: bool = False


_LATENCY = Metric("ms", {"": 1.0, "ms": 1.0, "s": 1000.0}, "a latency in ms (default) or s")
_COUNT_HINT = "a plain count, without a unit"

METRICS: dict[str, Metric] = {
    **dict.fromkeys(LATENCIES, _LATENCY),
    "failures": Metric(
        "fraction", {"": 1.0, "%": 0.01}, "a fraction like 0.005 or a percentage like 0.5%"
    ),
    "rps": Metric("req/s", {"": 1.0}, "requests per second, without a unit"),
    "requests": Metric("requests", {"": 1.0}, _COUNT_HINT),
    "lost_writes": Metric("writes", {"": 1.0}, _COUNT_HINT, run_only=True),
}

_CONDITION = re.compile(
    r"^(?P<metric>[A-Za-z_]\w*(?:\(\s*\d+\s*\))?)\s*(?P<op>[<>=!]+)(?P<rest>.*)$"
)
_AMOUNT = re.compile(r"^(?P<number>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>.*)$")
_K6_PERCENTILE = re.compile(r"^p\(\s*(\d+)\s*\)$")
_EXAMPLE = "e.g. p95<300ms, failures<0.5%, 'POST /api/v1/spendings: p99<1s'"


@dataclass(frozen=True)
class Threshold:
    """One parsed threshold.

    Attributes:
        expr: The text as written (stripped).
        scope: ``run``, ``endpoint`` or ``persona``.
        target: ``""`` (run), ``"POST /api/v1/spendings"`` (endpoint) or the persona's name.
        metric: A key of :data:`METRICS`.
        op: A key of :data:`OPERATORS`.
        limit: In the metric's base unit (ms for latency, a fraction for failures).
    """

    expr: str
    scope: str
    target: str
    metric: str
    op: str
    limit: float

    @property
    def unit(self) -> str:
        """The base unit of ``limit`` and of the measured value."""
        return METRICS[self.metric].unit

    def holds(self, value: float) -> bool:
        """Whether a measured ``value`` (base unit) meets the threshold."""
        return OPERATORS[self.op](value, self.limit)


def parse_threshold(text: str) -> Threshold:
    """A :class:`Threshold` from its text, or MonilabError saying what is wrong (one line)."""
    expr = text.strip()
    if not expr:
        raise _error(text, f"empty; expected [SCOPE:] METRIC OP VALUE, {_EXAMPLE}")
    head, colon, condition = expr.rpartition(":")
    scope, target = _parse_scope(text, head) if colon else ("run", "")
    metric, op, rest = _parse_condition(text, condition)
    if METRICS[metric].run_only and scope != "run":
        raise _error(text, f"{metric} is counted for the whole run only: drop the scope")
    return Threshold(expr, scope, target, metric, op, _parse_limit(text, metric, rest))


def check_threshold(text: str) -> str:
    """``text`` unchanged when it is a valid threshold (the ``--threshold`` option's parser),
    else MonilabError."""
    parse_threshold(text)
    return text


def _error(text: str, why: str) -> MonilabError:
    return MonilabError(f"threshold {text!r}: {why}")


def _parse_scope(text: str, head: str) -> tuple[str, str]:
    """``("endpoint", "POST /path")`` or ``("persona", name)`` from the part before the colon."""
    first, _, rest = " ".join(head.split()).partition(" ")
    if first.lower() == "persona" and rest:
        return "persona", rest
    if first.isalpha() and first.lower() != "persona" and rest:
        return "endpoint", f"{first.upper()} {rest}"
    raise _error(
        text,
        f"scope {head.strip()!r} is neither 'METHOD NAME' (e.g. 'POST /api/v1/spendings') "
        "nor 'persona NAME' (e.g. 'persona yolo_student')",
    )


def _parse_condition(text: str, condition: str) -> tuple[str, str, str]:
    """The metric, operator and the text after the operator."""
    match = _CONDITION.match(condition.strip())
    if not match:
        raise _error(text, f"expected [SCOPE:] METRIC OP VALUE, {_EXAMPLE}")
    metric = match["metric"].lower()
    k6 = _K6_PERCENTILE.match(metric)
    metric = f"p{k6[1]}" if k6 else metric
    if metric not in METRICS:
        raise _error(text, f"unknown metric {match['metric']!r}; known: {', '.join(METRICS)}")
    if match["op"] not in OPERATORS:
        raise _error(text, f"unknown operator {match['op']!r}; use one of {' '.join(OPERATORS)}")
    return metric, match["op"], match["rest"].strip()


def _parse_limit(text: str, metric: str, rest: str) -> float:
    """The limit in the metric's base unit, from a number and an optional unit."""
    spec = METRICS[metric]
    match = _AMOUNT.match(rest)
    if not match:
        what = f"{rest!r} is not a number >= 0" if rest else "no value after the operator"
        raise _error(text, f"{what}; {metric} takes {spec.hint}")
    unit = match["unit"].strip().lower()
    if unit not in spec.units:
        raise _error(text, f"unit {match['unit'].strip()!r} does not fit {metric}: {spec.hint}")
    limit = float(match["number"]) * spec.units[unit]
    if metric == "failures" and limit > 1:
        hint = f" (did you mean {match['number']}%?)" if not unit else ""
        raise _error(text, f"a failure rate is at most 1 (100%){hint}; write {spec.hint}")
    return limit


# --------------------------------------------------------------------------- evaluation


def evaluate_thresholds(texts: Iterable[str], summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Check every threshold against a load ``summary`` (the content of ``summary.json``).

    Every text is parsed before any is checked (MonilabError on the first bad one). Each
    result: ``expr``, ``scope``, ``target``, ``metric``, ``op``, ``limit`` and ``unit`` (the
    metric's base unit), ``value`` (None without data), ``ok``, ``verdict`` (``pass``,
    ``fail`` or ``no data``) and ``reason`` (why there is no data; ``""`` otherwise).
    """
    thresholds = [parse_threshold(text) for text in texts]
    return [evaluate_threshold(threshold, summary) for threshold in thresholds]


def evaluate_threshold(threshold: Threshold, summary: Mapping[str, Any]) -> dict[str, Any]:
    """One threshold's result (see :func:`evaluate_thresholds`)."""
    value, reason = measure(threshold, summary)
    ok = value is not None and threshold.holds(value)
    verdict = "no data" if value is None else "pass" if ok else "fail"
    return {
        "expr": threshold.expr,
        "scope": threshold.scope,
        "target": threshold.target,
        "metric": threshold.metric,
        "op": threshold.op,
        "limit": threshold.limit,
        "unit": threshold.unit,
        "value": value,
        "ok": ok,
        "verdict": verdict,
        "reason": reason,
    }


def measure(threshold: Threshold, summary: Mapping[str, Any]) -> tuple[float | None, str]:
    """The threshold's metric measured in ``summary`` (base unit), or None and why not."""
    if threshold.metric == "lost_writes":
        return lost_writes(summary.get("reconciliation"))
    row, reason = _scope_row(threshold, summary)
    if row is None:
        return None, reason
    return _row_value(threshold, row, summary)


def lost_writes(reconciliation: Mapping[str, Any] | None) -> tuple[float | None, str]:
    """``missing + duplicated + unexpected`` of a declared reconciliation, or None and why."""
    if not reconciliation:
        return None, "reconciliation skipped (--no-reconcile)"
    if not reconciliation.get("declared"):
        return None, "reconciliation not declared by the target"
    counts = [reconciliation.get(key) for key in ("missing", "duplicated", "unexpected")]
    if any(count is None for count in counts):
        return None, "reconciliation without missing/duplicated/unexpected counts"
    return float(sum(int(count) for count in counts if count is not None)), ""


def _scope_row(
    threshold: Threshold, summary: Mapping[str, Any]
) -> tuple[Mapping[str, Any] | None, str]:
    """The summary's row for the threshold's scope, or None and why."""
    if threshold.scope == "persona":
        personas = summary.get("personas") or {}
        row = personas.get(threshold.target)
        known = ", ".join(personas) or "none"
        return row, "" if row else f"no persona {threshold.target} in the run; known: {known}"
    if threshold.scope == "endpoint":
        wanted = _endpoint_key(*threshold.target.split(" ", 1))
        rows = summary.get("endpoints") or []
        row = next(
            (r for r in rows if _endpoint_key(r.get("method"), r.get("name")) == wanted), None
        )
        return row, "" if row else f"no endpoint {threshold.target} in the run"
    total = summary.get("total") or None
    return total, "" if total else "no total row in the summary"


def _endpoint_key(method: Any, name: Any) -> tuple[str, str]:
    """Method and name as compared: the method in capitals, runs of spaces as one."""
    return str(method).upper(), " ".join(str(name).split())


def _row_value(
    threshold: Threshold, row: Mapping[str, Any], summary: Mapping[str, Any]
) -> tuple[float | None, str]:
    """The metric from one summary row (``requests`` may be 0; rates and latency need one)."""
    requests = row.get("requests")
    if threshold.metric == "requests":
        return (None, "no request count") if requests is None else (float(requests), "")
    if threshold.metric == "rps":
        return _rps(threshold, row, summary)
    if not requests:
        return None, "no requests"
    if threshold.metric == "failures":
        return float(row.get("failures") or 0) / requests, ""
    value = row.get(f"{threshold.metric}_ms")
    return (None, f"no {threshold.metric} latency") if value is None else (float(value), "")


def _rps(
    threshold: Threshold, row: Mapping[str, Any], summary: Mapping[str, Any]
) -> tuple[float | None, str]:
    """Requests per second: Locust's for the run and an endpoint, requests over the wall time
    for a persona."""
    if threshold.scope != "persona":
        rps = row.get("rps")
        return (None, "no rps") if rps is None else (float(rps), "")
    wall = summary.get("wall_time_s")
    if not wall or row.get("requests") is None:
        return None, "no wall time to divide the persona's requests by"
    return float(row["requests"]) / float(wall), ""


# --------------------------------------------------------------------------- wording


def format_amount(unit: str, value: float) -> str:
    """A value in a metric's base unit for people: ``412 ms``, ``0.52%``, ``201.3 req/s``."""
    if unit == "fraction":
        return f"{value * 100:.4g}%"
    if unit == "ms":
        return f"{value:.6g} ms"
    if unit == "req/s":
        return f"{value:.4g} req/s"
    return f"{value:g}"


def describe_result(result: Mapping[str, Any]) -> str:
    """One line for a result: ``p95 = 412 ms, limit < 300 ms: fail`` (or why no data)."""
    limit = f"limit {result['op']} {format_amount(result['unit'], result['limit'])}"
    if result["value"] is None:
        why = f" ({result['reason']})" if result.get("reason") else ""
        return f"{result['metric']}: no data{why}, {limit}"
    value = format_amount(result["unit"], result["value"])
    return f"{result['metric']} = {value}, {limit}: {result['verdict']}"
