"""``monilab serve``: run the Moni app (target_app) on gunicorn."""

from __future__ import annotations

import argparse
from pathlib import Path

from monilab.contracts.errors import MonilabError


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``serve`` subcommand."""
    parser = subparsers.add_parser(
        "serve",
        help="run the Moni app on gunicorn",
        description=(
            "Run the Moni app on gunicorn (gthread workers). The SQLite database and the "
            "request log (request-log/<host>-<pid>.jsonl) live in the data directory; "
            "--database-url or $DATABASE_URL selects PostgreSQL "
            "(postgresql+psycopg://user@host/db). SIGINT/SIGTERM stop it cleanly."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=_port, default=8000, help="TCP port (default %(default)s)")
    parser.add_argument(
        "--workers", type=_positive, default=None, help="worker processes (default 2 per core)"
    )
    parser.add_argument(
        "--threads", type=_positive, default=4, help="threads per worker (default %(default)s)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path("data"), help="data directory (default ./data)"
    )
    parser.add_argument("--database-url", default=None, help="SQLAlchemy URL of the database")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve until stopped."""
    from target_app.server import ServeOptions, default_workers, serve

    if args.data_dir.exists() and not args.data_dir.is_dir():
        raise MonilabError(f"--data-dir {args.data_dir} is not a directory")
    serve(
        ServeOptions(
            host=args.host,
            port=args.port,
            workers=args.workers or default_workers(),
            threads=args.threads,
            data_dir=args.data_dir,
            database_url=args.database_url,
        )
    )
    return 0
