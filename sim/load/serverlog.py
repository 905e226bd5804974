"""Server time beside client time: the app's request log, read for one load run.

The request log is a directory of ``*.jsonl`` files, one JSON object per request
(``{"ts", "run_id", "agent_id", "source", "user_id", "method", "route", "status",
"latency_ms", "bytes"}``; Moni writes it, see ``target_app/requestlog.py``; any app that
writes the same lines can be read). :func:`server_latency` keeps the lines of one run that
Locust sent (``source`` ``locust`` or absent: the history uploads carry the run id too), and
gives the server's p50/p95/p99 per endpoint of Locust's stats.

Locust names an endpoint by its request name (``/api/v1/notifications/<id>/read``,
``/api/v1/spendings [list]``, or a template ``/items/{{ item.id }}``), the app by its route
template (``/api/v1/notifications/<int:notification_id>/read``): both are normalised
(:func:`normalise_path`: placeholders, numbers and ids become ``{}``, a ``[label]`` and the
query are dropped) and matched by method and normalised path. Routes that no endpoint
matches are listed apart, never dropped.

:func:`discover_request_log` asks a Moni on this machine where its log is (its ``/healthz``
tells loopback callers that ask). Standard library only; the sim layer never imports
``target_app``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monilab.contracts.errors import MonilabError
from sim.load.summary import percentile_from_hist

log = logging.getLogger(__name__)

LOG_GLOB = "*.jsonl"
LOCUST_SOURCE = "locust"
UNMATCHED_ROUTE = "<unmatched>"
PLACEHOLDER = "{}"
QUANTILES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99}

_LABEL = re.compile(r"\s*\[[^\]]*\]\s*$")  # "/api/v1/spendings [list]"
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{[^{}]*\}|<[^<>]*>")  # {{ jinja }}, {openapi}, <flask>
_ID = re.compile(r"^(:\w+|\d+|[0-9a-fA-F-]{8,}|\{\})$")  # :express, 42, uuid/hex, {}

Key = tuple[str, str]
"""(method, normalised path)."""


def normalise_path(path: str) -> str:
    """``path`` with its placeholders, numbers and ids as ``{}`` (one token), without scheme,
    host, query, fragment, a trailing ``[label]`` or a trailing slash."""
    path = _LABEL.sub("", path.strip())
    if "://" in path:
        path = urlsplit(path).path
    path = path.split("?", 1)[0].split("#", 1)[0]
    path = _TEMPLATE.sub(PLACEHOLDER, path)
    parts = [PLACEHOLDER if _ID.match(part) else part for part in path.split("/")]
    return "/".join(parts).rstrip("/") or "/"


def _key(method: str, path: str) -> Key:
    return method.strip().upper(), normalise_path(path)


def latency_bucket_us(ms: float) -> int:
    """A server latency in microseconds, kept to about three significant digits (so a run of
    millions of requests is a small histogram)."""
    us = max(0, round(ms * 1000))
    for limit, step in ((10_000, 10), (100_000, 100), (1_000_000, 1_000)):
        if us < limit:
            return int(round(us / step) * step)
    return int(round(us / 10_000) * 10_000)


def _quantiles(hist: Mapping[int, int]) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": sum(hist.values())}
    for column, q in QUANTILES.items():
        value = percentile_from_hist(hist, q)
        out[column] = None if value is None else round(value / 1000, 3)
    return out


def _log_files(log_dir: Path) -> list[Path]:
    files = sorted(log_dir.glob(LOG_GLOB)) if log_dir.is_dir() else []
    if not files:
        raise MonilabError(f"--server-log {log_dir}: no request log files ({LOG_GLOB})")
    return files


class _Tally:
    """Latency histograms per (method, route) of one run's lines."""

    def __init__(self, run_id: str, source: str | None) -> None:
        self.run_id = run_id
        self.source = source
        self.needle = json.dumps(run_id, ensure_ascii=False)  # a cheap filter before parsing
        self.hists: dict[tuple[str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.unreadable = 0
        self.other_sources = 0

    def add(self, line: str) -> None:
        if self.needle not in line:
            return
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or record.get("run_id") != self.run_id:
                return
            method, route = str(record["method"]).upper(), str(record["route"])
            latency = float(record["latency_ms"])
        except (ValueError, KeyError, TypeError):
            self.unreadable += 1  # a torn last line, or not this format
            return
        if self.source is not None and record.get("source", self.source) != self.source:
            self.other_sources += 1
            return
        self.hists[(method, route)][latency_bucket_us(latency)] += 1


def _read(files: Iterable[Path], tally: _Tally) -> None:
    for path in files:
        try:
            with path.open(encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    tally.add(line)
        except OSError as exc:
            raise MonilabError(f"--server-log: cannot read {path} ({exc.strerror})") from None


def server_latency(
    log_dir: str | Path,
    run_id: str,
    endpoints: Iterable[Mapping[str, Any]],
    *,
    source: str | None = LOCUST_SOURCE,
) -> dict[str, Any]:
    """The server's latency of one run per endpoint, from the app's request log.

    Args:
        log_dir: The request log directory (``*.jsonl`` files).
        run_id: The run's ``X-Run-Id``; other runs' lines are skipped.
        endpoints: Locust's endpoints (``summary["endpoints"]``: dicts with ``method`` and
            ``name``), in the order the result lists them.
        source: Only lines of this ``source`` (or without one) count; None counts all.

    Returns:
        ``{"log_dir", "run_id", "files", "requests", "p50_ms", "p95_ms", "p99_ms",
        "endpoints": [{"method", "name", "route", "requests", "p50_ms", "p95_ms",
        "p99_ms"}], "unmatched_routes": [{"method", "route", "requests", ...}],
        "unreadable_lines", "other_sources", "note"}``: one endpoint row per endpoint given
        (route None and 0 requests when the log has none of it); ``note`` says what to know
        (no line of the run, unmatched routes, routes shared by several names) or is None.

    Raises:
        MonilabError: ``log_dir`` is not a directory holding ``*.jsonl`` files, or one of
            them cannot be read.
    """
    log_dir = Path(log_dir)
    files = _log_files(log_dir)
    tally = _Tally(run_id, source)
    _read(files, tally)
    wanted = [(str(e.get("method", "")), str(e.get("name", ""))) for e in endpoints]
    by_key: dict[Key, list[tuple[str, str]]] = defaultdict(list)
    for method, route in tally.hists:
        if route != UNMATCHED_ROUTE:
            by_key[_key(method, route)].append((method, route))
    rows, used = [], set()
    for method, name in wanted:
        routes = by_key.get(_key(method, name), [])
        used.update(routes)
        rows.append(
            {
                "method": method,
                "name": name,
                "route": " | ".join(route for _, route in routes) or None,
                **_quantiles(_merge(tally.hists[r] for r in routes)),
            }
        )
    unmatched = [
        {"method": method, "route": route, **_quantiles(hist)}
        for (method, route), hist in sorted(tally.hists.items())
        if (method, route) not in used
    ]
    result = {
        "log_dir": str(log_dir),
        "run_id": run_id,
        "files": len(files),
        **_quantiles(_merge(tally.hists.values())),
        "endpoints": rows,
        "unmatched_routes": unmatched,
        "unreadable_lines": tally.unreadable,
        "other_sources": tally.other_sources,
    }
    result["note"] = _note(result, source) or None
    return result


def _merge(hists: Iterable[Mapping[int, int]]) -> dict[int, int]:
    merged: dict[int, int] = defaultdict(int)
    for hist in hists:
        for bucket, count in hist.items():
            merged[bucket] += count
    return merged


def _note(result: Mapping[str, Any], source: str | None) -> str:
    notes = []
    if not result["requests"]:
        whose = f" sent by {source}" if source else ""
        notes.append(
            f"no request of run {result['run_id']}{whose} in {result['log_dir']} "
            f"({result['files']} files; was the app logging, and is this its log?)"
        )
    if result["unmatched_routes"]:
        notes.append(
            f"{len(result['unmatched_routes'])} route(s) of the log match no Locust endpoint "
            "(listed under unmatched_routes)"
        )
    shared = _shared_routes(result["endpoints"])
    if shared:
        notes.append(f"several Locust names share a route ({', '.join(shared)}): each shows it")
    if result["unreadable_lines"]:
        notes.append(f"{result['unreadable_lines']} unreadable line(s) skipped")
    return "; ".join(notes)


def _shared_routes(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """``METHOD route`` of the routes that more than one endpoint row shows."""
    seen: dict[str, int] = defaultdict(int)
    for row in rows:
        if row["route"]:
            seen[f"{row['method']} {row['route']}"] += 1
    return sorted(route for route, count in seen.items() if count > 1)


def discover_request_log(
    host: str, health_path: str = "/healthz", timeout: float = 5.0
) -> Path | None:
    """The request log directory a Moni at ``host`` reports on its health check, if this
    machine can read it; None otherwise (another app, a remote host, the log off).

    Asks ``GET <host><health_path>?request_log=1``: Moni answers with ``request_log`` only
    to loopback callers, so this finds the log when the app runs on this machine; anywhere
    else pass ``--server-log DIR``.
    """
    separator = "&" if "?" in health_path else "?"
    url = f"{host.rstrip('/')}{health_path}{separator}request_log=1"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            answer = json.loads(response.read(1_000_000))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.debug("no request log from %s: %s", url, exc)
        return None
    reported = answer.get("request_log") if isinstance(answer, dict) else None
    if not isinstance(reported, str) or not reported:
        return None
    directory = Path(reported)
    if not (directory.is_dir() and os.access(directory, os.R_OK | os.X_OK)):
        log.info("%s reports its request log in %s, which this machine cannot read", host, reported)
        return None
    return directory
