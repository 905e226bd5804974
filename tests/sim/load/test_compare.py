"""Comparing two recorded load runs: block-bootstrap intervals and verdicts, on synthetic runs."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from monilab.contracts.errors import MonilabError
from sim.load.compare import (
    IMPROVEMENT,
    NO_INTERVAL,
    REGRESSION,
    SAME,
    WITHIN_TOLERANCE,
    compare_runs,
    judge,
    min_requests,
)
from sim.load.recorded import block_length, load_run, nearest_rank
from sim.load.summary import percentile_from_hist
from sim.reconcile.ledger import latency_bucket

MEDIANS = {"GET /api/v1/spendings [list]": 40.0, "POST /api/v1/spendings": 60.0}
PERSONAS = ("saver", "spender")


def write_run(
    directory: Path,
    medians: dict[str, float] | None = None,
    *,
    seed: int = 0,
    windows: int = 60,
    per_window: int = 25,
    failure_share: dict[str, float] | None = None,
    legacy: bool = False,
    rare: str = "",
) -> Path:
    """A recorded run: ``summary.json`` and a ledger of one latency line per window, persona
    and endpoint (lognormal latencies around each endpoint's median, 2 s windows; the ``rare``
    endpoint only in the first two windows)."""
    rng = np.random.default_rng(seed)
    medians = MEDIANS if medians is None else medians
    lines, totals = [], defaultdict(lambda: defaultdict(int))
    failed: dict[str, int] = defaultdict(int)
    for window in range(windows):
        for persona in PERSONAS:
            for endpoint, median in medians.items():
                if endpoint == rare and window >= 2:
                    continue
                latencies = median * rng.lognormal(0.0, 0.4, per_window)
                hist: dict[int, int] = defaultdict(int)
                for ms in latencies:
                    hist[latency_bucket(ms)] += 1
                failures = int(rng.binomial(per_window, (failure_share or {}).get(endpoint, 0)))
                method, name = endpoint.split(" ", 1)
                line = {"type": "latency", "persona": persona, "name": name}
                if not legacy:
                    line |= {"method": method, "t": 1_700_000_000 + 2.0 * window + 0.1}
                lines.append(line | {"hist": {str(k): v for k, v in hist.items()}})
                lines[-1]["failures"] = failures
                for key in (endpoint, f"persona {persona}", "total"):
                    for bucket, count in hist.items():
                        totals[key][bucket] += count
                    failed[key] += failures
    _write(directory, lines, _summary(totals, failed, medians, duration=2.0 * windows))
    return directory


def _stats(hist: dict[int, int], failures: int, duration: float) -> dict:
    requests = sum(hist.values())
    return {
        "requests": requests,
        "failures": failures,
        "rps": requests / duration,
        **{f"p{round(q * 100)}_ms": percentile_from_hist(hist, q) for q in (0.5, 0.95, 0.99)},
    }


def _summary(totals, failed, medians, duration) -> dict:
    endpoints = []
    for endpoint in medians:
        method, name = endpoint.split(" ", 1)
        endpoints.append(
            {"method": method, "name": name, **_stats(totals[endpoint], failed[endpoint], duration)}
        )
    personas = {}
    for persona in PERSONAS:
        stats = _stats(totals[f"persona {persona}"], failed[f"persona {persona}"], duration)
        personas[persona] = {k: v for k, v in stats.items() if k != "rps"}
    return {
        "run_id": "synthetic",
        "wall_time_s": duration + 3,
        "total": _stats(totals["total"], failed["total"], duration),
        "endpoints": endpoints,
        "personas": personas,
    }


def _write(directory: Path, lines: list[dict], summary: dict) -> None:
    (directory / "ledger").mkdir(parents=True)
    text = "".join(json.dumps(line) + "\n" for line in lines)
    (directory / "ledger" / "ledger-1.jsonl").write_text(text, encoding="utf-8")
    (directory / "summary.json").write_text(json.dumps(summary), encoding="utf-8")


def _compare(tmp_path: Path, a_kwargs: dict, b_kwargs: dict, tolerance: float = 0.0):
    run_a = load_run(write_run(tmp_path / "a", **a_kwargs))
    run_b = load_run(write_run(tmp_path / "b", **b_kwargs))
    return compare_runs(run_a, run_b, tolerance_pct=tolerance)


def _verdicts(comparison, key: str) -> dict[str, str]:
    row = next(row for row in comparison.rows if row.key == key)
    return {delta.metric: delta.verdict for delta in row.metrics}


def test_identical_runs_are_the_same_everywhere(tmp_path):
    comparison = _compare(tmp_path, {"seed": 1}, {"seed": 1})
    verdicts = {delta.verdict for row in comparison.rows for delta in row.metrics}
    assert verdicts == {SAME}
    assert comparison.regressions() == [] and comparison.checked()
    assert [row.key for row in comparison.rows] == [*sorted(MEDIANS), *PERSONAS]


def test_an_endpoint_half_again_slower_is_a_regression(tmp_path):
    slower = MEDIANS | {"POST /api/v1/spendings": 90.0}
    comparison = _compare(tmp_path, {"seed": 1}, {"seed": 2, "medians": slower}, tolerance=10)
    post = _verdicts(comparison, "POST /api/v1/spendings")
    assert [post[m] for m in ("p50_ms", "p95_ms", "p99_ms")] == [REGRESSION] * 3
    assert set(_verdicts(comparison, "GET /api/v1/spendings [list]").values()) <= {
        SAME,
        WITHIN_TOLERANCE,
    }
    delta = next(d for r in comparison.rows if r.key == "POST /api/v1/spendings" for d in r.metrics)
    assert delta.metric == "p50_ms" and 1.4 < delta.low <= delta.change <= delta.high < 1.6
    regressed = {row.key for row, _ in comparison.regressions()}
    assert regressed == {"POST /api/v1/spendings", *PERSONAS}  # personas carry the slow endpoint


def test_a_small_noisy_difference_is_within_noise(tmp_path):
    few = {"windows": 16, "per_window": 3}
    slightly = {k: v * 1.03 for k, v in MEDIANS.items()}
    comparison = _compare(tmp_path, {"seed": 1, **few}, {"seed": 2, "medians": slightly, **few})
    for key in MEDIANS:
        assert _verdicts(comparison, key)["p50_ms"] == SAME
    assert comparison.regressions() == []


def test_a_real_change_below_the_tolerance_is_not_a_regression(tmp_path):
    many = {"windows": 120, "per_window": 60}
    faster = {k: v * 0.93 for k, v in MEDIANS.items()}
    comparison = _compare(tmp_path, {"seed": 1, **many}, {"seed": 2, "medians": faster, **many})
    assert _verdicts(comparison, "POST /api/v1/spendings")["p50_ms"] == IMPROVEMENT
    within = compare_runs(comparison.run_a, comparison.run_b, tolerance_pct=10)
    assert _verdicts(within, "POST /api/v1/spendings")["p50_ms"] == WITHIN_TOLERANCE


def test_failures_appearing_on_an_endpoint_are_a_regression(tmp_path):
    failing = {"failure_share": {"POST /api/v1/spendings": 0.1}}
    comparison = _compare(tmp_path, {"seed": 1}, {"seed": 1, **failing}, tolerance=10)
    assert _verdicts(comparison, "POST /api/v1/spendings")["failure_rate"] == REGRESSION
    assert _verdicts(comparison, "GET /api/v1/spendings [list]")["failure_rate"] == SAME


def test_an_endpoint_seen_in_one_run_only_is_listed(tmp_path):
    extra = MEDIANS | {"GET /healthz": 2.0}
    comparison = _compare(tmp_path, {"seed": 1}, {"seed": 1, "medians": extra})
    row = next(row for row in comparison.rows if row.key == "GET /healthz")
    assert row.presence == "only in B" and row.requests_a is None
    assert {delta.verdict for delta in row.metrics} == {"only in B"}


def test_a_ledger_without_time_windows_gives_summary_numbers_and_no_interval(tmp_path):
    comparison = _compare(tmp_path, {"seed": 1, "legacy": True}, {"seed": 1})
    assert not comparison.checked()
    assert "no intervals" in comparison.notes[0]
    row = next(row for row in comparison.rows if row.key == "POST /api/v1/spendings")
    p50 = row.metrics[0]
    assert p50.verdict == NO_INTERVAL and p50.a == p50.b and p50.change == 1.0


def test_a_rare_endpoint_gets_no_interval_but_the_others_do(tmp_path):
    rare = {"rare": "GET /api/v1/spendings [list]"}
    comparison = _compare(tmp_path, {"seed": 1, **rare}, {"seed": 2, **rare})
    assert set(_verdicts(comparison, rare["rare"]).values()) == {NO_INTERVAL}
    assert NO_INTERVAL not in _verdicts(comparison, "POST /api/v1/spendings").values()
    assert comparison.checked()
    assert comparison.notes == (
        f"no interval for {rare['rare']}: requests in fewer than 4 time blocks of a run",
    )


def test_a_run_of_a_few_windows_gets_no_interval(tmp_path):
    comparison = _compare(tmp_path, {"seed": 1, "windows": 3}, {"seed": 1})
    assert not comparison.checked()
    assert "the ledger has 3 time window(s), so no intervals" in comparison.notes[0]


def test_the_bootstrap_is_reproducible_from_its_seed(tmp_path):
    run_a = load_run(write_run(tmp_path / "a", seed=1))
    run_b = load_run(write_run(tmp_path / "b", seed=2))
    first = compare_runs(run_a, run_b, seed=5).as_dict()
    assert compare_runs(run_a, run_b, seed=5).as_dict() == first
    assert compare_runs(run_a, run_b, seed=6).as_dict() != first
    json.dumps(first, allow_nan=False)  # compare.json is strict JSON


def test_a_lab_run_directory_is_read_through_its_load_folder(tmp_path):
    write_run(tmp_path / "lab" / "load", seed=1)
    assert load_run(tmp_path / "lab").directory == tmp_path / "lab" / "load"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "nowhere", "no such run directory"),
        (lambda p: p.mkdir() or p, "not a load run"),
        (lambda p: (p.write_text("x"), p)[1], "not a directory"),
    ],
)
def test_what_is_not_a_run_is_one_line(tmp_path, make, message):
    with pytest.raises(MonilabError, match=message) as error:
        load_run(make(tmp_path / "run"))
    assert "\n" not in str(error.value)


def test_a_broken_summary_is_one_line(tmp_path):
    (tmp_path / "summary.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(MonilabError, match="not a load summary"):
        load_run(tmp_path)


def test_a_malformed_ledger_line_is_one_line(tmp_path):
    run = write_run(tmp_path / "run")
    line = {"type": "latency", "persona": "saver", "method": "GET", "name": "/x", "t": 1.0}
    (run / "ledger" / "ledger-2.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(MonilabError, match="unreadable summary or ledger") as error:
        load_run(run)
    assert "\n" not in str(error.value)


def test_nearest_rank_matches_the_summary_percentiles():
    rng = np.random.default_rng(3)
    buckets = np.array([1, 2, 5, 10, 40, 100, 250])
    for _ in range(50):
        counts = rng.integers(0, 6, size=len(buckets))
        hist = {int(b): int(c) for b, c in zip(buckets, counts, strict=True) if c}
        for q in (0.5, 0.95, 0.99):
            expected = percentile_from_hist(hist, q)
            got = nearest_rank(counts, buckets, q)
            assert (np.isnan(got) and expected is None) or got == expected


def test_a_tail_percentile_needs_enough_requests_for_an_interval(tmp_path):
    few = {"windows": 20, "per_window": 2}  # 80 requests per endpoint: p50 yes, p95/p99 no
    verdicts = _verdicts(_compare(tmp_path, {"seed": 1, **few}, {"seed": 2, **few}), "saver")
    assert verdicts["p50_ms"] != NO_INTERVAL
    assert verdicts["p95_ms"] == verdicts["p99_ms"] == NO_INTERVAL
    assert [min_requests(m) for m in ("p50_ms", "p95_ms", "p99_ms", "rps")] == pytest.approx(
        [10, 100, 500, 1]
    )


def test_block_length_grows_with_the_cube_root_of_the_windows():
    assert [block_length(n) for n in (1, 7, 8, 26, 27, 1800)] == [1, 1, 2, 2, 3, 12]


def test_the_verdict_rule():
    assert judge("p95_ms", 100, 150, (1.3, 1.7), 10) == REGRESSION
    assert judge("p95_ms", 100, 150, (0.9, 1.7), 10) == SAME  # the interval includes 1
    assert judge("p95_ms", 200, 215, (1.02, 1.12), 10) == WITHIN_TOLERANCE
    assert judge("p50_ms", 3, 4, (1.33, 1.34), 10) == SAME  # one bucket apart
    assert judge("rps", 100, 80, (0.7, 0.9), 10) == REGRESSION  # fewer requests/s is worse
    assert judge("rps", 100, 130, (1.2, 1.4), 10) == IMPROVEMENT
    assert judge("failure_rate", 0.0, 0.02, (0.01, 0.03), 10) == REGRESSION  # from none
    assert judge("failure_rate", 0.0, 0.02, None, 10) == NO_INTERVAL
