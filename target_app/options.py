"""What ``monilab serve`` is asked for: the one declaration of the serve options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monilab.contracts.options import option


@dataclass(frozen=True)
class ServeOptions:
    """How the app is served (gunicorn gthread workers); ``workers`` None: two per core."""

    host: str = option("127.0.0.1", help="address to bind (default 127.0.0.1)")
    port: int = option(8000, low=1, high=65535, help="TCP port (default 8000)")
    workers: int | None = option(
        None, low=1, high=256, help="worker processes (default 2 per core)"
    )
    threads: int = option(4, low=1, high=256, help="threads per worker (default 4)")
    data_dir: Path = option(Path("data"), help="data directory (default ./data)")
    database_url: str | None = option(None, help="SQLAlchemy URL of the database")
    timeout: int = option(30, low=1, cli=False)
    graceful_timeout: int = option(10, low=1, cli=False)
