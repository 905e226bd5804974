"""The comparison page of two load runs (``monilab compare``): per endpoint and per persona,
each metric of A and B, B against A with its interval, and the verdict (regressions in red).

The text helpers (:func:`value_text`, :func:`change_text`, :func:`interval_text`) are shared
with the command's terminal report, so the page and the terminal say the same thing.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from monilab.lab.report.render import Code, Note, Paragraph, Section, Table, facts, write_page
from sim.load.compare import (
    IMPROVEMENT,
    MIN_BLOCKS,
    REGRESSION,
    ComparedRow,
    Comparison,
    MetricDelta,
)

METRIC_LABELS = {
    "p50_ms": "p50",
    "p95_ms": "p95",
    "p99_ms": "p99",
    "rps": "requests/s",
    "failure_rate": "failure rate",
}
VERDICT_CLASSES = {REGRESSION: "failed", IMPROVEMENT: "ok"}


def value_text(metric: str, value: float | None) -> str:
    """A metric's value with its unit: ``83 ms``, ``12.5/s``, ``0.40%``."""
    if value is None:
        return "—"
    if metric == "failure_rate":
        return f"{value:.2%}"
    if metric == "rps":
        return f"{value:,.2f}/s"
    return f"{value:,.0f} ms"


def change_text(delta: MetricDelta) -> str:
    """B against A: ``×1.50 (+50%)`` for a ratio, ``+1.20 pp`` for the failure rate."""
    if delta.change is None:
        return "—"
    if delta.scale == "difference":
        return f"{delta.change * 100:+.2f} pp"
    if math.isinf(delta.change):
        return "from 0"
    return f"×{delta.change:.2f} ({(delta.change - 1) * 100:+.0f}%)"


def interval_text(delta: MetricDelta) -> str:
    """The interval of the change: ``[1.41, 1.60]`` or ``[+0.80, +1.60] pp``."""
    if delta.low is None or delta.high is None:
        return "—"
    if delta.scale == "difference":
        return f"[{delta.low * 100:+.2f}, {delta.high * 100:+.2f}] pp"
    return f"[{delta.low:.2f}, {delta.high:.2f}]"


def write_compare_page(comparison: Comparison, path: Path, *, gate: str = "") -> Path:
    """Write the comparison page to ``path`` (``gate``: the --fail-on-regression outcome)."""
    level = f"{comparison.confidence:.0%}"
    sections = [
        Section("Runs", tables=[_runs_table(comparison)]),
        _rows_section("Per endpoint", "endpoint", comparison, level),
        _rows_section("Per persona", "persona", comparison, level),
        Section("How to read this page", before=_method(comparison)),
    ]
    return write_page(
        path,
        "sections.html",
        title="Load comparison: run B against run A",
        back=None,
        intro=_intro(comparison, gate),
        sections=sections,
    )


def _intro(comparison: Comparison, gate: str) -> list[Paragraph]:
    counts = verdict_counts(comparison)
    intro: list[Paragraph] = [
        (
            "Run A ",
            Code(str(comparison.run_a.directory)),
            ", run B ",
            Code(str(comparison.run_b.directory)),
            ".",
        ),
        Note(
            "metrics: " + ", ".join(f"{verdict} {count}" for verdict, count in counts.items()),
            testid="counts",
        ),
    ]
    if gate:
        css = "failed" if gate.startswith("failed") else "ok"
        intro.append(Note(f"--fail-on-regression: {gate}", css, testid="gate"))
    intro += [Note(note, "findings", testid="note") for note in comparison.notes]
    return intro


def verdict_counts(comparison: Comparison) -> dict[str, int]:
    """How many metrics got each verdict, regressions first."""
    counts: dict[str, int] = {}
    for row in comparison.rows:
        for delta in row.metrics:
            counts[delta.verdict] = counts.get(delta.verdict, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (item[0] != REGRESSION, item[0])))


def _runs_table(comparison: Comparison) -> Table:
    a, b = comparison.run_a, comparison.run_b
    return facts(
        {
            "run id (A / B)": f"{a.run_id} / {b.run_id}",
            "seconds of load (A / B)": f"{a.duration_s or 0:,.1f} / {b.duration_s or 0:,.1f}",
            "bootstrap blocks (A / B)": f"{a.blocks} / {b.blocks}",
            "block length, s (A / B)": f"{a.block_seconds:g} / {b.block_seconds:g}",
            "resamples": comparison.resamples,
            "seed": comparison.seed,
            "regression tolerance": f"{comparison.tolerance_pct:g}%",
        },
        testid="runs",
    )


def _rows_section(title: str, kind: str, comparison: Comparison, level: str) -> Section:
    interval = f"{level} interval"
    rows = [cells for row in comparison.rows if row.kind == kind for cells in _cells(row, interval)]
    columns = [kind, "requests A", "requests B", "metric", "A", "B", "B vs A", interval, "verdict"]
    table = Table(columns, rows, testid=f"{kind}s", row_testid="id")
    return Section(title, tables=[table] if rows else [], before=[] if rows else ["none"])


def _cells(row: ComparedRow, interval: str) -> list[dict[str, Any]]:
    """One table row per metric; the endpoint or persona and its requests on the first."""
    rows = []
    for index, delta in enumerate(row.metrics):
        css = VERDICT_CLASSES.get(delta.verdict, "findings" if "only" in delta.verdict else "")
        first = index == 0
        rows.append(
            {
                "id": f"{row.kind}:{row.key}:{delta.metric}",
                row.kind: row.key if first else "",
                "requests A": row.requests_a if first else "",
                "requests B": row.requests_b if first else "",
                "metric": METRIC_LABELS[delta.metric],
                "A": value_text(delta.metric, delta.a),
                "B": value_text(delta.metric, delta.b),
                "B vs A": change_text(delta),
                interval: interval_text(delta),
                "verdict": Note(delta.verdict, css) if css else delta.verdict,
            }
        )
    return rows


def _method(comparison: Comparison) -> list[Paragraph]:
    return [
        "B vs A is the ratio B/A for latency percentiles and requests per second, and the "
        "difference B − A (percentage points) for the failure rate.",
        f"Intervals: block bootstrap over the ledger's time windows ({comparison.resamples} "
        "resamples per run, blocks of consecutive windows drawn with replacement, seeded), "
        f"{comparison.confidence:.0%} percentile interval. Endpoints or personas with requests "
        f"in fewer than {MIN_BLOCKS} blocks of a run, runs recorded without time windows, and "
        "latency percentiles a run has too few requests for (p50: 10, p95: 100, p99: 500) "
        "get no interval.",
        f"Verdict: regression when B is worse by more than {comparison.tolerance_pct:g}% "
        "(the tolerance), the whole interval lies on the worse side of no change, and, for "
        "latency, A and B are more than one histogram bucket apart (1 ms under 100 ms, 10 ms "
        "under 1 s, then 100 ms); improvement likewise in the better direction; same (within "
        "noise) when the interval includes no change; same (within tolerance) for a real "
        "change not larger than the tolerance.",
        "A persona's row mixes every endpoint it called, so a change in the endpoint mix moves "
        "it too; requests/s follows the load shape and plan, so compare runs made alike.",
    ]
