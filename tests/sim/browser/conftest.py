"""Fixtures for browser tests: the real Chromium, a real app on 127.0.0.1, small plans."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monilab.lab.appprocess import AppProcess
from sim.browser.options import CHROMIUM


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium binary; the test is skipped when it is not installed."""
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """``monilab serve`` (2 workers, SQLite) shared by this package's browser tests."""
    data_dir = tmp_path_factory.mktemp("browser-app")
    fast_hash = {"MONILAB_PASSWORD_HASH": "pbkdf2:sha256:1000"}
    with AppProcess(data_dir, workers=2, env=fast_hash) as app:
        yield app
