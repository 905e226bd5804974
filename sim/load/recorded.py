"""A recorded load run as :mod:`sim.load.compare` reads it: latency histograms per endpoint
and per persona in time blocks, requests/s and failures.

A run directory is what ``monilab load --out DIR`` writes (``summary.json`` and
``ledger/``), or a lab run directory (its ``load/``). The ledger's latency lines (one per
persona and endpoint per flush window, :mod:`sim.reconcile.ledger`) are binned into
:data:`WINDOW_SECONDS` windows and grouped into consecutive blocks of
``max(1, floor(n ** (1/3)))`` windows, the unit the comparison's block bootstrap resamples.
A ledger recorded before latency lines carried ``method`` and ``t`` gives the numbers of
``summary.json`` only (no blocks, so no intervals).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from monilab.contracts.errors import MonilabError
from sim.reconcile.ledger import read_ledger

WINDOW_SECONDS = 2.0  # the locustfile's ledger flush period: one latency line per window
MIN_BLOCKS = 4  # time blocks a run needs for an interval
PERCENTILES = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}


@dataclass(frozen=True)
class BlockedHistogram:
    """One endpoint's or persona's latencies in one run, per time block.

    Attributes:
        buckets: Latency buckets in ms, ascending (K).
        counts: Requests per block and bucket (blocks x K).
        failures: Failed requests per block.
    """

    buckets: np.ndarray
    counts: np.ndarray
    failures: np.ndarray

    def blocks_with_requests(self) -> int:
        """How many blocks have at least one request."""
        return int((self.counts.sum(axis=1) > 0).sum())


@dataclass(frozen=True)
class Measured:
    """What one run measured for one endpoint or persona (``blocks`` None: summary only)."""

    requests: int
    failures: int
    rps: float | None
    percentiles: Mapping[str, float | None]
    blocks: BlockedHistogram | None = None

    @property
    def failure_rate(self) -> float | None:
        """Failed requests / requests."""
        return self.failures / self.requests if self.requests else None

    def value(self, metric: str) -> float | None:
        """The point estimate of ``metric`` (one of :data:`METRICS`)."""
        if metric == "rps":
            return self.rps
        if metric == "failure_rate":
            return self.failure_rate
        return self.percentiles.get(metric)


@dataclass(frozen=True)
class RecordedRun:
    """A load run as read back for comparison.

    Attributes:
        directory: The directory holding ``summary.json``.
        run_id: The run's id.
        duration_s: Seconds of load (requests / requests per second of the whole run).
        endpoints: Per ``"METHOD name"``.
        personas: Per persona.
        blocks: Time blocks of the bootstrap (0: no time windows in the ledger).
        block_seconds: Length of one block.
        note: Why there are no intervals ("" when there are).
    """

    directory: Path
    run_id: str
    duration_s: float | None
    endpoints: Mapping[str, Measured]
    personas: Mapping[str, Measured]
    blocks: int = 0
    block_seconds: float = 0.0
    note: str = ""


def load_run(path: str | Path) -> RecordedRun:
    """Read a run directory (``summary.json`` + ``ledger/``, or a lab run with ``load/``)."""
    directory = run_directory(Path(path))
    summary = _read_summary(directory / "summary.json")
    duration = _duration(summary)
    lines = _latency_lines(directory / "ledger")
    try:
        if lines and all("t" in line and "method" in line for line in lines):
            return _from_ledger(directory, summary, lines, duration)
        why = "no latency lines" if not lines else "latency lines without method and time"
        note = f"{directory}: {why} in the ledger, so no intervals (numbers from summary.json)"
        return _from_summary(directory, summary, duration, note)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MonilabError(f"{directory}: unreadable summary or ledger ({exc!r})") from None


def run_directory(path: Path) -> Path:
    """The directory of ``summary.json``: ``path`` itself or its ``load/``."""
    for candidate in (path, path / "load"):
        if (candidate / "summary.json").is_file():
            return candidate
    if not path.exists():
        raise MonilabError(f"{path}: no such run directory")
    if not path.is_dir():
        raise MonilabError(f"{path}: not a directory")
    raise MonilabError(
        f"{path}: not a load run (no summary.json, nor load/summary.json; "
        "record one with monilab load --out DIR)"
    )


def _read_summary(path: Path) -> dict[str, Any]:
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise MonilabError(f"{path}: not a load summary ({exc})") from None
    if not isinstance(summary, dict):
        raise MonilabError(f"{path}: not a load summary (expected a JSON object)")
    return summary


def _latency_lines(ledger_dir: Path) -> list[dict[str, Any]]:
    try:
        return [line for line in read_ledger(ledger_dir) if line.get("type") == "latency"]
    except ValueError as exc:
        raise MonilabError(f"{ledger_dir}: a ledger line is not JSON ({exc})") from None


def _duration(summary: Mapping[str, Any]) -> float | None:
    """Seconds of load, as Locust counted them (its requests over its requests/s)."""
    total = summary.get("total") or {}
    if total.get("requests") and total.get("rps"):
        return float(total["requests"]) / float(total["rps"])
    wall = summary.get("wall_time_s")
    return float(wall) if wall else None


def _rate(requests: int, duration: float | None) -> float | None:
    return requests / duration if duration else None


def _from_summary(
    directory: Path, summary: Mapping[str, Any], duration: float | None, note: str
) -> RecordedRun:
    endpoints = {
        f"{row['method']} {row['name']}": Measured(
            int(row.get("requests", 0)),
            int(row.get("failures", 0)),
            row.get("rps"),
            {key: row.get(key) for key in PERCENTILES},
        )
        for row in summary.get("endpoints", [])
    }
    personas = {
        name: Measured(
            int(row.get("requests", 0)),
            int(row.get("failures", 0)),
            _rate(int(row.get("requests", 0)), duration),
            {key: row.get(key) for key in PERCENTILES},
        )
        for name, row in (summary.get("personas") or {}).items()
    }
    run_id = str(summary.get("run_id", directory.name))
    return RecordedRun(directory, run_id, duration, endpoints, personas, note=note)


def block_length(windows: int) -> int:
    """Windows per bootstrap block: the cube root of the number of windows, at least 1."""
    return max(1, int(windows ** (1 / 3) + 1e-9))


def _from_ledger(
    directory: Path,
    summary: Mapping[str, Any],
    lines: list[dict[str, Any]],
    duration: float | None,
) -> RecordedRun:
    times = np.array([float(line["t"]) for line in lines])
    windows = np.floor((times - times.min()) / WINDOW_SECONDS).astype(np.int64)
    length = block_length(len(np.unique(windows)))
    occupied, block_of_line = np.unique(windows // length, return_inverse=True)
    flat = _FlatLedger(lines, block_of_line, len(occupied))
    endpoints = {
        key: flat.measured(indices, duration)
        for key, indices in _group(f"{line['method']} {line['name']}" for line in lines).items()
    }
    personas = {
        key: flat.measured(indices, duration)
        for key, indices in _group(str(line["persona"]) for line in lines).items()
    }
    run_id = str(summary.get("run_id", directory.name))
    blocks, seconds = len(occupied), length * WINDOW_SECONDS
    note = ""
    if blocks < MIN_BLOCKS:
        note = (
            f"{directory}: the ledger has {blocks} time window(s), so no intervals "
            f"(they need {MIN_BLOCKS})"
        )
    return RecordedRun(directory, run_id, duration, endpoints, personas, blocks, seconds, note)


def _group(keys: Iterable[str]) -> dict[str, np.ndarray]:
    """Line indices per key, keys sorted."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        groups[key].append(index)
    return {key: np.array(groups[key]) for key in sorted(groups)}


class _FlatLedger:
    """The latency lines as flat arrays (one entry per line and bucket), for fast grouping."""

    def __init__(self, lines: list[dict[str, Any]], block_of_line: np.ndarray, blocks: int) -> None:
        entries = [
            (index, int(bucket), int(count))
            for index, line in enumerate(lines)
            for bucket, count in line["hist"].items()
        ]
        table = np.array(entries, dtype=np.int64).reshape(-1, 3)
        self.line, self.bucket, self.count = table[:, 0], table[:, 1], table[:, 2]
        self.failures = np.array([int(line.get("failures", 0)) for line in lines])
        self.block_of_line = block_of_line
        self.blocks = blocks

    def measured(self, indices: np.ndarray, duration: float | None) -> Measured:
        """The merged measurements of the lines ``indices`` (one endpoint or persona)."""
        chosen = np.zeros(len(self.failures), dtype=bool)
        chosen[indices] = True
        keep = chosen[self.line]
        buckets, column = np.unique(self.bucket[keep], return_inverse=True)
        counts = np.zeros((self.blocks, len(buckets)), dtype=np.int64)
        np.add.at(counts, (self.block_of_line[self.line[keep]], column), self.count[keep])
        failures = np.bincount(
            self.block_of_line[indices], weights=self.failures[indices], minlength=self.blocks
        )
        histogram = BlockedHistogram(buckets, counts, failures.astype(np.int64))
        whole = counts.sum(axis=0)
        requests = int(whole.sum())
        percentiles = {
            key: float(nearest_rank(whole, buckets, q)) for key, q in PERCENTILES.items()
        }
        return Measured(
            requests, int(failures.sum()), _rate(requests, duration), percentiles, histogram
        )


def nearest_rank(hists: np.ndarray, buckets: np.ndarray, q: float) -> np.ndarray:
    """The q-quantile (nearest rank, like ``summary.json``) of each histogram in the last
    axis of ``hists``; NaN for an empty one."""
    if hists.shape[-1] == 0:
        return np.full(hists.shape[:-1], np.nan)
    cumulative = np.cumsum(hists, axis=-1)
    total = cumulative[..., -1]
    rank = np.maximum(1.0, np.ceil(q * total - 1e-9))
    index = (cumulative >= rank[..., None]).argmax(axis=-1)
    return np.where(total > 0, buckets[index], np.nan)


# --------------------------------------------------------------------------- the comparison
