"""``monilab serve``: run the Moni app (target_app) on gunicorn."""

from __future__ import annotations

from monilab.contracts.errors import MonilabError
from monilab.lab.commands import Command
from target_app.options import ServeOptions


def serve(options: ServeOptions) -> None:
    """Serve until stopped (SIGINT/SIGTERM)."""
    from target_app.server import serve as serve_app

    if options.data_dir.exists() and not options.data_dir.is_dir():
        raise MonilabError(f"--data-dir {options.data_dir} is not a directory")
    serve_app(options)


def report(options: ServeOptions, result: None) -> str:
    """Nothing to add once the server stopped."""
    return ""


COMMAND = Command(
    name="serve",
    help="run the Moni app on gunicorn",
    description=(
        "Run the Moni app on gunicorn (gthread workers). The SQLite database and the "
        "request log (request-log/<host>-<pid>.jsonl) live in the data directory; "
        "--database-url or $DATABASE_URL selects PostgreSQL "
        "(postgresql+psycopg://user@host/db). SIGINT/SIGTERM stop it cleanly."
    ),
    options=ServeOptions,
    run=serve,
    report=report,
)
