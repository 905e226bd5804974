"""The load page: latency percentiles over time, per endpoint and per persona, and the
reconciliation of writes (through the API and against the exported database)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from monilab.lab.report.charts import line_plot
from monilab.lab.report.figures import Chart
from monilab.lab.report.render import Link, Table, cell_text, facts, relative, write_page

RECONCILIATION_KEYS = (
    "sent", "acknowledged", "stored", "missing", "duplicated", "unexpected",
    "unacknowledged", "unacknowledged_stored", "ok",
)  # fmt: skip


def history_series(history_csv: Path) -> dict[str, list[float | None]]:
    """Seconds since start, users, requests/s and p50/p95/p99 of Locust's aggregated history."""
    series: dict[str, list[float | None]] = {
        k: [] for k in ("t", "users", "rps", "p50", "p95", "p99")
    }
    start = None
    with open(history_csv, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("Name") != "Aggregated":
                continue
            t = float(row["Timestamp"])
            start = t if start is None else start
            series["t"].append(t - start)
            series["users"].append(float(row["User Count"]))
            series["rps"].append(float(row["Requests/s"]))
            for q, column in (("p50", "50%"), ("p95", "95%"), ("p99", "99%")):
                series[q].append(_number(row.get(column, "")))
    return series


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None  # "N/A" before the first response
    return value if value == value else None


def load_plots(load_dir: Path, img: Path) -> list[Chart]:
    """Latency percentiles and throughput over the run."""
    history = load_dir / "locust_stats_history.csv"
    if not history.is_file():
        return []
    s = history_series(history)
    return [
        line_plot(
            img / "load_latency_over_time.png",
            s["t"],
            {"p50": s["p50"], "p95": s["p95"], "p99": s["p99"]},
            title="Latency percentiles over the run (Locust's current window, all requests)",
            xlabel="seconds since start",
            ylabel="ms",
        ),
        line_plot(
            img / "load_throughput_over_time.png",
            s["t"],
            {"requests/s": s["rps"], "active users": s["users"]},
            title="Throughput and active users over the run",
            xlabel="seconds since start",
            ylabel="count",
        ),
    ]


def write_load_page(load_dir: Path, page_path: Path, db_reconciliation: Path | None) -> Path:
    """Write the load page from ``summary.json`` and Locust's CSV history."""
    summary: dict[str, Any] = json.loads((load_dir / "summary.json").read_text("utf-8"))
    total = summary.get("total", {})
    personas = [{"persona": name, **stats} for name, stats in summary.get("personas", {}).items()]
    latency = ["requests", "failures", "p50_ms", "p95_ms", "p99_ms"]
    recon = [
        {"check": "read back through the API", **(summary.get("reconciliation") or {})},
    ]
    if db_reconciliation is not None and db_reconciliation.is_file():
        recon.append(
            {"check": "exported database", **json.loads(db_reconciliation.read_text("utf-8"))}
        )
    totals = {
        "run id": summary.get("run_id"),
        "shape": summary.get("shape"),
        "peak users": summary.get("peak_users"),
        "run time (s)": summary.get("run_time_s"),
        "requests": total.get("requests"),
        "failures": total.get("failures"),
        "requests/s": total.get("rps"),
        "p50 / p95 / p99 (ms)": " / ".join(
            cell_text(total.get(k)) for k in ("p50_ms", "p95_ms", "p99_ms")
        ),
    }
    return write_page(
        page_path,
        "load.html",
        title="Load (Locust)",
        totals=facts(totals, testid="load-totals"),
        locust_report=Link(
            relative(load_dir / summary["reports"]["html"], page_path.parent),
            "Locust HTML report",
            testid="locust-report",
        ),
        charts=load_plots(load_dir, page_path.parent / "img"),
        reconciliation=Table(["check", *RECONCILIATION_KEYS], recon, testid="reconciliation"),
        personas=Table(["persona", *latency], personas, testid="personas"),
        endpoints=Table(
            ["method", "name", *latency, "rps"], summary.get("endpoints", []), testid="endpoints"
        ),
    )
