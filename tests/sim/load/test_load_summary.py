"""``summary.json`` numbers: the percentiles, average and maximum a threshold can check."""

from __future__ import annotations

from pathlib import Path

from sim.load.summary import endpoint_stats, persona_stats

HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def test_endpoint_rows_carry_p90(tmp_path: Path) -> None:
    csv = tmp_path / "locust_stats.csv"
    rows = [
        "POST,/api/v1/spendings,10,1,20,25.5,5,90,100,2.0,0.1,20,22,24,26,40,60,80,90,90,90,90",
        ",Aggregated,10,1,20,25.5,5,90,100,2.0,0.1,20,22,24,26,40,60,80,90,90,90,90",
    ]
    csv.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    endpoints, total = endpoint_stats(csv)
    assert endpoints[0]["p90_ms"] == 40.0 and total["p90_ms"] == 40.0
    assert list(total) == [
        "method", "name", "requests", "failures", "rps", "avg_ms",
        "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms",
    ]  # fmt: skip


def test_persona_numbers_include_p90_average_and_maximum() -> None:
    lines = [
        {"type": "latency", "persona": "p", "hist": {"10": 8, "20": 1}, "failures": 1},
        {"type": "latency", "persona": "p", "hist": {"100": 1}, "failures": 0},
        {"type": "sent", "agent_id": "a"},
    ]
    stats = persona_stats(lines)["p"]
    assert stats == {
        "requests": 10,
        "failures": 1,
        "p50_ms": 10.0,
        "p90_ms": 20.0,
        "p95_ms": 100.0,
        "p99_ms": 100.0,
        "avg_ms": 20.0,
        "max_ms": 100.0,
    }
