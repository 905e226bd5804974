"""``requests`` behind the HTTP client shape of Locust, for what runs outside Locust.

The history upload, the read-back for reconciliation and ``monilab target check`` drive an
app with :class:`~sim.targets.session.TargetSession` like Locust users do, but from the
lab's own process: :class:`RequestsClient` gives a ``requests.Session`` Locust's
``client.request(..., catch_response=True)`` shape and counts requests and failures.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

TIMEOUT_S = 120.0


class Outcome:
    """The part of a Locust response a target session uses, for a ``requests`` answer."""

    def __init__(self, response: requests.Response | None, error: str = "") -> None:
        self.response = response
        self.status_code = response.status_code if response is not None else 0
        self.headers = response.headers if response is not None else {}
        self.text = response.text if response is not None else ""
        self.error = error
        self.failed = False

    def json(self) -> Any:
        if self.response is None:
            raise ValueError(self.error)
        return self.response.json()

    def success(self) -> None:
        self.failed = False

    def failure(self, message: str) -> None:
        self.failed, self.error = True, message


@dataclass
class UploadStats:
    """Requests and failures of the uploads, with a few failure messages (thread-safe)."""

    requests: int = 0
    failures: int = 0
    examples: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str, outcome: Outcome) -> None:
        with self.lock:
            self.requests += 1
            if outcome.failed:
                self.failures += 1
                self.examples[f"{name}: {outcome.error}"[:200]] += 1


class RequestsClient:
    """Locust's ``client.request(..., catch_response=True)`` shape over ``requests``."""

    def __init__(self, host: str, stats: UploadStats | None = None) -> None:
        self.host = host.rstrip("/")
        self.stats = stats or UploadStats()
        self.http = requests.Session()

    @property
    def cookiejar(self) -> Any:
        """The session's cookies (what Locust's FastHttpSession calls ``cookiejar``)."""
        return self.http.cookies

    @contextlib.contextmanager
    def request(
        self,
        method: str,
        path: str,
        *,
        name: str | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        catch_response: bool = True,
    ) -> Iterator[Outcome]:
        try:
            response = self.http.request(
                method,
                self.host + path,
                headers=dict(headers or {}),
                json=json,
                data=data,
                timeout=TIMEOUT_S,
                allow_redirects=False,
            )
            outcome = Outcome(response)
        except requests.RequestException as exc:
            outcome = Outcome(None, f"{type(exc).__name__}: {exc}")
            outcome.failed = True
        yield outcome
        self.stats.count(name or path, outcome)

    def close(self) -> None:
        self.http.close()
