"""``monilab browse``: agents' journeys through the app's HTML pages in real Chromium."""

from __future__ import annotations

from typing import Any

from monilab.lab.commands import Command
from sim.browser.options import BrowseOptions


def browse(options: BrowseOptions) -> dict[str, Any]:
    """Run the journeys; returns ``browser_summary.json``'s content."""
    from sim.browser.runner import run_browse

    return run_browse(options)


def report(options: BrowseOptions, summary: dict[str, Any]) -> str:
    """One line: journeys ok, rate, worst page p95, peak memory."""
    from sim.browser.runner import SUMMARY_NAME

    journeys = summary["journeys"]
    load = [page["load_ms"]["p95"] for page in summary["pages"].values() if page["load_ms"]["p95"]]
    return (
        f"monilab browse: {journeys['ok']}/{journeys['total']} journeys ok, "
        f"{summary['journeys_per_minute']} journeys/min, worst page p95 load "
        f"{max(load, default=None)} ms, peak memory {summary['peak_memory']['total_mib']} MiB "
        f"-> {options.out / SUMMARY_NAME}"
    )


def status(summary: dict[str, Any]) -> int:
    """1 when a journey failed."""
    return 0 if summary["journeys"]["failed"] == 0 else 1


COMMAND = Command(
    name="browse",
    help="replay agents' journeys through the HTML pages in Chromium (Playwright)",
    description=(
        "Run agents' journeys (sign-up, mydata, spendings through the form, history, "
        "analysis, type, goal, notifications, logout, as the target file's [journeys] "
        "declare them; Moni's by default) in one headless Chromium, one "
        "browser context per agent. Writes browser_summary.json (journeys, failures with "
        "screenshots, page timing percentiles, journeys per minute, peak memory) and the "
        "page timings as an events dataset in OUT/events."
    ),
    options=BrowseOptions,
    run=browse,
    report=report,
    status=status,
)
