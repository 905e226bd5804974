"""Navigation timings of one page load, read from Chromium after the load event.

One evaluation per page reads ``performance.getEntriesByType('navigation')[0]`` (waiting
briefly for ``loadEventEnd`` when the load event is still running) and the latest
``largest-contentful-paint`` entry through a buffered ``PerformanceObserver``. All times are
milliseconds from the navigation's ``startTime``, except TTFB, which is
``responseStart - requestStart`` (``- startTime`` when ``requestStart`` is not reported).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.async_api import Page

KST = dt.timezone(dt.timedelta(hours=9))
"""Lab timestamps are naive Korean local time (see :mod:`monilab.contracts`)."""

TIMING_SCRIPT = """
async () => {
  const nav = performance.getEntriesByType('navigation')[0];
  if (!nav) return null;
  for (let i = 0; i < 40 && nav.loadEventEnd === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const lcp = await new Promise((resolve) => {
    const types = PerformanceObserver.supportedEntryTypes || [];
    if (!types.includes('largest-contentful-paint')) return resolve(null);
    const observer = new PerformanceObserver((list) => {
      const entries = list.getEntries();
      if (entries.length) {
        observer.disconnect();
        resolve(entries[entries.length - 1].startTime);
      }
    });
    observer.observe({type: 'largest-contentful-paint', buffered: true});
    setTimeout(() => { observer.disconnect(); resolve(null); }, 150);
  });
  return {
    startTime: nav.startTime,
    requestStart: nav.requestStart,
    responseStart: nav.responseStart,
    domContentLoadedEventStart: nav.domContentLoadedEventStart,
    loadEventStart: nav.loadEventStart,
    loadEventEnd: nav.loadEventEnd,
    transferSize: nav.transferSize,
    encodedBodySize: nav.encodedBodySize,
    responseStatus: nav.responseStatus,
    lcp: lcp,
  };
}
"""


@dataclass(frozen=True)
class PageTiming:
    """What the browser reports about one navigation (None: not reported)."""

    ttfb_ms: float | None = None
    dom_content_loaded_ms: float | None = None
    load_ms: float | None = None
    lcp_ms: float | None = None
    bytes: int | None = None


def _since_start(entry: Mapping[str, Any], key: str) -> float | None:
    value = float(entry.get(key) or 0.0)
    return round(value - float(entry.get("startTime") or 0.0), 3) if value > 0 else None


def timing_from_entry(entry: Mapping[str, Any] | None) -> PageTiming:
    """A :class:`PageTiming` from what :data:`TIMING_SCRIPT` returned.

    Args:
        entry: The script's result (fields of the navigation entry plus ``lcp``), or None
            when the page had no navigation entry.
    """
    if not entry:
        return PageTiming()
    response_start = float(entry.get("responseStart") or 0.0)
    request_start = float(entry.get("requestStart") or 0.0)
    origin = request_start if request_start > 0 else float(entry.get("startTime") or 0.0)
    ttfb = round(response_start - origin, 3) if response_start > 0 else None
    load = _since_start(entry, "loadEventEnd") or _since_start(entry, "loadEventStart")
    size = int(entry.get("transferSize") or 0) or int(entry.get("encodedBodySize") or 0)
    lcp = entry.get("lcp")
    return PageTiming(
        ttfb_ms=ttfb,
        dom_content_loaded_ms=_since_start(entry, "domContentLoadedEventStart"),
        load_ms=load,
        lcp_ms=round(float(lcp), 3) if lcp is not None else None,
        bytes=size or None,
    )


async def measure(page: Page) -> PageTiming:
    """The timings of the page's current document (call after its load event)."""
    return timing_from_entry(await page.evaluate(TIMING_SCRIPT))


def now_kst() -> dt.datetime:
    """Now as a naive Korean local time."""
    return dt.datetime.now(KST).replace(tzinfo=None)


def timing_event(
    timing: PageTiming,
    *,
    ts: dt.datetime,
    run_id: str,
    agent_id: str,
    page: str,
    route: str,
    status: int,
    elapsed_ms: float,
    method: str = "GET",
    body_bytes: int | None = None,
) -> dict[str, Any]:
    """One ``events`` row (source ``browser``) for a page load.

    Args:
        timing: The browser's timings of the page.
        ts: When the navigation started (naive Korean local time).
        run_id: The run's id (``X-Run-Id``).
        agent_id: The agent's id (``X-Agent-Id``).
        page: The journey's name of the page (``history``, ``add_spending``...).
        route: The app's URL rule of the page (``/spending-history/<day>/``).
        status: HTTP status of the navigation response.
        method: Method of the request that produced the document (GET after a redirect).
        elapsed_ms: Wall time of the navigation seen from Python, used as ``latency_ms``
            only when the browser reported no load time.
        body_bytes: Response body length, used when the browser reported no size.
    """
    return {
        "ts": ts,
        "run_id": run_id,
        "user_id": None,
        "agent_id": agent_id,
        "source": "browser",
        "method": method,
        "route": route,
        "status": status,
        "latency_ms": timing.load_ms if timing.load_ms is not None else round(elapsed_ms, 3),
        "bytes": timing.bytes if timing.bytes is not None else body_bytes,
        "page": page,
        "ttfb_ms": timing.ttfb_ms,
        "dom_content_loaded_ms": timing.dom_content_loaded_ms,
        "load_ms": timing.load_ms,
        "lcp_ms": timing.lcp_ms,
    }
