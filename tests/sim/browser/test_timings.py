"""Navigation entries to timings and events rows (no browser)."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pandas as pd

from monilab.contracts.tables import conform
from sim.browser.timings import PageTiming, timing_event, timing_from_entry

ENTRY = {
    "startTime": 0,
    "requestStart": 7.0,
    "responseStart": 27.5,
    "domContentLoadedEventStart": 80.25,
    "loadEventStart": 120.0,
    "loadEventEnd": 121.0,
    "transferSize": 2996,
    "encodedBodySize": 2696,
    "lcp": 130.4,
}


def test_timings_from_a_full_entry() -> None:
    timing = timing_from_entry(ENTRY)
    assert timing == PageTiming(
        ttfb_ms=20.5, dom_content_loaded_ms=80.25, load_ms=121.0, lcp_ms=130.4, bytes=2996
    )


def test_missing_fields_fall_back_or_stay_null() -> None:
    entry = {**ENTRY, "requestStart": 0, "loadEventEnd": 0, "transferSize": 0, "lcp": None}
    timing = timing_from_entry(entry)
    assert timing.ttfb_ms == 27.5  # responseStart - startTime
    assert timing.load_ms == 120.0  # loadEventStart while the load event runs
    assert timing.bytes == 2696
    assert timing.lcp_ms is None
    assert timing_from_entry(None) == PageTiming()
    assert timing_from_entry({"startTime": 0, "responseStart": 0}).ttfb_ms is None


def test_events_rows_fit_the_contract() -> None:
    event = partial(timing_event, ts=dt.datetime(2024, 3, 1, 9), run_id="r", agent_id="a")
    full = event(timing_from_entry(ENTRY), page="home", route="/", status=200, elapsed_ms=300.0)
    bare = event(
        PageTiming(),
        page="unknown",
        route="<unmatched>",
        status=404,
        elapsed_ms=12.5,
        body_bytes=207,
    )
    assert full["latency_ms"] == 121.0 and full["source"] == "browser"
    assert bare["latency_ms"] == 12.5 and bare["bytes"] == 207
    table = conform("events", pd.DataFrame([full, bare]))
    assert table.num_rows == 2
    assert {"page", "ttfb_ms", "dom_content_loaded_ms", "load_ms", "lcp_ms"} <= set(
        table.column_names
    )
