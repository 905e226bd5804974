"""Shared small populations and datasets for the sim.agents tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.agents.generate import generate_dataset
from sim.agents.population import Population

SEED = 20240101
SMALL = {"users": 300, "seed": SEED, "start": "2024-01-01", "days": 60}
"""The small population most tests use: 300 users × 60 days in one shard."""


@pytest.fixture(scope="session")
def small_population() -> Population:
    """300 users × 60 days (one shard)."""
    return Population(**SMALL)


@pytest.fixture(scope="session")
def small_frames(small_population: Population) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(transactions, users)`` of the small population."""
    return small_population.transactions_table().to_pandas(), small_population.users_frame()


@pytest.fixture(scope="session")
def quarter_population() -> Population:
    """1,200 users over a quarter (2024-01..03) in one shard: enough for behaviour statistics."""
    return Population(users=1200, seed=7, start="2024-01-01", days=91, shard_size=1200)


@pytest.fixture(scope="session")
def quarter_frames(quarter_population: Population) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(transactions, users)`` of the quarter population."""
    return quarter_population.transactions_table().to_pandas(), quarter_population.users_frame()


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated dataset: the small population in three shards, one worker."""
    out = tmp_path_factory.mktemp("dataset") / "ds"
    generate_dataset(out, **SMALL, workers=1, shard_size=100, progress=False)
    return out


def everyday(transactions: pd.DataFrame) -> pd.DataFrame:
    """Everyday card/cash/transfer payments (no auto-debits, savings, investment, income)."""
    out = transactions[
        (transactions.direction == "out")
        & (transactions.method != "auto_debit")
        & ~transactions.category.isin(["savings", "investment"])
    ]
    return out.copy()
