"""The request log: one JSON line per HTTP request, one file per server process.

Format (``<dir>/<hostname>-<pid>.jsonl``, UTF-8, one object per line)::

    {"ts": "2025-01-07T21:04:05.123456", "run_id": "r1", "agent_id": "a-17",
     "source": "locust", "user_id": 42, "method": "POST",
     "route": "/api/v1/spendings", "status": 201, "latency_ms": 3.412, "bytes": 311}

- ``ts``: when the request started, naive Korean local time (like every lab timestamp);
- ``run_id``, ``agent_id``: the ``X-Run-Id`` and ``X-Agent-Id`` headers (null when absent,
  at most 128 characters);
- ``source``: the ``X-Source`` header if it is one of ``locust``, ``browser``, ``api``,
  else ``api``;
- ``user_id``: the authenticated user (or the one just signed up / logged in), else null;
- ``route``: the URL rule template (``/api/v1/spendings/<int:spending_id>``), or
  ``<unmatched>`` when no rule matched (404);
- ``status``, ``latency_ms`` (from the first ``before_request`` hook to the response
  being ready), ``bytes`` (response body length, null when streamed).

Why this is safe and cheap: each process opens its own file with ``O_APPEND`` and writes
each line with a single ``os.write`` (lines are far below ``PIPE_BUF``), so threads never
interleave, no buffer can be lost when a worker exits or is killed, and there is no
cross-process locking. A line costs a few microseconds. ``monilab export`` reads every
``*.jsonl`` file of the directory (this module imports Flask only in :func:`install`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monilab.contracts.vocabulary import EVENT_SOURCES
from target_app.models import KST

if TYPE_CHECKING:
    from flask import Flask, Request, Response

log = logging.getLogger(__name__)

DEFAULT_SOURCE = "api"
HEADER_LIMIT = 128
UNMATCHED = "<unmatched>"


class RequestLog:
    """Appends JSON lines to ``<directory>/<hostname>-<pid>.jsonl`` (reopened after fork)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._fd: int | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._failed = False

    @property
    def path(self) -> Path:
        """This process's file."""
        return self.directory / f"{socket.gethostname()}-{os.getpid()}.jsonl"

    def _descriptor(self) -> int:
        pid = os.getpid()
        if self._fd is None or self._pid != pid:
            with self._lock:
                if self._fd is None or self._pid != pid:
                    self.directory.mkdir(parents=True, exist_ok=True)
                    self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                    self._pid = pid
        return self._fd

    def write(self, record: dict[str, Any]) -> None:
        """Append one record as one line (errors are logged once, never raised)."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        try:
            os.write(self._descriptor(), line.encode("utf-8"))
        except OSError:
            if not self._failed:
                log.exception("cannot write the request log in %s", self.directory)
                self._failed = True

    def close(self) -> None:
        """Close this process's file (it is reopened on the next write)."""
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


def _header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    return value[:HEADER_LIMIT] if value else None


def source_of(request: Request) -> str:
    """The request's ``X-Source`` if it is a known event source, else ``api``."""
    value = (request.headers.get("X-Source") or "").strip().lower()
    return value if value in EVENT_SOURCES else DEFAULT_SOURCE


def install(app: Flask, request_log: RequestLog) -> None:
    """Log every request of ``app`` (register this before other ``before_request`` hooks)."""
    from flask import g, request

    @app.before_request
    def _start_clock() -> None:
        g.request_started = time.perf_counter()
        g.request_ts = dt.datetime.now(KST).replace(tzinfo=None)

    @app.after_request
    def _log_request(response: Response) -> Response:
        started = g.get("request_started")
        if started is None:  # failed before the first hook ran
            started = time.perf_counter()
            g.request_ts = dt.datetime.now(KST).replace(tzinfo=None)
        rule = request.url_rule
        request_log.write(
            {
                "ts": g.request_ts.isoformat(timespec="microseconds"),
                "run_id": _header(request, "X-Run-Id"),
                "agent_id": _header(request, "X-Agent-Id"),
                "source": source_of(request),
                "user_id": g.get("user_id"),
                "method": request.method,
                "route": rule.rule if rule is not None else UNMATCHED,
                "status": response.status_code,
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                "bytes": response.content_length,
            }
        )
        return response


def read_records(directory: str | Path) -> Iterator[tuple[Path, int, dict[str, Any] | None]]:
    """Every line of every ``*.jsonl`` file in ``directory``, in file-name order.

    Yields ``(file, line number, record)``; ``record`` is None for a line that is not a JSON
    object (e.g. a torn last line after a power cut), so callers can count those.
    """
    for path in sorted(Path(directory).glob("*.jsonl")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                yield path, number, record if isinstance(record, dict) else None
