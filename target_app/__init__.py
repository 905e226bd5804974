"""The Moni personal-finance app (Flask) that the lab loads and records.

``create_app`` is imported lazily, so ``import target_app.models`` (and ``db``, ``frames``)
works without importing Flask, for reading the tables offline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from target_app.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from target_app.app import create_app

        return create_app
    raise AttributeError(f"module 'target_app' has no attribute {name!r}")
