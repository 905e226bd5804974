"""Run the app on gunicorn in-process (``monilab serve``).

Why gunicorn's ``gthread`` workers: Python runs one thread at a time per process, so
throughput on N cores comes from worker *processes* (2 per core by default, so one can
run while another waits on the database). A few threads per worker keep a process busy
while a request waits on SQLite's write lock or a PostgreSQL round trip, and keep-alive
connections (Locust reuses them) do not pin a whole process as with ``sync`` workers.
``benchmarks/app_throughput.py`` measures the choice.

The process that runs :func:`serve` is gunicorn's master: it creates the tables once
(so workers never race on ``create_all``), shares one secret key with its workers through
``MONILAB_SECRET_KEY`` and stops them on SIGINT/SIGTERM (SIGTERM: graceful, in-flight
requests finish). Each worker closes its request log and database pool on exit.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import secrets
import socket
from typing import Any

from gunicorn.app.base import BaseApplication

from monilab.contracts.errors import MonilabError
from target_app.config import database_url_for
from target_app.db import Database, ensure_sqlite_dir, init_db
from target_app.options import ServeOptions

log = logging.getLogger(__name__)


def default_workers() -> int:
    """Two workers per core."""
    return 2 * (os.cpu_count() or 1)


def _worker_exit(_server: Any, worker: Any) -> None:
    """gunicorn hook: close the worker's request log and database connections."""
    app = getattr(worker, "wsgi", None)
    extensions = getattr(app, "extensions", {})
    request_log = extensions.get("monilab_request_log")
    if request_log is not None:
        request_log.close()
    state = extensions.get("monilab")
    if state is not None:
        state.db.dispose()


class MoniServer(BaseApplication):
    """A gunicorn application serving :func:`target_app.create_app` with fixed settings."""

    def __init__(self, options: ServeOptions, app_config: dict[str, Any]) -> None:
        self.options = options
        self.app_config = app_config
        super().__init__()

    def load_config(self) -> None:
        """Gunicorn settings from the options (no command line or config file is read)."""
        settings = {
            "bind": f"{self.options.host}:{self.options.port}",
            "workers": self.options.workers,
            "worker_class": "gthread",
            "threads": self.options.threads,
            "timeout": self.options.timeout,
            "graceful_timeout": self.options.graceful_timeout,
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "monilab-serve",
            "worker_exit": _worker_exit,
        }
        if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25
            settings["control_socket_disable"] = True  # one shared path would clash
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Create the app (called in each worker after fork)."""
        from target_app.app import create_app

        return create_app(self.app_config)


def check_port_free(host: str, port: int) -> None:
    """MonilabError when ``host:port`` cannot be bound (in use, or not an address here)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc})"
            raise MonilabError(f"--port {port} on {host} {reason}") from None


def serve(options: ServeOptions) -> None:
    """Create the tables, then run gunicorn until SIGINT/SIGTERM."""
    check_port_free(options.host, options.port)
    if options.workers is None:
        options = dataclasses.replace(options, workers=default_workers())
    data_dir = options.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    url = database_url_for(data_dir, options.database_url)
    os.environ.setdefault("MONILAB_SECRET_KEY", secrets.token_hex(32))
    ensure_sqlite_dir(url)
    db = Database.connect(url)
    try:
        init_db(db)
    finally:
        db.dispose()
    app_config = {
        "DATABASE_URL": url,
        "MONILAB_DATA_DIR": str(data_dir),
        "REQUEST_LOG_DIR": str(data_dir / "request-log"),
        "DB_POOL_SIZE": max(8, 2 * options.threads),
        "CREATE_TABLES": False,
    }
    log.info(
        "serving on http://%s:%d with %d workers x %d threads; request log in %s",
        options.host,
        options.port,
        options.workers,
        options.threads,
        data_dir / "request-log",
    )
    MoniServer(options, app_config).run()
