"""Shared fixtures: small seeded populations in the schema and the shared reference data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.paths import reference_dir
from monilab.contracts.tables import conform

SPEND_CATEGORIES = ("food", "coffee", "shopping", "transport", "living", "entertainment")
CATEGORY_P = (0.35, 0.2, 0.15, 0.15, 0.1, 0.05)
LOG_MEANS = {"food": 9.4, "coffee": 8.5, "shopping": 10.3, "transport": 8.0, "living": 10.0}

LEDGER = Path("household_ledger") / "daily_household_transactions.csv"


def make_population(
    seed: int,
    *,
    n_users: int = 30,
    months: int = 4,
    txns_per_month: float = 25.0,
    hour_shift: float = 0.0,
    amount_factor: float = 1.0,
    category_p: tuple[float, ...] = CATEGORY_P,
    start: str = "2024-01-01",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded toy population: (transactions, users), both conformed to the schema."""
    rng = np.random.default_rng(seed)
    user_ids = np.arange(1, n_users + 1, dtype=np.int64)
    users = pd.DataFrame(
        {
            "user_id": user_ids,
            "persona": "toy",
            "spending_type": rng.choice(["saver", "stable", "yolo"], n_users),
            "age": rng.integers(20, 65, n_users).astype(np.int16),
            "gender": rng.choice(["m", "f"], n_users),
            "occupation": None,
            "region": "seoul",
            "monthly_income": rng.integers(2_000_000, 6_000_000, n_users),
            "signup_at": pd.Timestamp(start),
        }
    )
    counts = rng.poisson(txns_per_month, (n_users, months))
    owner = np.repeat(np.tile(user_ids, months), counts.T.ravel())
    month = np.repeat(np.repeat(np.arange(months), n_users), counts.T.ravel())
    n = len(owner)
    first = pd.Timestamp(start)
    day = rng.integers(0, 28, n)
    hour = np.mod(rng.normal(13.0 + hour_shift, 3.5, n), 24.0)
    ts = (
        pd.to_datetime([first + pd.DateOffset(months=int(m)) for m in month])
        + pd.to_timedelta(day, unit="D")
        + pd.to_timedelta(np.floor(hour * 60), unit="min")
    )
    category = rng.choice(SPEND_CATEGORIES, n, p=category_p)
    log_mean = np.array([LOG_MEANS.get(c, 9.0) for c in category])
    amount = np.maximum(100, np.rint(np.exp(rng.normal(log_mean, 0.6)) * amount_factor))
    transactions = pd.DataFrame(
        {
            "txn_id": np.arange(n, dtype=np.int64),
            "user_id": owner,
            "ts": ts.astype("datetime64[us]"),
            "method": rng.choice(["card", "transfer", "cash"], n, p=[0.8, 0.1, 0.1]),
            "amount": amount.astype(np.int64),
            "merchant": None,
            "category": category,
            "direction": "out",
            "is_anomaly": False,
            "anomaly_kind": None,
        }
    )
    return (
        conform("transactions", transactions).to_pandas(),
        conform("users", users).to_pandas(),
    )


@pytest.fixture
def population() -> Callable[..., tuple[pd.DataFrame, pd.DataFrame]]:
    """The :func:`make_population` factory."""
    return make_population


@pytest.fixture
def ledger_path() -> Path:
    """The real household ledger, or skip when the shared reference data is absent."""
    path = reference_dir() / LEDGER
    if not path.is_file():
        pytest.skip(f"shared reference data not found at {path} (set MONILAB_REFERENCE_DIR)")
    return path
