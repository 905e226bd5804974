"""Argument checks shared by several ``monilab`` subcommands."""

from __future__ import annotations

from urllib.parse import urlparse

from monilab.contracts.errors import MonilabError


def check_host(url: str) -> str:
    """A base URL without trailing slash, or MonilabError."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise MonilabError(f"--host {url!r}: expected a URL like http://127.0.0.1:8000")
    return url.rstrip("/")
