"""The load page: latency and throughput over the run, p95 over time per endpoint and per
persona, client time beside server time per endpoint, failures with their messages,
thresholds and the reconciliation of writes (through the API and, in the lab run, against
the exported database).

Everything comes from a load output directory: ``summary.json``, Locust's
``locust_stats_history.csv`` and the ledger (``ledger/ledger-*.jsonl``), whose latency lines
are one flush window (a few seconds) of one persona on one endpoint.

Example::

    write_standalone_load_page(Path("out/load"))  # out/load/load.html, out/load/img/*.png
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from monilab.lab.report.charts import line_plot
from monilab.lab.report.figures import Chart, new_figure, save_png
from monilab.lab.report.render import (
    Code,
    Link,
    Note,
    Paragraph,
    Section,
    Table,
    cell_text,
    facts,
    relative,
    write_page,
)
from sim.load.summary import percentile_from_hist
from sim.reconcile.ledger import read_ledger

__all__ = [
    "endpoint_label",
    "history_series",
    "ledger_p95_series",
    "load_plots",
    "write_load_page",
    "write_standalone_load_page",
]

PAGE_NAME = "load.html"
RECONCILIATION_KEYS = (
    "sent", "acknowledged", "stored", "missing", "duplicated", "unexpected",
    "unacknowledged", "unacknowledged_stored", "ok",
)  # fmt: skip
LATENCY = ("requests", "failures", "p50_ms", "p95_ms", "p99_ms")
SERVER_KEYS = ("requests", "p50_ms", "p95_ms", "p99_ms")
SERVER = tuple(f"server {k}" for k in SERVER_KEYS)
MAX_LINES = 8
"""Lines on one over-time chart: the busiest endpoints or personas."""
MAX_BUCKETS = 60
MIN_BUCKET_S = 5.0
FLUSH_S = 2.0
"""About how often a Locust process writes its latency windows to the ledger."""
THRESHOLD_COLUMNS = (
    "expr", "scope", "target", "metric", "op", "limit", "unit", "value", "verdict", "reason",
)  # fmt: skip
VERDICT_CLASS = {"pass": "ok", "fail": "failed", "no data": "findings"}


def write_standalone_load_page(load_dir: Path) -> Path:
    """``<load_dir>/load.html`` (figures in ``<load_dir>/img``) for ``monilab load`` on its
    own: no lab index to go back to, no exported database."""
    return write_load_page(load_dir, load_dir / PAGE_NAME, None, back=None)


def write_load_page(
    load_dir: Path,
    page_path: Path,
    db_reconciliation: Path | None,
    *,
    back: str | None = "../index.html",
) -> Path:
    """Write the load page of ``load_dir`` to ``page_path`` (figures in its ``img/``)."""
    summary: dict[str, Any] = json.loads((load_dir / "summary.json").read_text("utf-8"))
    img = page_path.parent / "img"
    origin = _history_start(load_dir / "locust_stats_history.csv")
    over_time = ledger_p95_series(_latency_lines(load_dir / "ledger"), origin)
    return write_page(
        page_path,
        "sections.html",
        title="Load (Locust)",
        back=back,
        intro=[],
        sections=[
            _run_section(summary, load_dir, page_path),
            Section("Over the run", figures=load_plots(load_dir, img)),
            *_endpoint_sections(summary, over_time["endpoint"], img),
            _persona_section(summary, over_time["persona"], img),
            _failure_section(summary),
            _threshold_section(summary),
            _reconciliation_section(summary, db_reconciliation),
        ],
    )


def _run_section(summary: Mapping[str, Any], load_dir: Path, page_path: Path) -> Section:
    total = summary.get("total", {})
    totals = {
        "run id": summary.get("run_id"),
        "target": summary.get("target"),
        "host": summary.get("host"),
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
    server = summary.get("server")
    if server:
        totals["server p50 / p95 / p99 (ms)"] = " / ".join(
            cell_text(server.get(k)) for k in ("p50_ms", "p95_ms", "p99_ms")
        )
    after: list[Paragraph] = []
    html = (summary.get("reports") or {}).get("html")
    if html:
        link = Link(
            relative(load_dir / html, page_path.parent), "Locust HTML report", "locust-report"
        )
        after.append((link,))
    return Section("Run", tables=[facts(totals, testid="load-totals")], after=after)


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


def _history_start(history_csv: Path) -> float | None:
    """The Unix time of Locust's first aggregated history row (the charts' zero)."""
    if not history_csv.is_file():
        return None
    with open(history_csv, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("Name") == "Aggregated":
                return float(row["Timestamp"])
    return None


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
    if not s["t"]:
        return []
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


def _latency_lines(ledger_dir: Path) -> list[dict[str, Any]]:
    if not ledger_dir.is_dir():
        return []
    return [line for line in read_ledger(ledger_dir) if line.get("type") == "latency"]


def endpoint_label(line: Mapping[str, Any]) -> str:
    """``METHOD name`` of a ledger latency line (or a summary row)."""
    return f"{line.get('method') or ''} {line.get('name', '')}".strip()


def ledger_p95_series(
    lines: Iterable[Mapping[str, Any]], origin: float | None = None
) -> dict[str, dict[str, Any]]:
    """p95 over time per endpoint and per persona from the ledger's latency windows.

    Windows are summed into time buckets (5 s or more, at most 60 of them; a short run
    gets 4 buckets of 2 s or more). Returns, for
    ``"endpoint"`` and ``"persona"``: ``{"t": [bucket mid, s since origin], "series":
    {label: [p95 or None]}, "requests": {label: n}}`` (empty when no line has a time).
    """
    timed = [line for line in lines if isinstance(line.get("t"), int | float)]
    empty: dict[str, Any] = {"t": [], "series": {}, "requests": {}}
    if not timed:
        return {"endpoint": empty, "persona": dict(empty)}
    first = min(float(line["t"]) for line in timed)
    zero = first if origin is None else min(origin, first)
    span = max(float(line["t"]) for line in timed) - zero
    width = max(MIN_BUCKET_S, math.ceil(span / MAX_BUCKETS))
    if span < 4 * width:  # a short run still gets a few points per line
        width = max(FLUSH_S, span / 4)
    count = int(span // width) + 1
    mids = [round((k + 0.5) * width, 3) for k in range(count)]
    out = {}
    for kind, label_of in (("endpoint", endpoint_label), ("persona", _persona_of)):
        hists: dict[str, list[dict[int, int]]] = defaultdict(lambda: [{} for _ in range(count)])
        for line in timed:
            bucket = hists[label_of(line)][int((float(line["t"]) - zero) // width)]
            for ms, n in line["hist"].items():
                bucket[int(ms)] = bucket.get(int(ms), 0) + int(n)
        out[kind] = {
            "t": mids,
            "series": {
                label: [percentile_from_hist(h, 0.95) for h in buckets]
                for label, buckets in hists.items()
            },
            "requests": {
                label: sum(sum(h.values()) for h in buckets) for label, buckets in hists.items()
            },
        }
    return out


def _persona_of(line: Mapping[str, Any]) -> str:
    return str(line.get("persona", ""))


def _over_time_chart(
    data: Mapping[str, Any], path: Path, what: str
) -> tuple[list[Chart], list[Paragraph]]:
    """One p95-over-time chart of the busiest ``MAX_LINES`` series, and what it leaves out."""
    if not data["series"]:
        return [], [f"No p95 over time per {what}: the ledger has no timed latency windows."]
    busiest = sorted(data["requests"], key=lambda k: (-data["requests"][k], k))[:MAX_LINES]
    title = f"p95 latency per {what} over the run"
    notes: list[Paragraph] = []
    if len(data["series"]) > MAX_LINES:
        title += f" ({MAX_LINES} busiest)"
        notes.append(
            f"The chart shows the {MAX_LINES} busiest of {len(data['series'])} {what}s; "
            "the table lists them all."
        )
    return [_sparse_lines(path, data["t"], {k: data["series"][k] for k in busiest}, title)], notes


def _sparse_lines(
    path: Path, x: list[float], series: Mapping[str, list[float | None]], title: str
) -> Chart:
    """Lines through each series' buckets that have requests (a quiet endpoint's few points
    stay visible), one marker per bucket."""
    fig, ax = new_figure(figsize=(6.4, 3.6))
    points = 0
    for label, ys in series.items():
        kept = [(t, y) for t, y in zip(x, ys, strict=True) if y is not None]
        points += len(kept)
        ax.plot([t for t, _ in kept], [y for _, y in kept], marker=".", linewidth=1.2, label=label)
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("ms")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", ncols=2)
    return save_png(fig, path, caption=title, points=points)


def _endpoint_sections(
    summary: Mapping[str, Any], over_time: Mapping[str, Any], img: Path
) -> list[Section]:
    """Client time per endpoint (and server time beside it when the request log was read),
    then the log's routes that no endpoint matched."""
    charts, notes = _over_time_chart(over_time, img / "load_p95_per_endpoint.png", "endpoint")
    server = summary.get("server")
    rows = [dict(row) for row in summary.get("endpoints", [])]
    if not server:
        notes.append(
            (
                "Server time: not measured. Give the app's request log with ",
                Code("--server-log DIR"),
                " (Moni on this machine is found by itself).",
            )
        )
        table = Table(["method", "name", *LATENCY, "rps"], rows, testid="endpoints")
        return [Section("Per endpoint", figures=charts, tables=[table], after=notes)]
    by_endpoint = {(r.get("method"), r.get("name")): r for r in server.get("endpoints", [])}
    for row in rows:
        match = by_endpoint.get((row.get("method"), row.get("name"))) or {}
        row.update({f"server {k}": match.get(k) for k in SERVER_KEYS})
    notes.append(
        "Client time is Locust's (network and client included); server time is the app's "
        f"own, from its request log {server.get('log_dir', '')}."
    )
    if server.get("note"):
        notes.append(Note(f"server log: {server['note']}", "findings", "server-note"))
    table = Table(["method", "name", *LATENCY, *SERVER, "rps"], rows, testid="endpoints")
    sections = [Section("Per endpoint", figures=charts, tables=[table], after=notes)]
    unmatched = server.get("unmatched_routes") or []
    if unmatched:
        columns = ["method", "route", "requests", "p50_ms", "p95_ms", "p99_ms"]
        sections.append(
            Section(
                "Request log routes that match no Locust endpoint",
                before=["Server time of this run's requests whose route no endpoint names."],
                tables=[Table(columns, unmatched, testid="unmatched-routes")],
                level=3,
            )
        )
    return sections


def _persona_section(
    summary: Mapping[str, Any], over_time: Mapping[str, Any], img: Path
) -> Section:
    charts, notes = _over_time_chart(over_time, img / "load_p95_per_persona.png", "persona")
    personas = [{"persona": name, **stats} for name, stats in summary.get("personas", {}).items()]
    table = Table(["persona", *LATENCY], personas, testid="personas")
    return Section("Per persona", figures=charts, tables=[table], after=notes)


def _failure_section(summary: Mapping[str, Any]) -> Section:
    failures = summary.get("failures") or []
    if not failures:
        return Section("Failures", before=[Note("No request failed.", "ok", "no-failures")])
    table = Table(["method", "name", "error", "occurrences"], failures, testid="failures")
    return Section(
        "Failures",
        before=["Locust's failures with their messages, most frequent first."],
        tables=[table],
    )


def _threshold_section(summary: Mapping[str, Any]) -> Section:
    thresholds = summary.get("thresholds") or []
    if not thresholds:
        return Section(
            "Thresholds",
            before=[("No thresholds were set (e.g. ", Code("--threshold 'p95<300ms'"), ").")],
        )
    rows = [
        {
            **t,
            "verdict": Note(str(t.get("verdict")), VERDICT_CLASS.get(str(t.get("verdict")), "")),
        }
        for t in thresholds
    ]
    passed = sum(1 for t in thresholds if t.get("ok"))
    verdict = Note(
        f"{passed} of {len(thresholds)} thresholds passed",
        "ok" if passed == len(thresholds) else "failed",
        "threshold-verdict",
    )
    table = Table(THRESHOLD_COLUMNS, rows, testid="thresholds")
    return Section("Thresholds", before=[verdict], tables=[table])


def _reconciliation_section(summary: Mapping[str, Any], db_reconciliation: Path | None) -> Section:
    title = "Reconciliation of acknowledged writes"
    api = summary.get("reconciliation")
    if not api:
        return Section(title, before=["Skipped (--no-reconcile): no claim about lost writes."])
    if api.get("declared") is False:
        return Section(title, before=[Note(str(api.get("note")), "findings", "reconciliation")])
    recon = [{"check": "read back through the API", **api}]
    if db_reconciliation is not None and db_reconciliation.is_file():
        recon.append(
            {"check": "exported database", **json.loads(db_reconciliation.read_text("utf-8"))}
        )
    table = Table(["check", *RECONCILIATION_KEYS], recon, testid="reconciliation")
    return Section(title, tables=[table])
