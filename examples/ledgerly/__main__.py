"""Run Ledgerly on gunicorn: ``python -m examples.ledgerly --port 8100``.

The process that runs this is gunicorn's master. It creates the tables once (so the
workers never race on the schema) and puts one random ``LEDGERLY_SECRET`` in the
environment the workers inherit, unless one is set: a session cookie signed by one worker
must be valid on the others. ``gthread`` workers (4 threads each) keep a process busy while
a request waits on SQLite's write lock. SIGTERM stops it gracefully.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from examples.ledgerly.app import SECRET_ENV, create_app
from examples.ledgerly.db import init_db

THREADS = 4

log = logging.getLogger("examples.ledgerly")


class LedgerlyServer(BaseApplication):
    """gunicorn serving :func:`create_app` with fixed settings (no gunicorn command line)."""

    def __init__(self, database: Path, host: str, port: int, workers: int) -> None:
        self.database = database
        self.gunicorn_settings = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": THREADS,
            "timeout": 60,
            "graceful_timeout": 10,
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "ledgerly",
        }
        super().__init__()

    def load_config(self) -> None:
        """Apply the settings (gunicorn reads no command line or config file here)."""
        settings = dict(self.gunicorn_settings)
        if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25
            settings["control_socket_disable"] = True  # one shared socket path would clash
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """The app, created in each worker."""
        return create_app(self.database)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: ``--port``, ``--database``, ``--host``, ``--workers``."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.ledgerly", description="Run the Ledgerly example app."
    )
    parser.add_argument("--port", type=int, default=8100, help="port (default 8100)")
    parser.add_argument(
        "--database", type=Path, default=Path("ledgerly.sqlite3"), help="SQLite file"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be 1 or more")
    return args


def main(argv: list[str] | None = None) -> None:
    """Create the tables, share one secret with the workers, run gunicorn until stopped."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    database = args.database.resolve()
    database.parent.mkdir(parents=True, exist_ok=True)
    init_db(database)
    os.environ.setdefault(SECRET_ENV, secrets.token_hex(32))
    log.info(
        "Ledgerly on http://%s:%d, %d workers x %d threads, database %s",
        args.host, args.port, args.workers, THREADS, database,
    )  # fmt: skip
    LedgerlyServer(database, args.host, args.port, args.workers).run()


if __name__ == "__main__":
    main()
