"""The load ledger: what agents sent, what the app acknowledged, latency per persona.

Every Locust process keeps a :class:`Ledger`. A local runner or master appends its lines to
``<out>/ledger-<pid>.jsonl``; a worker ships its lines to the master in batches (a Locust
custom message), so a distributed run ends with the whole ledger on the master's machine.
Line types::

    {"type": "agent", "agent_id", "persona", "email", "user_id"}
    {"type": "sent", "agent_id", "email", "client_txn_id"}
    {"type": "ack", "agent_id", "email", "client_txn_id", "spending_id"}
    {"type": "sent_batch" | "ack_batch", "agent_id", "email", "client_txn_ids": [...]}
    {"type": "latency", "persona", "method", "name", "t": <unix s>,
     "hist": {"<ms>": count, ...}, "failures": n}

A latency line is one flush window (a few seconds) of one persona on one endpoint: ``t`` is
the wall-clock time (Unix seconds) the window was drained, so the lines of a run give
latency over time per persona and per endpoint, and summed they give the whole run.

A batch line stands for one ``sent``/``ack`` line per spending of a batch upload
(:func:`expand_batches` turns it into those); an ``agent`` line with ``"history": true``
is an agent's history upload before the live run, not a live agent.

This module is standard library only (it runs inside Locust processes and in the parent).
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any


def latency_bucket(ms: float) -> int:
    """Round a latency like Locust does: 1 ms under 100, 10 ms under 1000, then 100 ms."""
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return int(round(ms, -1))
    return int(round(ms, -2))


class Ledger:
    """An append-only buffer of ledger lines with per-persona latency histograms."""

    def __init__(self) -> None:
        self._lines: list[dict[str, Any]] = []
        self._hist: dict[tuple[str, str, str], dict[int, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self._failures: dict[tuple[str, str, str], int] = defaultdict(int)

    def record(self, kind: str, **fields: Any) -> None:
        """Add one ``agent``/``sent``/``ack`` line."""
        self._lines.append({"type": kind, **fields})

    def observe(
        self, persona: str, name: str, latency_ms: float, failed: bool, method: str = ""
    ) -> None:
        """Count one request's latency for a persona and endpoint (method and name)."""
        key = (persona, method, name)
        self._hist[key][latency_bucket(latency_ms)] += 1
        if failed:
            self._failures[key] += 1

    def drain(self) -> list[dict[str, Any]]:
        """Take every buffered line, latency histograms included, and empty the buffer."""
        lines, self._lines = self._lines, []
        now = round(time.time(), 3)
        for (persona, method, name), hist in self._hist.items():
            lines.append(
                {
                    "type": "latency",
                    "persona": persona,
                    "method": method,
                    "name": name,
                    "t": now,
                    "hist": {str(k): v for k, v in hist.items()},
                    "failures": self._failures.get((persona, method, name), 0),
                }
            )
        self._hist.clear()
        self._failures.clear()
        return lines


def append_lines(
    directory: str | Path, lines: Iterable[dict[str, Any]], *, name: str | None = None
) -> None:
    """Append ledger lines to this process's file in ``directory`` (``ledger-<name>.jsonl``
    with ``name``)."""
    lines = list(lines)
    if not lines:
        return
    path = Path(directory) / f"ledger-{name or os.getpid()}.jsonl"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))


def read_ledger(directory: str | Path) -> Iterator[dict[str, Any]]:
    """Every line of every ledger file in ``directory``."""
    for path in sorted(Path(directory).glob("ledger-*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


def expand_batches(lines: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """The ledger lines with every ``sent_batch``/``ack_batch`` line expanded into one
    ``sent``/``ack`` line per ``client_txn_id`` (other lines pass through)."""
    for line in lines:
        kind = line.get("type")
        if kind not in ("sent_batch", "ack_batch"):
            yield line
            continue
        single = kind.removesuffix("_batch")
        for txn in line["client_txn_ids"]:
            yield {
                "type": single,
                "agent_id": line["agent_id"],
                "email": line["email"],
                "client_txn_id": txn,
            }
