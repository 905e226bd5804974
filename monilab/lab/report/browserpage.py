"""The browser page: journeys in real Chromium and the page timings they measured."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from monilab.lab.report.html import facts_table, link, table, write_page
from monilab.lab.report.plots import grouped_bar_plot

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
    body = facts_table(
        {
            "journeys ok / total": f"{summary['journeys']['ok']} / {summary['journeys']['total']}",
            "journeys per minute": summary.get("journeys_per_minute"),
            "page loads": summary.get("page_loads"),
            "peak memory (MiB)": (summary.get("peak_memory") or {}).get("total_mib"),
        },
        testid="browser-totals",
    )
    if names:
        plot = grouped_bar_plot(
            page_path.parent / "img" / "browser_page_timings.png",
            names,
            {label: [pages[n][key]["p50"] for n in names] for key, label in TIMINGS},
            title="Median page timings in Chromium",
            xlabel="ms",
        )
        body += plot.html(page_path.parent)
    columns = ["page", "loads", "errors"] + [
        f"{label} {q}" for _, label in TIMINGS for q in ("p50", "p95")
    ]
    body += "<h2>Per page</h2>" + table(rows, columns, testid="pages")
    failures = []
    for failure in summary.get("failures", []):
        shot = failure.get("screenshot")
        href = os.path.relpath(browser_dir / shot, page_path.parent) if shot else None
        failures.append({**failure, "screenshot": link(href, shot) if href else None})
    if failures:
        body += "<h2>Failed journeys</h2>" + table(
            failures, ["agent_id", "step", "url", "error"], testid="failures"
        )
        body += "".join(f"<p>{f['screenshot']}</p>" for f in failures if f["screenshot"])
    return write_page(page_path, "Browser journeys (Chromium)", body, back="../index.html")
