"""The browser page: journeys in real Chromium and the page timings they measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monilab.lab.report.charts import grouped_bar_plot
from monilab.lab.report.render import Link, Table, facts, relative, write_page

TIMINGS = (
    ("ttfb_ms", "TTFB"),
    ("dom_content_loaded_ms", "DOMContentLoaded"),
    ("load_ms", "load"),
    ("lcp_ms", "LCP"),
)


def write_browser_page(browser_dir: Path, page_path: Path) -> Path:
    """Write the browser page from ``browser_summary.json``."""
    summary: dict[str, Any] = json.loads((browser_dir / "browser_summary.json").read_text("utf-8"))
    pages = summary.get("pages", {})
    names = sorted(pages)
    rows = []
    for name in names:
        row: dict[str, Any] = {"page": name, "loads": pages[name]["loads"]}
        row["errors"] = pages[name]["errors"]
        for key, label in TIMINGS:
            row[f"{label} p50"] = pages[name][key]["p50"]
            row[f"{label} p95"] = pages[name][key]["p95"]
        rows.append(row)
    totals = {
        "journeys ok / total": f"{summary['journeys']['ok']} / {summary['journeys']['total']}",
        "journeys per minute": summary.get("journeys_per_minute"),
        "page loads": summary.get("page_loads"),
        "peak memory (MiB)": (summary.get("peak_memory") or {}).get("total_mib"),
    }
    charts = []
    if names:
        charts.append(
            grouped_bar_plot(
                page_path.parent / "img" / "browser_page_timings.png",
                names,
                {label: [pages[n][key]["p50"] for n in names] for key, label in TIMINGS},
                title="Median page timings in Chromium",
                xlabel="ms",
            )
        )
    columns = ["page", "loads", "errors"] + [
        f"{label} {q}" for _, label in TIMINGS for q in ("p50", "p95")
    ]
    failures = []
    for failure in summary.get("failures", []):
        shot = failure.get("screenshot")
        href = relative(browser_dir / shot, page_path.parent) if shot else None
        failures.append({**failure, "screenshot": Link(href, shot) if href else None})
    return write_page(
        page_path,
        "browser.html",
        title="Browser journeys (Chromium)",
        totals=facts(totals, testid="browser-totals"),
        charts=charts,
        pages=Table(columns, rows, testid="pages"),
        failures=Table(["agent_id", "step", "url", "error"], failures, testid="failures"),
        screenshots=[f["screenshot"] for f in failures if f["screenshot"]],
    )
