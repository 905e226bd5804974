"""Login throttling and a cap on concurrent password hashing (per server process).

A brute-force run of wrong passwords, or a flood of logins, must not be able to guess a
password or starve everyone else:

- :class:`LoginThrottle` counts *failed* logins per account and per client address in a
  sliding window; past the limit the login answers 429 with ``Retry-After`` (the time until
  the oldest failure leaves the window) without checking the password at all. A success
  clears the account's count. The load tool's agents log in with their right passwords, so
  a normal run never trips it (``MONILAB_LOGIN_FAILURES`` and
  ``MONILAB_LOGIN_FAILURES_PER_ADDRESS`` set the limits).
- :class:`HashSlots` lets at most ``slots`` password hashes (sign-up, login, password
  change) run at once in a process; a request that cannot get a slot within ``wait_s``
  answers 429 (``Retry-After: 1``) instead of holding a server thread, so authenticated
  requests that hash nothing keep their threads and their CPU (``MONILAB_HASH_SLOTS``).

Counts live in the process: behind W server processes an attacker gets at most W times the
limit, still bounded.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator

from target_app.errors import TooManyRequests

MAX_KEYS = 100_000
"""Accounts and addresses tracked at most (the oldest are forgotten first)."""


class LoginThrottle:
    """Failed logins per account and per address in a sliding window (thread-safe)."""

    def __init__(
        self,
        per_account: int = 10,
        per_address: int = 20,
        window_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"account": per_account, "address": per_address}
        self.window_s = window_s
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, email: str, address: str) -> None:
        """TooManyRequests when the account or the address is over its limit."""
        now = self.clock()
        with self._lock:
            for kind, key in (("account", _account(email)), ("address", f"ip:{address}")):
                times = self._recent(key, now)
                if len(times) >= self.limits[kind]:
                    wait = times[0] + self.window_s - now
                    raise TooManyRequests(
                        f"too many failed logins for this {kind}; retry in {int(wait) + 1} s",
                        retry_after=int(wait) + 1,
                    )

    def failed(self, email: str, address: str) -> None:
        """Count one failed login."""
        now = self.clock()
        with self._lock:
            for key in (_account(email), f"ip:{address}"):
                self._recent(key, now).append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, email: str) -> None:
        """A right password clears the account's failures."""
        with self._lock:
            self._failures.pop(_account(email), None)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times


def _account(email: str) -> str:
    return f"account:{email.strip().lower()}"


class HashSlots:
    """At most ``slots`` password hashes at once; waiting longer than ``wait_s`` is a 429."""

    def __init__(self, slots: int = 1, wait_s: float = 2.0) -> None:
        self.slots = slots
        self.wait_s = wait_s
        self._semaphore = threading.BoundedSemaphore(slots)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one hashing slot for the block (TooManyRequests when none frees in time)."""
        if not self._semaphore.acquire(timeout=self.wait_s):
            raise TooManyRequests("the server is busy checking passwords; retry", retry_after=1)
        try:
            yield
        finally:
            self._semaphore.release()


_SLOTS = HashSlots()


def configure_hashing(slots: int, wait_s: float) -> None:
    """Set this process's hashing cap (called by the app factory)."""
    global _SLOTS
    _SLOTS = HashSlots(slots, wait_s)


def hashing_slot() -> contextlib.AbstractContextManager[None]:
    """A slot of this process's hashing cap (see :class:`HashSlots`)."""
    return _SLOTS.slot()
