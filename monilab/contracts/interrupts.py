"""SIGTERM stops a command like Ctrl-C does.

A CI timeout, ``timeout`` or a container stop sends SIGTERM; Python's default ends the
process at once, leaving what it started (a Locust process group, an app server) running.
Within :func:`sigterm_as_interrupt` SIGTERM raises :class:`Interrupted` (a
KeyboardInterrupt), so every ``except KeyboardInterrupt``/``finally`` that cleans up after
Ctrl-C also runs for SIGTERM.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Interrupted(KeyboardInterrupt):
    """SIGTERM, turned into the same clean stop as Ctrl-C."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT stop the command like Ctrl-C.

    SIGINT gets Python's own handler back explicitly: a process started in the background
    by a non-interactive shell inherits SIGINT as ignored, and ``kill -INT`` must still stop
    it there. Outside the main thread (no signal handlers there) the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Interrupted()

    previous_term = signal.signal(signal.SIGTERM, handler)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)
