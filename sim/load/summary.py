"""``summary.json`` of a load run: throughput, latency per endpoint and per persona.

Per-endpoint numbers come from Locust's own CSV (``locust_stats.csv``), failures with their
messages from ``locust_failures.csv`` (a request a target could not even build is there with
its reason); per-persona
numbers from the ledger's latency histograms (Locust's rounding, so percentiles agree with
Locust's to its resolution). The reconciliation block is added by the caller.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

PERCENTILES = (0.5, 0.9, 0.95, 0.99)


def percentile_from_hist(hist: Mapping[int, int], q: float) -> float | None:
    """The q-quantile of a {latency_ms: count} histogram (nearest rank), None when empty."""
    total = sum(hist.values())
    if total == 0:
        return None
    rank = max(1, int(q * total + 0.999999))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return float(value)
    return float(max(hist))


def endpoint_stats(stats_csv: str | Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-endpoint rows and the aggregated row from Locust's ``*_stats.csv``."""
    rows: list[dict[str, Any]] = []
    total: dict[str, Any] = {}
    path = Path(stats_csv)
    if not path.is_file():
        return rows, total
    with open(path, newline="", encoding="utf-8") as fh:
        for record in csv.DictReader(fh):
            row = {
                "method": record["Type"],
                "name": record["Name"],
                "requests": int(record["Request Count"]),
                "failures": int(record["Failure Count"]),
                "rps": float(record["Requests/s"]),
                "avg_ms": float(record["Average Response Time"]),
                "p50_ms": _number(record["50%"]),
                "p90_ms": _number(record.get("90%", "N/A")),
                "p95_ms": _number(record["95%"]),
                "p99_ms": _number(record["99%"]),
                "max_ms": float(record["Max Response Time"]),
            }
            if record["Name"] == "Aggregated":
                total = row
            else:
                rows.append(row)
    return rows, total


def failure_messages(failures_csv: str | Path, limit: int = 50) -> list[dict[str, Any]]:
    """Locust's failures (``*_failures.csv``): method, endpoint, error and occurrences, most
    frequent first (at most ``limit``)."""
    path = Path(failures_csv)
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [
            {
                "method": row.get("Method", ""),
                "name": row.get("Name", ""),
                "error": row.get("Error", ""),
                "occurrences": int(row.get("Occurrences") or 0),
            }
            for row in csv.DictReader(fh)
        ]
    return sorted(rows, key=lambda r: -int(r["occurrences"]))[:limit]


def persona_stats(ledger_lines: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Requests, failures, p50/p90/p95/p99, average and maximum per persona, merged over every
    process (from the histograms: Locust's rounding)."""
    hists: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    failures: dict[str, int] = defaultdict(int)
    for line in ledger_lines:
        if line.get("type") != "latency":
            continue
        persona = line["persona"]
        for bucket, count in line["hist"].items():
            hists[persona][int(bucket)] += int(count)
        failures[persona] += int(line.get("failures", 0))
    result = {}
    for persona in sorted(hists):
        hist = hists[persona]
        result[persona] = {
            "requests": sum(hist.values()),
            "failures": failures[persona],
            **{f"p{round(q * 100)}_ms": percentile_from_hist(hist, q) for q in PERCENTILES},
            "avg_ms": mean_from_hist(hist),
            "max_ms": percentile_from_hist(hist, 1.0),
        }
    return result


def mean_from_hist(hist: Mapping[int, int]) -> float | None:
    """The mean of a {latency_ms: count} histogram (2 decimals), None when empty."""
    total = sum(hist.values())
    if total == 0:
        return None
    return round(sum(value * count for value, count in hist.items()) / total, 2)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None  # Locust writes "N/A" when there is no sample
