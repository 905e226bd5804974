"""Ledgerly: a tiny personal-ledger web app, shaped differently from Moni, for the lab to load.

Cookie sessions with a CSRF token, ``Idempotency-Key`` headers and plain paths (no
``/api/v1``), so a load through ``examples/ledgerly/target.toml`` shows that the lab drives
an app from its target file alone. Run it with ``python -m examples.ledgerly``.
"""

from examples.ledgerly.app import create_app

__all__ = ["create_app"]
