"""``monilab load``: persona-shaped Locust load on a running app (Moni, or any app a target
file describes), with reconciliation."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from monilab.contracts import exitcodes
from monilab.lab.commands import Command
from sim.load.options import LoadOptions

log = logging.getLogger(__name__)
PAGE = "load.html"


def load(options: LoadOptions) -> dict[str, Any] | None:
    """Run the load session and write its page; its summary (None for a worker: its master
    reports)."""
    from sim.load.session import run_load_session

    summary = run_load_session(options)
    if summary is not None:
        _write_page(options.out)
    return summary


def _write_page(out: Path) -> None:
    """``OUT/load.html``; a failure is logged with its traceback and never hides the verdict."""
    from monilab.lab.report.loadpage import write_standalone_load_page

    try:
        write_standalone_load_page(out)
    except Exception:
        (out / PAGE).unlink(missing_ok=True)  # never leave an earlier run's page behind
        log.exception("load page %s not written", out / PAGE)


def report(options: LoadOptions, summary: dict[str, Any] | None) -> str:
    """One line: requests, failures, throughput, p95 and the reconciliation."""
    if summary is None:
        return "monilab load: worker finished; the master writes the summary"
    total = summary["total"]
    rec = summary.get("reconciliation") or {}
    if rec.get("declared") is False:
        checked = "reconciliation: not declared by the target (no read-back, no claim)"
    elif not rec:
        checked = "reconciliation: skipped (--no-reconcile)"
    else:
        checked = (
            f"reconciliation missing={rec.get('missing')} duplicated={rec.get('duplicated')} "
            f"unexpected={rec.get('unexpected')}"
        )
    page = options.out / PAGE
    return (
        f"monilab load: {total.get('requests', 0)} requests, {total.get('failures', 0)} failures, "
        f"{total.get('rps', 0):.1f} req/s, p95 {total.get('p95_ms')} ms; {checked}"
        f"{_thresholds_line(summary)} -> {options.out / 'summary.json'}"
        + (f", page {page}" if page.is_file() else "")
    )


def _thresholds_line(summary: dict[str, Any]) -> str:
    """``; thresholds 3/4 met`` (empty without thresholds)."""
    results = summary.get("thresholds") or []
    if not results:
        return ""
    met = sum(1 for t in results if t.get("ok"))
    return f"; thresholds {met}/{len(results)} met"


def problems(options: LoadOptions, summary: dict[str, Any] | None) -> str:
    """One line per threshold not met (stderr), with its value and limit."""
    from sim.load.thresholds import describe_result

    results = (summary or {}).get("thresholds") or []
    return "\n".join(
        f"monilab load: threshold {t['expr']!r} not met: {describe_result(t)}"
        for t in results
        if not t.get("ok")
    )


def status(summary: dict[str, Any] | None) -> int:
    """The run's verdict as an exit status (:mod:`monilab.contracts.exitcodes`): writes lost
    (3) wins over a failed threshold (1); 0 when every check held."""
    rec = (summary or {}).get("reconciliation") or {}
    if rec and rec.get("declared") is not False and not rec.get("ok"):
        return exitcodes.WRITES_LOST
    if any(not t.get("ok") for t in (summary or {}).get("thresholds", [])):
        return exitcodes.THRESHOLDS_FAILED
    return exitcodes.OK


COMMAND = Command(
    name="load",
    help="drive a running app with persona-shaped Locust load",
    description=(
        "Run Locust (headless, in its own process) against an app (Moni, or the one --target "
        "describes): every Locust user replays one agent's decisions; writes Locust's CSV/HTML "
        "reports and summary.json with latency per endpoint and persona and the "
        "reconciliation of writes."
    ),
    options=LoadOptions,
    run=load,
    report=report,
    status=status,
    problems=problems,
)
