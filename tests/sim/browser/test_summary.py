"""Summary figures and memory readings (no browser)."""

from __future__ import annotations

import subprocess
import sys

from sim.browser.memory import MemorySampler, python_peak_mib
from sim.browser.summary import JourneyResult, StepFailure, build_summary, percentiles


def _event(page: str, load: float, status: int = 200) -> dict:
    return {
        "page": page,
        "status": status,
        "ttfb_ms": load / 4,
        "dom_content_loaded_ms": load / 2,
        "load_ms": load,
        "lcp_ms": None,
    }


def test_percentiles_skip_nulls() -> None:
    assert percentiles([None, 10.0, 20.0, 30.0]) == {"p50": 20.0, "p95": 29.0, "count": 3}
    assert percentiles([None]) == {"p50": None, "p95": None, "count": 0}


def test_summary_counts_journeys_failures_and_pages() -> None:
    failure = StepFailure(
        "a1", "add_spending[0]", "http://x/spending/new/", "screenshots/a1.png", "boom"
    )
    results = [
        JourneyResult("a0", "p", steps=5, steps_done=5, seconds=10.0),
        JourneyResult("a1", "p", steps=5, steps_done=2, seconds=4.0, failure=failure),
    ]
    events = [_event("home", 100.0), _event("home", 200.0), _event("unknown", 5.0, status=404)]
    summary = build_summary(
        results=results,
        events=events,
        journeys_s=30.0,
        wall_s=33.0,
        memory={"total_mib": 1.0},
        meta={"run_id": "r"},
    )
    assert summary["run_id"] == "r"
    assert summary["journeys"] == {"total": 2, "ok": 1, "failed": 1}
    assert summary["journeys_per_minute"] == 2.0
    assert summary["step_failures"] == {"add_spending[0]": 1}
    assert summary["failures"][0]["screenshot"] == "screenshots/a1.png"
    home = summary["pages"]["home"]
    assert home["loads"] == 2 and home["errors"] == 0
    assert home["load_ms"]["p50"] == 150.0 and home["lcp_ms"]["count"] == 0
    assert summary["pages"]["unknown"]["errors"] == 1


def test_memory_of_child_processes_and_of_this_process() -> None:
    assert python_peak_mib() > 0
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        sampler = MemorySampler(sys.executable)
        sampler.sample()
        assert sampler.peak_browser_mib > 0  # the child runs the "browser" executable
    finally:
        child.kill()
        child.wait()
    report = sampler.report()
    assert report["python_mib"] > 0 and report["samples"] == 1
