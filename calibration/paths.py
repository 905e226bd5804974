"""Where the shared reference data lives (outside the repository) and the bundled files."""

from __future__ import annotations

import os
from pathlib import Path

REFERENCE_ENV = "MONILAB_REFERENCE_DIR"
"""Environment variable that overrides the reference directory."""

_PACKAGE_DIR = Path(__file__).resolve().parent


def repo_root() -> Path:
    """The repository root: the directory that holds the ``calibration`` package."""
    return _PACKAGE_DIR.parent


def reference_dir(root: str | Path | None = None) -> Path:
    """The shared reference-data directory (it may not exist; callers check).

    ``$MONILAB_REFERENCE_DIR`` when set, else ``<repo root>/../shared/reference``.
    Read when called, never at import time.

    Args:
        root: Repository root to resolve against; defaults to :func:`repo_root`.
    """
    override = os.environ.get(REFERENCE_ENV)
    if override:
        return Path(override)
    return Path(root or repo_root()).parent / "shared" / "reference"


def bundled_mapping(name: str) -> Path:
    """Path of a mapping shipped in ``calibration/mappings`` (e.g. ``household_ledger``)."""
    return _PACKAGE_DIR / "mappings" / f"{name}.toml"


def bundled_targets(name: str) -> Path:
    """Path of a target set shipped in ``calibration/targets`` (e.g. ``seoul_coffee_2024``)."""
    return _PACKAGE_DIR / "targets" / f"{name}.csv"
