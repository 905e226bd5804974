"""The load page of a load output directory (synthetic: summary, ledger windows, history)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from monilab.lab.report.loadpage import (
    MAX_LINES,
    ledger_p95_series,
    write_load_page,
    write_standalone_load_page,
)
from sim.reconcile.ledger import append_lines

T0 = 1_700_000_000.0
PERSONAS = ("yolo_student", "frugal_parent", "steady_worker")
ENDPOINTS = [("POST", "/api/v1/spendings"), ("GET", "/api/v1/spendings [list]")] + [
    ("GET", f"/api/v1/area{k}") for k in range(MAX_LINES)
]  # 10 endpoints: the chart caps them


def _summary(**extra: Any) -> dict[str, Any]:
    rows = [
        {"method": m, "name": n, "requests": 10, "failures": 0, "p50_ms": 5.0, "p95_ms": 9.0,
         "p99_ms": 12.0, "rps": 1.5}
        for m, n in ENDPOINTS
    ]  # fmt: skip
    return {
        "run_id": "run-page",
        "host": "http://127.0.0.1:5000",
        "target": "moni",
        "shape": "ramp",
        "peak_users": 6,
        "run_time_s": 30.0,
        "total": {"requests": 100, "failures": 3, "rps": 15.0, "p50_ms": 5.0, "p95_ms": 9.0,
                  "p99_ms": 12.0},
        "endpoints": rows,
        "personas": {p: {"requests": 30, "failures": 1, "p50_ms": 4.0, "p95_ms": 8.0,
                         "p99_ms": 11.0} for p in PERSONAS},
        "failures": [
            {"method": "POST", "name": "/api/v1/spendings",
             "error": "HTTPError('422 Client Error: amount must be positive')", "occurrences": 3}
        ],
        "reports": {"html": "locust_report.html"},
        "reconciliation": {"declared": True, "sent": 40, "acknowledged": 40, "stored": 40,
                           "missing": 0, "duplicated": 0, "unexpected": 0, "ok": True},
        **extra,
    }  # fmt: skip


def _load_dir(tmp_path: Path, **extra: Any) -> Path:
    out = tmp_path / "load"
    (out / "ledger").mkdir(parents=True)
    (out / "summary.json").write_text(json.dumps(_summary(**extra)), encoding="utf-8")
    (out / "locust_report.html").write_text("<html>locust</html>", encoding="utf-8")
    lines = []
    for window in range(12):  # 12 windows of 2.5 s: 30 s
        for i, persona in enumerate(PERSONAS):
            for j, (method, name) in enumerate(ENDPOINTS):
                ms = 5 + window + 3 * i + j
                lines.append(
                    {"type": "latency", "persona": persona, "method": method, "name": name,
                     "t": T0 + 2.5 * window + 1, "hist": {str(ms): 1 + j, str(ms * 4): 1},
                     "failures": int(j == 0)}
                )  # fmt: skip
    lines.append({"type": "agent", "agent_id": "a1", "persona": PERSONAS[0]})
    append_lines(out / "ledger", lines, name="1")
    with open(out / "locust_stats_history.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Timestamp", "User Count", "Type", "Name", "Requests/s", "50%", "95%",
                         "99%"])  # fmt: skip
        for k in range(30):
            writer.writerow(
                [int(T0) + k, min(k, 6), "", "Aggregated", 3.0, 5, 9, "N/A" if not k else 12]
            )
    return out


SERVER = {
    "log_dir": "/data/request-log",
    "run_id": "run-page",
    "files": 2,
    "requests": 95,
    "p50_ms": 1.25,
    "p95_ms": 3.5,
    "p99_ms": 7.75,
    "endpoints": [
        {"method": "POST", "name": "/api/v1/spendings", "route": "/api/v1/spendings",
         "requests": 10, "p50_ms": 1.25, "p95_ms": 3.5, "p99_ms": 7.75}
    ],
    "unmatched_routes": [
        {"method": "GET", "route": "/api/v1/hidden/<int:x>", "requests": 2, "p50_ms": 0.5,
         "p95_ms": 0.75, "p99_ms": 0.75}
    ],
    "note": "1 route(s) of the log match no Locust endpoint (listed under unmatched_routes)",
}  # fmt: skip

THRESHOLDS = [
    {"expr": "p95<300ms", "scope": "all", "target": None, "metric": "p95", "op": "<",
     "limit": 300, "unit": "ms", "value": 9.0, "ok": True, "verdict": "pass"},
    {"expr": "persona yolo_student: p99<5ms", "scope": "persona", "target": "yolo_student",
     "metric": "p99", "op": "<", "limit": 5, "unit": "ms", "value": 11.0, "ok": False,
     "verdict": "fail", "reason": ""},
    {"expr": "rps>200", "scope": "all", "target": None, "metric": "rps", "op": ">", "limit": 200,
     "unit": "req/s", "value": None, "ok": False, "verdict": "no data",
     "reason": "no requests/s in the summary"},
]  # fmt: skip


def test_the_standalone_page_shows_every_part(tmp_path):
    out = _load_dir(tmp_path, server=SERVER, thresholds=THRESHOLDS)
    page = write_standalone_load_page(out)
    assert page == out / "load.html"
    html = page.read_text(encoding="utf-8")
    for name in ("/api/v1/spendings [list]", "/api/v1/area7", *PERSONAS):
        assert name in html
    assert "amount must be positive" in html
    assert "persona yolo_student: p99&lt;5ms" in html and "1 of 3 thresholds passed" in html
    assert "no requests/s in the summary" in html and '<span class="findings">no data' in html
    assert "server p95_ms" in html and "3.5" in html and "7.75" in html
    assert "/api/v1/hidden/&lt;int:x&gt;" in html  # unmatched routes are listed
    assert f"the {MAX_LINES} busiest of 10 endpoints" in html
    assert 'href="locust_report.html"' in html and "../index.html" not in html
    images = sorted(p.name for p in (out / "img").glob("*.png"))
    assert images == [
        "load_latency_over_time.png",
        "load_p95_per_endpoint.png",
        "load_p95_per_persona.png",
        "load_throughput_over_time.png",
    ]
    assert all((out / "img" / name).stat().st_size > 1000 for name in images)
    assert 'src="img/load_p95_per_persona.png"' in html


def test_without_server_time_or_thresholds_the_page_says_how_to_get_them(tmp_path):
    out = _load_dir(tmp_path)
    html = write_standalone_load_page(out).read_text(encoding="utf-8")
    assert "--server-log DIR" in html and "server p95_ms" not in html
    assert "No thresholds were set" in html


def test_the_lab_page_keeps_its_place_and_adds_the_database_check(tmp_path):
    out = _load_dir(tmp_path)
    db = tmp_path / "export" / "reconciliation.json"
    db.parent.mkdir()
    db.write_text(json.dumps({"stored": 40, "missing": 0, "ok": True}), encoding="utf-8")
    page = write_load_page(out, tmp_path / "report" / "load.html", db)
    html = page.read_text(encoding="utf-8")
    assert "exported database" in html and "../index.html" in html
    assert 'href="../load/locust_report.html"' in html
    assert (tmp_path / "report" / "img" / "load_p95_per_endpoint.png").is_file()


def test_a_load_dir_without_ledger_or_history_still_gets_a_page(tmp_path):
    out = tmp_path / "bare"
    out.mkdir()
    summary = _summary(reconciliation={"declared": False, "ok": None, "note": "not declared"})
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    html = write_standalone_load_page(out).read_text(encoding="utf-8")
    assert "ledger has no timed latency windows" in html and "not declared" in html
    assert not (out / "img").exists()


def _window(t: float, ms: int, persona: str = "p") -> dict[str, Any]:
    return {"type": "latency", "persona": persona, "method": "GET", "name": "/a", "t": T0 + t,
            "hist": {str(ms): 1}, "failures": 0}  # fmt: skip


def test_p95_over_time_sums_the_windows_of_each_bucket():
    lines = [_window(t, ms) for t, ms in ((0, 10), (1, 20), (2, 30), (3, 40), (30, 90))]
    lines.append({"type": "latency", "persona": "q", "method": "GET", "name": "/a", "hist": {}})
    series = ledger_p95_series(lines, origin=T0 - 1)
    by_endpoint = series["endpoint"]
    assert by_endpoint["t"] == [2.5 + 5 * k for k in range(7)]  # 5 s from the history's start
    assert by_endpoint["series"] == {"GET /a": [40.0, None, None, None, None, None, 90.0]}
    assert by_endpoint["requests"] == {"GET /a": 5}
    assert set(series["persona"]["series"]) == {"p"}  # a window without time is left out


def test_a_short_run_gets_a_few_points_per_line():
    lines = [_window(t, 10 * (k + 1)) for k, t in enumerate((0.0, 2.0, 4.0, 6.0, 8.0))]
    series = ledger_p95_series(lines)["persona"]
    assert series["t"] == [1.0, 3.0, 5.0, 7.0, 9.0]  # 2 s buckets, not one 5 s bucket
    assert series["series"]["p"] == [10.0, 20.0, 30.0, 40.0, 50.0]


def test_a_page_failure_is_logged_and_leaves_no_stale_page(tmp_path, monkeypatch, caplog):
    from monilab.lab.commands import load as command
    from monilab.lab.report import loadpage

    out = tmp_path / "load"
    out.mkdir()
    (out / "load.html").write_text("an earlier run's page", encoding="utf-8")

    def broken(load_dir: Path) -> Path:
        raise KeyError("total")

    monkeypatch.setattr(loadpage, "write_standalone_load_page", broken)
    command._write_page(out)  # never raises: the run's verdict stands
    assert not (out / "load.html").exists()
    assert "load page" in caplog.text and "KeyError" in caplog.text


def test_the_report_line_names_the_page(tmp_path):
    from monilab.lab.commands.load import report
    from sim.load.options import LoadOptions

    out = _load_dir(tmp_path)
    options = LoadOptions(host="http://127.0.0.1:1", out=out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert ", page " not in report(options, summary)
    write_standalone_load_page(out)
    assert report(options, summary).endswith(f", page {out / 'load.html'}")
