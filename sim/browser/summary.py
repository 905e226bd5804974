"""``browser_summary.json``: how the journeys went and how fast the pages were."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

TIMING_COLUMNS: tuple[str, ...] = ("ttfb_ms", "dom_content_loaded_ms", "load_ms", "lcp_ms")


@dataclass(frozen=True)
class StepFailure:
    """Where and why a journey stopped.

    Attributes:
        agent_id: The agent whose journey failed.
        step: The step's name (``add_spending[1]``, ``logout``...).
        url: The page's URL when it failed.
        screenshot: The PNG's path relative to the output directory (None if none was taken).
        error: The error's first line.
    """

    agent_id: str
    step: str
    url: str
    screenshot: str | None
    error: str


@dataclass(frozen=True)
class JourneyResult:
    """One agent's journey: which steps ran, how long it took, how it ended."""

    agent_id: str
    persona: str
    steps: int
    steps_done: int
    seconds: float
    failure: StepFailure | None = None

    @property
    def ok(self) -> bool:
        """Whether every step passed."""
        return self.failure is None


def percentiles(values: Iterable[float | None]) -> dict[str, float | None]:
    """p50 and p95 of the non-null values (None when there are none)."""
    data = np.array([v for v in values if v is not None], dtype=float)
    if not data.size:
        return {"p50": None, "p95": None, "count": 0}
    p50, p95 = np.percentile(data, [50, 95])
    return {"p50": round(float(p50), 1), "p95": round(float(p95), 1), "count": int(data.size)}


def page_stats(events: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per page: loads, error loads, and p50/p95 of TTFB, DOMContentLoaded, load and LCP."""
    pages: dict[str, list[Mapping[str, Any]]] = {}
    for event in events:
        pages.setdefault(str(event["page"]), []).append(event)
    return {
        name: {
            "loads": len(rows),
            "errors": sum(1 for row in rows if int(row["status"]) >= 400),
            **{column: percentiles(row[column] for row in rows) for column in TIMING_COLUMNS},
        }
        for name, rows in sorted(pages.items())
    }


def build_summary(
    *,
    results: Sequence[JourneyResult],
    events: Sequence[Mapping[str, Any]],
    journeys_s: float,
    wall_s: float,
    memory: Mapping[str, Any],
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    """The summary document.

    Args:
        results: Every journey's result.
        events: The page-load rows.
        journeys_s: Seconds from the first journey's start to the last one's end
            (the base of journeys per minute; browser start-up excluded).
        wall_s: Seconds of the whole session, browser start-up and outputs included.
        memory: Peak memory (see :class:`sim.browser.memory.MemorySampler`).
        meta: Run facts to put first (run id, host, agents, concurrency...).
    """
    ok = sum(1 for r in results if r.ok)
    failures = [asdict(r.failure) for r in results if r.failure is not None]
    return {
        **meta,
        "journeys": {"total": len(results), "ok": ok, "failed": len(results) - ok},
        "journeys_per_minute": round(ok / journeys_s * 60.0, 2) if journeys_s > 0 else None,
        "journey_seconds": percentiles(r.seconds for r in results),
        "journeys_time_s": round(journeys_s, 2),
        "wall_time_s": round(wall_s, 2),
        "peak_memory": dict(memory),
        "step_failures": dict(Counter(f["step"] for f in failures)),
        "failures": failures,
        "pages": page_stats(events),
        "page_loads": len(events),
        "by_agent": [
            {
                "agent_id": r.agent_id,
                "persona": r.persona,
                "ok": r.ok,
                "steps": r.steps,
                "steps_done": r.steps_done,
                "seconds": round(r.seconds, 2),
            }
            for r in results
        ],
    }


def write_summary(path: Path, summary: Mapping[str, Any]) -> None:
    """Write the summary as indented UTF-8 JSON."""
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
