"""Load the facts' frames from a dataset directory or from microdata through a mapping.

A dataset's app usage comes from its ``events`` table when it has one (an app export);
for a generated dataset (``monilab generate``: a manifest with seed, users, days, start
and a ``personas.toml``) the population is rebuilt and the app actions of a seeded sample
of agents give the sessions. The sample is taken from the first shard only, so at most one
shard is simulated (a few seconds for 5,000 users × a year); the shard's users are a random
draw of the personas, so the sample stays representative.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from calibration.facts.frames import TRANSACTION_COLUMNS, FactData, Sessions, fact_data
from calibration.facts.usage import sessions_from_actions, sessions_from_events
from monilab.contracts.datasets import Dataset, read_dataset
from monilab.contracts.errors import MonilabError

log = logging.getLogger(__name__)

SESSION_SAMPLE = 100
"""Agents whose decisions give a generated dataset's app sessions."""
SAMPLE_SEED_TAG = 0xFAC75
"""Mixed with the dataset seed to draw the agent sample (fixed: same dataset, same sample)."""
EVENT_COLUMNS = ["ts", "user_id", "agent_id", "method", "route", "status"]
_POPULATION_KEYS = ("seed", "users", "days", "start")


def load_dataset_facts(directory: str | Path, *, sample: int = SESSION_SAMPLE) -> FactData:
    """The facts' frames of a dataset directory (generated, exported or mapped).

    Raises:
        MonilabError: Not a dataset, or no transactions table.
    """
    dataset = read_dataset(directory)
    if "transactions" not in dataset.tables:
        raise MonilabError(f"{directory}: the dataset has no transactions table")
    transactions = _read_transactions(dataset)
    data = fact_data(transactions, label=str(directory))
    if "events" in dataset.tables:
        events = dataset.frame("events", EVENT_COLUMNS)
        data.sessions = Sessions(sessions_from_events(events), "events table (app request log)")
    else:
        data.sessions, data.sessions_missing = _population_sessions(dataset, transactions, sample)
    return data


def load_microdata_facts(mapping: str | Path, path: str | Path | None = None) -> FactData:
    """The facts' frames of a microdata file mapped into the schema.

    Args:
        mapping: The TOML mapping (see :mod:`calibration.adapters.mapping`).
        path: The microdata file; defaults to the mapping's file in the reference directory.
    """
    from calibration.adapters import load_microdata

    reference = load_microdata(mapping, path)
    return fact_data(
        reference.transactions,
        label=f"{reference.name} ({path or 'reference directory'})",
        sessions_missing=f"{reference.name} has no app usage",
    )


def _read_transactions(dataset: Dataset) -> pd.DataFrame:
    """The transactions columns the facts read; strings as categoricals (bounded memory)."""
    parts = dataset.parts("transactions")
    if not parts:
        raise MonilabError(f"{dataset.directory}: the transactions table has no rows")
    names = set(pq.read_schema(parts[0]).names)
    columns = [c for c in TRANSACTION_COLUMNS if c in names]
    strings = [c for c in ("category", "direction", "merchant") if c in columns]
    tables = [pq.read_table(p, columns=columns, read_dictionary=strings) for p in parts]
    table = pa.concat_tables([t.unify_dictionaries() for t in tables], promote_options="default")
    return table.unify_dictionaries().to_pandas()


def _population_sessions(
    dataset: Dataset, transactions: pd.DataFrame, sample: int
) -> tuple[Sessions | None, str]:
    """Sessions of a sample of a generated dataset's agents, or None and the reason."""
    manifest = dataset.manifest
    personas = dataset.directory / "personas.toml"
    missing = [k for k in _POPULATION_KEYS if k not in manifest]
    if missing or not personas.is_file():
        lacking = ", ".join(missing) or "personas.toml"
        return None, f"no events table and no population to rebuild (missing {lacking})"
    log.info("rebuilding the population's first shard for %d agents' app sessions", sample)
    population = _rebuild(manifest, personas)
    indices = _sample_agents(population, int(manifest["seed"]), sample)
    pairs = [(index + 1, action) for index in indices for action in population.actions(int(index))]
    sent = sum(1 for _, action in pairs if action.kind == "add_spending")
    stored = int(transactions["user_id"].isin(indices + 1).sum())
    if sent != stored:
        return None, (
            f"the rebuilt population does not reproduce the dataset ({sent} payments of the "
            f"sampled agents vs {stored} stored): another persona file or code version"
        )
    origin = f"agent decisions of {len(indices)} sampled agents (seeded, first shard)"
    return Sessions(sessions_from_actions(pairs), origin), ""


def _rebuild(manifest: dict[str, Any], personas: Path) -> Any:
    from sim.agents import Population

    return Population(
        personas,
        users=int(manifest["users"]),
        seed=int(manifest["seed"]),
        start=str(manifest["start"]),
        days=int(manifest["days"]),
        anomaly_rate=float(manifest.get("anomaly_rate", 0.01)),
        shard_size=int(manifest.get("shard_size", 5000)),
    )


def _sample_agents(population: Any, seed: int, sample: int) -> np.ndarray:
    """A seeded sample of agent indices from the first shard, sorted."""
    first_shard = population.shard_range(0)
    rng = np.random.default_rng([seed, SAMPLE_SEED_TAG])
    size = min(sample, len(first_shard))
    chosen = rng.choice(len(first_shard), size=size, replace=False)
    return np.sort(chosen + first_shard.start).astype(np.int64)
