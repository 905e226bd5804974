"""Shared fixtures: one small seeded dataset generated once per test session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from monilab.contracts.datasets import read_dataset
from sim.agents.generate import generate_dataset

USERS = 300
DAYS = 120
SEED = 11


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-user × 120-day dataset directory (seed 11)."""
    out = tmp_path_factory.mktemp("analysis") / "data"
    generate_dataset(out, users=USERS, days=DAYS, start="2024-01-01", seed=SEED, progress=False)
    return out


@pytest.fixture(scope="session")
def other_dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A smaller dataset with another seed, for cross-population evaluation."""
    out = tmp_path_factory.mktemp("analysis") / "other"
    generate_dataset(out, users=80, days=DAYS, start="2024-01-01", seed=SEED + 1, progress=False)
    return out


@pytest.fixture(scope="session")
def transactions(dataset_dir: Path) -> pd.DataFrame:
    """The dataset's transactions (do not modify)."""
    return read_dataset(dataset_dir).frame("transactions")


@pytest.fixture(scope="session")
def users(dataset_dir: Path) -> pd.DataFrame:
    """The dataset's users (do not modify)."""
    return read_dataset(dataset_dir).frame("users")
