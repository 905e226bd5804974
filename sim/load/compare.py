"""Compare two recorded load runs: latency, throughput and failures, with noise-aware verdicts.

``compare_runs(load_run(a), load_run(b), tolerance_pct=10)`` (runs read by
:func:`sim.load.recorded.load_run`) compares, per endpoint (method
and name) and per persona, p50/p95/p99 latency, requests per second and the failure rate of
run B against run A. The run directories are what ``monilab load --out DIR`` writes
(``summary.json`` and ``ledger/``), or a lab run directory (its ``load/``).

Intervals. The ledger holds one latency histogram per persona and endpoint per flush window
(``t``: the window's time; :mod:`sim.reconcile.ledger`); the lines of every process are
binned into :data:`WINDOW_SECONDS` windows of ``t``. Windows are grouped into
consecutive, non-overlapping time blocks of ``L = max(1, floor(n ** (1/3)))`` windows
(``n``: the run's windows), and each run is resampled :data:`RESAMPLES` times by drawing its
blocks with replacement (a block bootstrap: latencies close in time stay together, so a
slow minute counts once, not as hundreds of independent requests). The runs are resampled
independently, from one seed. Each metric's :data:`CONFIDENCE` interval is the percentile
interval of the replicated B/A ratio (latency percentiles, requests/s) or B - A difference
(failure rate). No interval is given for an endpoint or persona with requests in fewer than
:data:`MIN_BLOCKS` blocks of either run; for a latency percentile with fewer than
:data:`MIN_TAIL` requests above it in either run (p50: 10 requests, p95: 100, p99: 500: a
bootstrap cannot say more about a tail it barely saw); and for any row when a run's ledger
has fewer than :data:`MIN_BLOCKS` time windows, or none (recorded before latency lines carried
``method`` and ``t``: the numbers then come from ``summary.json``).

Verdict of one metric of one row, with ``tolerance_pct`` (``--fail-on-regression``, else 0):

- ``regression``: the point estimate is worse by more than ``tolerance_pct`` percent
  (latency: ``B/A - 1``; requests/s: ``1 - B/A``; failure rate: ``(B - A) / A``, infinite
  when A had none) AND the whole interval is on the worse side of no change (latency ratio
  lower bound > 1; requests/s ratio upper bound < 1; failure-rate difference lower bound
  > 0) AND, for latency, B and A differ by more than one histogram bucket (1 ms under
  100 ms, 10 ms under 1 s, then 100 ms: the resolution of the recorded latencies).
- ``improvement``: the same rule in the better direction.
- ``same (within noise)``: the interval includes no change, or the latency change is within
  one bucket.
- ``same (within tolerance)``: a real change, but not more than ``tolerance_pct`` percent.
- ``no interval``: no interval could be computed (see above); ``only in A``/``only in B``:
  the endpoint or persona was seen in one run only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from monilab.contracts.errors import MonilabError
from sim.load.recorded import (
    MIN_BLOCKS,
    PERCENTILES,
    Measured,
    RecordedRun,
    nearest_rank,
)

RESAMPLES = 1000
CONFIDENCE = 0.95
MIN_TAIL = 5  # requests above a latency percentile that its interval needs, in each run
SPARSE_NAMED = 8  # endpoints or personas named in the note about rows without an interval
METRICS = (*PERCENTILES, "rps", "failure_rate")

REGRESSION = "regression"
IMPROVEMENT = "improvement"
SAME = "same (within noise)"
WITHIN_TOLERANCE = "same (within tolerance)"
NO_INTERVAL = "no interval"


@dataclass(frozen=True)
class MetricDelta:
    """One metric of one endpoint or persona, run A against run B.

    Attributes:
        metric: One of :data:`METRICS`.
        a, b: The point estimates (None: not seen, or not measured, in that run).
        change: B/A (latency, requests/s) or B - A (failure rate); None without both.
        low, high: The interval of ``change`` (None: no interval).
        verdict: See the module docstring.
    """

    metric: str
    a: float | None
    b: float | None
    change: float | None
    low: float | None
    high: float | None
    verdict: str

    @property
    def scale(self) -> str:
        """``difference`` (failure rate) or ``ratio`` (the others)."""
        return "difference" if self.metric == "failure_rate" else "ratio"

    @property
    def worse_pct(self) -> float | None:
        """How much worse B is than A, in percent (negative: better)."""
        if self.a is None or self.b is None:
            return None
        return worse_pct(self.metric, self.a, self.b)


@dataclass(frozen=True)
class ComparedRow:
    """One endpoint (``"METHOD name"``) or persona, every metric compared."""

    kind: str
    key: str
    requests_a: int | None
    requests_b: int | None
    metrics: tuple[MetricDelta, ...]

    @property
    def presence(self) -> str:
        """``both``, ``only in A`` or ``only in B``."""
        if self.requests_a is None:
            return "only in B"
        return "only in A" if self.requests_b is None else "both"


@dataclass(frozen=True)
class Comparison:
    """Run B against run A: every endpoint and persona of either run, and how it was done."""

    run_a: RecordedRun
    run_b: RecordedRun
    tolerance_pct: float
    seed: int
    rows: tuple[ComparedRow, ...]
    resamples: int = RESAMPLES
    confidence: float = CONFIDENCE
    notes: tuple[str, ...] = ()

    def regressions(
        self, metrics: Iterable[str] = METRICS
    ) -> list[tuple[ComparedRow, MetricDelta]]:
        """Every (row, metric) judged a regression, among ``metrics``."""
        wanted = set(metrics)
        return [
            (row, delta)
            for row in self.rows
            for delta in row.metrics
            if delta.metric in wanted and delta.verdict == REGRESSION
        ]

    def checked(self, metrics: Iterable[str] = METRICS) -> bool:
        """Whether at least one of ``metrics`` of one row got an interval."""
        wanted = set(metrics)
        return any(
            delta.low is not None
            for row in self.rows
            for delta in row.metrics
            if delta.metric in wanted
        )

    def as_dict(self) -> dict[str, Any]:
        """The comparison as JSON-ready data (``compare.json``); non-finite numbers as null."""
        return {
            "run_a": _run_dict(self.run_a),
            "run_b": _run_dict(self.run_b),
            "tolerance_pct": self.tolerance_pct,
            "seed": self.seed,
            "resamples": self.resamples,
            "confidence": self.confidence,
            "method": "block bootstrap over ledger time windows, percentile intervals",
            "notes": list(self.notes),
            "rows": [_row_dict(row) for row in self.rows],
        }


def compare_runs(
    run_a: RecordedRun, run_b: RecordedRun, *, tolerance_pct: float = 0.0, seed: int = 0
) -> Comparison:
    """Run B against run A (see the module docstring for the intervals and verdicts)."""
    if not tolerance_pct >= 0:
        raise MonilabError(f"the regression tolerance must be at least 0 %, got {tolerance_pct}")
    resampler = _Resampler(run_a, run_b, seed)
    rows = [
        *_rows("endpoint", run_a.endpoints, run_b.endpoints, resampler, tolerance_pct),
        *_rows("persona", run_a.personas, run_b.personas, resampler, tolerance_pct),
    ]
    notes = tuple(note for note in (run_a.note, run_b.note) if note)
    sparse = [row.key for row in rows if row.presence == "both" and _sparse(row)]
    if sparse and not notes:
        named = ", ".join(sparse[:SPARSE_NAMED]) + (
            f" and {len(sparse) - SPARSE_NAMED} more" if len(sparse) > SPARSE_NAMED else ""
        )
        notes += (
            f"no interval for {named}: requests in fewer than {MIN_BLOCKS} time blocks of a run",
        )
    return Comparison(run_a, run_b, tolerance_pct, seed, tuple(rows), notes=notes)


def _sparse(row: ComparedRow) -> bool:
    return all(delta.verdict == NO_INTERVAL for delta in row.metrics)


class _Resampler:
    """The block bootstrap of both runs: one weight matrix per run (how often each block is
    drawn in each resample), shared by every endpoint and persona of that run."""

    def __init__(self, run_a: RecordedRun, run_b: RecordedRun, seed: int) -> None:
        self.runs = (run_a, run_b)
        self.active = run_a.blocks > 0 and run_b.blocks > 0
        seeds = np.random.SeedSequence(seed).spawn(2)
        self.weights = [
            _block_weights(run.blocks, np.random.default_rng(child)) if self.active else None
            for run, child in zip(self.runs, seeds, strict=True)
        ]

    def replicates(self, side: int, measured: Measured | None) -> dict[str, np.ndarray] | None:
        """Every metric's bootstrap replicates for run ``side`` (0: A, 1: B), or None."""
        weights = self.weights[side]
        if measured is None or weights is None or measured.blocks is None:
            return None
        blocks = measured.blocks
        if blocks.blocks_with_requests() < MIN_BLOCKS:
            return None
        hists = weights @ blocks.counts.astype(float)
        requests = hists.sum(axis=1)
        duration = self.runs[side].duration_s
        with np.errstate(divide="ignore", invalid="ignore"):
            replicates = {
                "rps": requests / duration if duration else np.full(len(requests), np.nan),
                "failure_rate": (weights @ blocks.failures.astype(float)) / requests,
            }
        for key, q in PERCENTILES.items():
            replicates[key] = nearest_rank(hists, blocks.buckets, q)
        return replicates


def _block_weights(blocks: int, rng: np.random.Generator) -> np.ndarray:
    """How often each of ``blocks`` is drawn in each of :data:`RESAMPLES` resamples."""
    return rng.multinomial(blocks, np.full(blocks, 1.0 / blocks), size=RESAMPLES).astype(float)


def _rows(
    kind: str,
    side_a: Mapping[str, Measured],
    side_b: Mapping[str, Measured],
    resampler: _Resampler,
    tolerance_pct: float,
) -> list[ComparedRow]:
    rows = []
    for key in sorted(set(side_a) | set(side_b)):
        measured_a, measured_b = side_a.get(key), side_b.get(key)
        reps = (resampler.replicates(0, measured_a), resampler.replicates(1, measured_b))
        deltas = tuple(
            _delta(metric, measured_a, measured_b, reps, tolerance_pct) for metric in METRICS
        )
        requests_a = measured_a.requests if measured_a else None
        requests_b = measured_b.requests if measured_b else None
        rows.append(ComparedRow(kind, key, requests_a, requests_b, deltas))
    return rows


def _delta(
    metric: str,
    measured_a: Measured | None,
    measured_b: Measured | None,
    reps: tuple[dict[str, np.ndarray] | None, dict[str, np.ndarray] | None],
    tolerance_pct: float,
) -> MetricDelta:
    a = measured_a.value(metric) if measured_a else None
    b = measured_b.value(metric) if measured_b else None
    if measured_a is None or measured_b is None:
        only = "only in A" if measured_b is None else "only in B"
        return MetricDelta(metric, a, b, None, None, None, only)
    if a is None or b is None:
        return MetricDelta(metric, a, b, None, None, None, NO_INTERVAL)
    change = float(_change(metric, np.array([b]), np.array([a]))[0])
    reps_a, reps_b = reps
    enough = min(measured_a.requests, measured_b.requests) >= min_requests(metric)
    bounds = None
    if reps_a and reps_b and enough:
        bounds = _interval(metric, reps_a[metric], reps_b[metric])
    low, high = bounds or (None, None)
    return MetricDelta(metric, a, b, change, low, high, judge(metric, a, b, bounds, tolerance_pct))


def min_requests(metric: str) -> float:
    """Requests a run needs for an interval of ``metric``: :data:`MIN_TAIL` above a latency
    percentile (p50: 10, p95: 100, p99: 500); one for the other metrics."""
    q = PERCENTILES.get(metric)
    return 1 if q is None else MIN_TAIL / (1 - q) - 1e-9


def _change(metric: str, b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """B - A for the failure rate, B/A otherwise (0/0 is 1: no change; x/0 is infinite)."""
    if metric == "failure_rate":
        return b - a
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = b / a
    return np.where((a == 0) & (b == 0), 1.0, ratio)


def _interval(metric: str, reps_a: np.ndarray, reps_b: np.ndarray) -> tuple[float, float] | None:
    """The percentile interval of the replicated change (None when most replicates are empty)."""
    change = _change(metric, reps_b, reps_a)
    valid = change[~np.isnan(change)]
    if len(valid) < len(change) / 2:
        return None
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(valid, [tail, 1 - tail], method="inverted_cdf")
    return float(low), float(high)


def judge(
    metric: str, a: float, b: float, bounds: tuple[float, float] | None, tolerance_pct: float
) -> str:
    """The verdict of one metric (the rule of the module docstring)."""
    if bounds is None:
        return NO_INTERVAL
    low, high = bounds
    no_change = 0.0 if metric == "failure_rate" else 1.0
    higher_is_worse = metric != "rps"
    above, below = low > no_change, high < no_change
    worse, better = (above, below) if higher_is_worse else (below, above)
    if not (worse or better) or not _resolved(metric, a, b):
        return SAME
    pct = worse_pct(metric, a, b)
    if worse and pct > tolerance_pct:
        return REGRESSION
    if better and -pct > tolerance_pct:
        return IMPROVEMENT
    return WITHIN_TOLERANCE


def worse_pct(metric: str, a: float, b: float) -> float:
    """How much worse ``b`` is than ``a``, in percent (negative: better); infinite from 0."""
    if a == 0:
        return 0.0 if b == 0 else (-math.inf if metric == "rps" else math.inf)
    relative = (b - a) / a * 100
    return -relative if metric == "rps" else relative


def bucket_width(ms: float) -> float:
    """The resolution of a recorded latency (:func:`sim.reconcile.ledger.latency_bucket`)."""
    return 1.0 if ms < 100 else 10.0 if ms < 1000 else 100.0


def _resolved(metric: str, a: float, b: float) -> bool:
    """Latencies further apart than one histogram bucket (other metrics: always)."""
    return metric not in PERCENTILES or abs(b - a) > bucket_width(max(a, b))


def _run_dict(run: RecordedRun) -> dict[str, Any]:
    return {
        "directory": str(run.directory),
        "run_id": run.run_id,
        "duration_s": _finite(run.duration_s),
        "blocks": run.blocks,
        "block_seconds": run.block_seconds,
        "note": run.note,
    }


def _row_dict(row: ComparedRow) -> dict[str, Any]:
    metrics = {
        delta.metric: {
            "a": _finite(delta.a),
            "b": _finite(delta.b),
            "change": _finite(delta.change),
            "scale": delta.scale,
            "worse_pct": _finite(delta.worse_pct),
            "low": _finite(delta.low),
            "high": _finite(delta.high),
            "verdict": delta.verdict,
        }
        for delta in row.metrics
    }
    return {
        "kind": row.kind,
        "key": row.key,
        "presence": row.presence,
        "requests_a": row.requests_a,
        "requests_b": row.requests_b,
        "metrics": metrics,
    }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
