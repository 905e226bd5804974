"""``monilab compare RUN_A RUN_B``: is run B slower, less productive or more failing than A?

Per endpoint and per persona: p50/p95/p99 latency, requests/s and the failure rate of both
runs, B against A with a block-bootstrap interval, and a verdict (regression, improvement,
same within noise or tolerance; :mod:`sim.load.compare` has the exact rule). A run is a
``monilab load --out`` directory or a lab run directory (its ``load/``).

Writes an HTML page (``--out``, default ``RUN_B/compare-vs-<name of RUN_A>.html``) and the
numbers as JSON beside it (same name, ``.json``). With ``--fail-on-regression PCT`` the exit
status is 1 (:data:`~monilab.contracts.exitcodes.THRESHOLDS_FAILED`) when a metric counted
by the gate (``--metric``, default all) is a regression beyond PCT percent, or when none of
them could be checked (no interval anywhere: runs without time windows, or too short).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from monilab.contracts import exitcodes
from monilab.contracts.options import option
from monilab.lab.commands import Command

if TYPE_CHECKING:
    from sim.load.compare import Comparison, MetricDelta

METRICS = {
    "p50": "p50_ms",
    "p95": "p95_ms",
    "p99": "p99_ms",
    "rps": "rps",
    "failure_rate": "failure_rate",
}
"""``--metric`` choices and the metric each stands for (kept here so --help stays cheap)."""
REPORT_LINES = 12


@dataclass(frozen=True)
class CompareOptions:
    """The two runs, the regression gate and where the page goes."""

    run_a: Path = option(required=True, flag="", metavar="RUN_A", help="the baseline run directory")
    run_b: Path = option(
        required=True, flag="", metavar="RUN_B", help="the run compared against it"
    )
    fail_on_regression: float | None = option(
        None,
        low=0.0,
        metavar="PCT",
        help="exit 1 when a metric is worse by more than PCT percent beyond noise, or when "
        "nothing could be checked",
    )
    metric: list[str] = option(
        [],
        repeat=True,
        choices=tuple(METRICS),
        metavar="METRIC",
        help="only this metric counts for --fail-on-regression (repeatable; default all): "
        + ", ".join(METRICS),
    )
    out: Path | None = option(
        None,
        metavar="FILE",
        help="the HTML page (default RUN_B/compare-vs-<RUN_A name>.html); the JSON goes beside it",
    )
    seed: int = option(0, low=0, help="seed of the bootstrap resampling (default 0)")

    @property
    def page(self) -> Path:
        """Where the HTML page goes."""
        if self.out is not None:
            return self.out
        name_a = self.run_a.resolve()
        if name_a.name == "load":  # a lab run's load folder: name it after the lab run
            name_a = name_a.parent
        return self.run_b / f"compare-vs-{name_a.name}.html"

    @property
    def gated_metrics(self) -> list[str]:
        """The metrics ``--fail-on-regression`` looks at."""
        return [METRICS[name] for name in self.metric or METRICS]


@dataclass(frozen=True)
class CompareResult:
    """The comparison, the files written and why the gate failed (empty: it held)."""

    comparison: Comparison
    page: Path
    numbers: Path
    gate_failures: list[str] = field(default_factory=list)
    gate: str = ""


def compare(options: CompareOptions) -> CompareResult:
    """Compare the runs, write the page and the JSON, judge the gate."""
    from monilab.lab.report.comparepage import write_compare_page
    from sim.load.compare import compare_runs
    from sim.load.recorded import load_run

    run_a, run_b = load_run(options.run_a), load_run(options.run_b)
    tolerance = options.fail_on_regression
    comparison = compare_runs(run_a, run_b, tolerance_pct=tolerance or 0.0, seed=options.seed)
    failures = _gate_failures(options, comparison) if tolerance is not None else []
    gate = "" if tolerance is None else _gate_text(comparison, failures)
    page = write_compare_page(comparison, options.page, gate=gate)
    numbers = page.with_suffix(".json")
    data = comparison.as_dict() | {"gate": {"metrics": options.gated_metrics, "failures": failures}}
    numbers.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return CompareResult(comparison, page, numbers, failures, gate)


def _gate_failures(options: CompareOptions, comparison: Comparison) -> list[str]:
    """One line per regression beyond the tolerance, or why nothing could be checked."""
    metrics = options.gated_metrics
    if not comparison.checked(metrics):
        why = "; ".join(comparison.notes) or "no interval for any metric"
        return [f"nothing could be checked: {why}"]
    return [
        f"regression beyond {comparison.tolerance_pct:g}%: {_delta_line(row.key, delta)}"
        for row, delta in comparison.regressions(metrics)
    ]


def _gate_text(comparison: Comparison, failures: list[str]) -> str:
    """The gate's outcome in a few words, for the page."""
    beyond = f"beyond {comparison.tolerance_pct:g}%"
    if not failures:
        return f"passed (no regression {beyond})"
    if failures[0].startswith("nothing"):
        return "failed: nothing could be checked"
    return f"failed: {len(failures)} regressions {beyond}"


def _delta_line(key: str, delta: MetricDelta) -> str:
    """``POST /x p95 80 ms -> 120 ms ×1.50 (+50%) [1.41, 1.60]``."""
    from monilab.lab.report.comparepage import METRIC_LABELS, change_text, interval_text, value_text

    return (
        f"{key} {METRIC_LABELS[delta.metric]} {value_text(delta.metric, delta.a)} -> "
        f"{value_text(delta.metric, delta.b)} {change_text(delta)} {interval_text(delta)}"
    )


def report(options: CompareOptions, result: CompareResult) -> str:
    """One summary line, then the regressions, improvements and one-run rows (a few)."""
    from monilab.lab.report.comparepage import verdict_counts
    from sim.load.compare import IMPROVEMENT, REGRESSION

    comparison = result.comparison
    counts = ", ".join(f"{verdict} {n}" for verdict, n in verdict_counts(comparison).items())
    lines = [
        f"monilab compare: {comparison.run_b.run_id} against {comparison.run_a.run_id}: "
        f"{counts} -> {result.page}"
    ]
    for row in comparison.rows:
        if row.presence != "both":
            requests = row.requests_a if row.requests_b is None else row.requests_b
            lines.append(f"  {row.presence:<12} {row.key} ({requests} requests)")
        lines += [
            f"  {delta.verdict:<12} {_delta_line(row.key, delta)}"
            for delta in row.metrics
            if delta.verdict in (REGRESSION, IMPROVEMENT)
        ]
    if len(lines) > REPORT_LINES + 1:
        hidden = len(lines) - REPORT_LINES - 1
        lines = [*lines[: REPORT_LINES + 1], f"  ... {hidden} more on the page"]
    lines += [f"  note: {note}" for note in comparison.notes]
    return "\n".join(lines)


def problems(options: CompareOptions, result: CompareResult) -> str:
    """Why ``--fail-on-regression`` failed, one line per problem."""
    return "\n".join(f"monilab compare: {line}" for line in result.gate_failures)


def status(result: CompareResult) -> int:
    """1 when the regression gate failed, else 0."""
    return exitcodes.THRESHOLDS_FAILED if result.gate_failures else exitcodes.OK


COMMAND = Command(
    name="compare",
    help="compare two load runs: latency, requests/s and failures, with noise-aware verdicts",
    description=(
        "Compare run B against run A (each a `monilab load --out` directory or a lab run "
        "directory) per endpoint and per persona: p50/p95/p99, requests/s and failure rate, "
        "B against A with a block-bootstrap interval over the ledger's time windows and a "
        "verdict (regression, improvement, same within noise or tolerance). Writes an HTML "
        "page and its numbers as JSON; --fail-on-regression PCT exits 1 on a regression "
        "beyond PCT percent."
    ),
    options=CompareOptions,
    run=compare,
    report=report,
    status=status,
    problems=problems,
)
