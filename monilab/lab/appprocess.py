"""Start the Moni app in its own process (``monilab serve``), wait until healthy, stop it.

Used by the lab run, the benchmarks and the integration tests: the app always runs in its
own process group, so stopping it (or killing it, for fault tests) takes its gunicorn
workers along.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from monilab.contracts.errors import MonilabError
from sim.health import check_healthz


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class AppProcess:
    """``monilab serve`` as a child process.

    Example::

        with AppProcess(data_dir, workers=2) as app:
            requests.get(f"{app.url}/healthz")

    ``env`` adds variables to the server's environment; a value of None removes one.
    """

    def __init__(
        self,
        data_dir: str | Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        workers: int = 2,
        threads: int | None = None,
        database_url: str | None = None,
        startup_timeout: float = 30.0,
        env: Mapping[str, str | None] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port or free_port(host)
        self.workers = workers
        self.threads = threads
        self.database_url = database_url
        self.startup_timeout = startup_timeout
        self.env = env or {}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Base URL of the running app."""
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where the server's own output goes."""
        return self.data_dir / "serve.log"

    def start(self) -> AppProcess:
        """Start the server and wait until ``/healthz`` answers 200."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "monilab", "serve",
            "--host", self.host, "--port", str(self.port),
            "--workers", str(self.workers), "--data-dir", str(self.data_dir),
        ]  # fmt: skip
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={k: v for k, v in {**os.environ, **self.env}.items() if v is not None},
                start_new_session=True,
            )
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise MonilabError(
                    f"the app exited with status {self.proc.returncode}; see {self.log_path}"
                )
            try:
                check_healthz(self.url, timeout=2)
                return
            except MonilabError:
                time.sleep(0.2)
        self.stop()
        raise MonilabError(f"the app did not become healthy in {self.startup_timeout:.0f}s")

    def stop(
        self, sig: int = signal.SIGTERM, *, kill: bool = False, timeout: float = 20.0
    ) -> int | None:
        """Stop the server; returns its exit status (None when it was not running).

        ``sig`` (SIGTERM or SIGINT) asks gunicorn's master for a graceful stop of itself and
        its workers; ``kill`` sends SIGKILL to the whole process group at once (a crash, for
        fault tests). A server still running after ``timeout`` is killed with its group.
        """
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is not None:
            return proc.returncode
        try:
            if kill:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.send_signal(sig)
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            return proc.wait(timeout=5)

    def __enter__(self) -> AppProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
