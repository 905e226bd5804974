"""Is the app under test up? One ``GET`` of its health path (``/healthz`` for Moni; a target
file names its own) before a load or browser run."""

from __future__ import annotations

import urllib.error
import urllib.request

from monilab.contracts.errors import MonilabError


def check_healthz(host: str, path: str = "/healthz", timeout: float = 5.0) -> None:
    """MonilabError unless ``GET <host><path>`` answers 200 within ``timeout`` seconds."""
    try:
        with urllib.request.urlopen(f"{host}{path}", timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MonilabError(f"{host} is not reachable ({reason})") from None
    if status != 200:
        raise MonilabError(f"{host}{path} answered HTTP {status}")
