"""Is the app under test up? One ``GET /healthz`` before a load or browser run."""

from __future__ import annotations

import urllib.error
import urllib.request

from monilab.contracts.errors import MonilabError


def check_healthz(host: str, timeout: float = 5.0) -> None:
    """MonilabError unless ``GET <host>/healthz`` answers 200 within ``timeout`` seconds."""
    try:
        with urllib.request.urlopen(f"{host}/healthz", timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MonilabError(f"{host} is not reachable ({reason})") from None
    if status != 200:
        raise MonilabError(f"{host}/healthz answered HTTP {status}")
