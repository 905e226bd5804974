"""What the app stored, joined to the ground truth: the dataset the lab's models learn from.

``monilab export`` writes the app's users, spendings and request log; the app knows nothing
of spending types or anomalies. This module joins an export to the population the agents
came from (a dataset made by ``monilab generate``) by agent id, and writes a training
dataset in the generated datasets' shape:

- ``users``: the population's row (labels, persona, style) of every exported user whose
  ``agent_id`` belongs to the population; users of other origins (browser journeys, people)
  are dropped and counted;
- ``transactions``: the app's stored spendings of those users, with the ground-truth
  ``is_anomaly``/``anomaly_kind`` of the planned spending whose ``client_txn_id`` they carry
  (``<agent_id>-<txn_id>``); a stored spending no agent planned is kept, labelled normal,
  and counted;
- ``labels`` and ``personas.toml``: the population's label history and persona file.

Users are keyed by the population's ``user_id`` (so its labels join); every value of a
transaction is the app's. Parts hold whole users, in user order, as training expects
(:mod:`analysis.shards`). The request log becomes app-usage features
(:func:`analysis.app_usage.usage_features`) keyed the same way.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.app_usage import usage_features
from monilab.contracts.datasets import DatasetWriter, read_dataset
from monilab.contracts.errors import MonilabError
from sim.agents.identity import register_labels

USERS_PER_PART = 5_000
"""Users per transaction part (as ``monilab generate`` writes them)."""
_APP_COLUMNS = ("ts", "method", "amount", "merchant", "category", "direction", "client_txn_id")


@dataclass(frozen=True)
class AppDataset:
    """A training dataset made from an export.

    Attributes:
        directory: Where it was written.
        usage: App-usage features per population ``user_id`` (users with live requests).
        join: Counts of the join (users and spendings matched, dropped, unplanned).
    """

    directory: Path
    usage: pd.DataFrame
    join: dict[str, Any]


def build_app_dataset(export: Path, truth: Path, out: Path) -> AppDataset:
    """Join the export at ``export`` to the population at ``truth``; write it to ``out``."""
    exported, population = _read(export, "--export"), _read(truth, "--data")
    app_users = exported.frame("users")
    truth_users = population.frame("users")
    if "agent_id" not in app_users.columns or "agent_id" not in truth_users.columns:
        raise MonilabError(f"{export}: the export's users carry no agent_id to join on")
    app_to_truth = _user_map(app_users, truth_users)
    if app_to_truth.empty:
        raise MonilabError(
            f"{export}: none of its users is an agent of the population at {truth} "
            "(was the load run with --population of that dataset?)"
        )
    agent_of = truth_users.set_index("user_id")["agent_id"]
    tx, unplanned = _labelled_spendings(
        exported.frame("transactions"), app_to_truth, population, agent_of
    )
    users = truth_users[truth_users["user_id"].isin(app_to_truth.to_numpy())]
    users = users.sort_values("user_id").reset_index(drop=True)
    manifest = population.manifest
    join = {
        "export": str(export),
        "truth": str(truth),
        "users_exported": len(app_users),
        "users_joined": len(users),
        "users_dropped": len(app_users) - len(users),
        "population_users": len(truth_users),
        "spendings_joined": len(tx),
        "spendings_unplanned": unplanned,
        "spendings_planned": int(population.rows("transactions")),
    }
    with DatasetWriter(
        out, seed=manifest.get("seed"), sources=["monilab export + ground truth"], overwrite=True
    ) as writer:
        writer.write("users", users)
        for part in _parts(tx, users["user_id"].to_numpy()):
            writer.write("transactions", part)
        if "labels" in population.tables:
            register_labels()
            labels = population.frame("labels")
            writer.write("labels", labels[labels["user_id"].isin(users["user_id"])])
        writer.meta.update(
            {key: manifest[key] for key in ("start", "days", "seed") if key in manifest}
            | {"generator": "app export", "app_join": join}
        )
    if (truth / "personas.toml").is_file():
        shutil.copyfile(truth / "personas.toml", out / "personas.toml")
    usage = _usage(exported, app_to_truth)
    join["users_with_live_requests"] = len(usage)
    return AppDataset(out, usage, join)


def _read(directory: Path, flag: str) -> Any:
    if not (Path(directory) / "manifest.json").is_file():
        raise MonilabError(f"{flag} {directory}: not a dataset directory (no manifest.json)")
    return read_dataset(directory)


def _user_map(app_users: pd.DataFrame, truth_users: pd.DataFrame) -> pd.Series:
    """App ``user_id`` → population ``user_id``, for exported users who are its agents."""
    truth_of = truth_users.set_index("agent_id")["user_id"]
    matched = app_users[app_users["agent_id"].isin(truth_of.index)]
    matched = matched.drop_duplicates("agent_id", keep="first")
    return pd.Series(
        truth_of.loc[matched["agent_id"]].to_numpy(),
        index=matched["user_id"].to_numpy(),
        name="truth_user_id",
    )


def _labelled_spendings(
    stored: pd.DataFrame, app_to_truth: pd.Series, population: Any, agent_of: pd.Series
) -> tuple[pd.DataFrame, int]:
    """The joined users' stored spendings with the ground-truth anomaly labels."""
    stored = stored[stored["user_id"].isin(app_to_truth.index)]
    tx = stored[list(_APP_COLUMNS)].copy()
    for column in ("method", "merchant", "category", "direction"):
        tx[column] = tx[column].astype(str)
    tx.insert(0, "user_id", app_to_truth.loc[stored["user_id"]].to_numpy())
    tx.insert(0, "txn_id", stored["txn_id"].to_numpy())
    sent = tx["client_txn_id"].astype(str).to_numpy()
    labels = _planned_labels(population, agent_of).reindex(sent)
    tx["is_anomaly"] = labels["is_anomaly"].fillna(False).astype(bool).to_numpy()
    kind = labels["anomaly_kind"].astype(object)
    tx["anomaly_kind"] = kind.where(kind.notna(), None).to_numpy()
    unplanned = int(labels["is_anomaly"].isna().sum())
    return tx.sort_values(["user_id", "ts", "txn_id"], kind="stable"), unplanned


def _planned_labels(population: Any, agent_of: pd.Series) -> pd.DataFrame:
    """Anomaly labels of the planned spendings by the ``client_txn_id`` the agents send
    (``<agent_id>-<txn_id>``, :func:`sim.agents.decisions.spending_payload`); ``agent_of``
    maps the population's ``user_id`` to its agent id."""
    columns = ["txn_id", "user_id", "is_anomaly", "anomaly_kind"]
    planned = population.frame("transactions", columns=columns)
    key = agent_of.loc[planned["user_id"]].to_numpy().astype(str)
    planned.index = pd.Index(np.char.add(np.char.add(key, "-"), planned["txn_id"].astype(str)))
    return planned[["is_anomaly", "anomaly_kind"]]


def _parts(tx: pd.DataFrame, users: np.ndarray) -> list[pd.DataFrame]:
    """Transactions split into parts of whole users, in user order."""
    bounds = users[::USERS_PER_PART][1:]
    cut = [0, *np.searchsorted(tx["user_id"].to_numpy(), bounds, side="left"), len(tx)]
    return [tx.iloc[a:b] for a, b in itertools.pairwise(cut) if b > a]


def _usage(exported: Any, app_to_truth: pd.Series) -> pd.DataFrame:
    """App-usage features of the joined users, keyed by population ``user_id``."""
    if "events" not in exported.tables or not exported.rows("events"):
        return usage_features(pd.DataFrame(columns=["user_id", "source"]))
    usage = usage_features(exported.frame("events"))
    usage = usage[usage.index.isin(app_to_truth.index)]
    usage.index = pd.Index(app_to_truth.loc[usage.index].to_numpy(), name="user_id")
    return usage.sort_index()
