"""The app's export joined to the ground truth, and ``monilab train --export`` on it."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis.app_dataset as app_dataset
from analysis.app_dataset import build_app_dataset
from monilab.cli.main import main
from monilab.contracts.datasets import read_dataset, write_dataset
from monilab.contracts.errors import MonilabError

FOREIGN_USER = 9_999


def _events(app_ids: list[int]) -> pd.DataFrame:
    """A live session (login, two views, logout) for each of ``app_ids``, and one history row."""
    rows = []
    for n, user in enumerate(app_ids):
        t0 = pd.Timestamp("2024-05-01 09:00") + pd.Timedelta(minutes=10 * n)
        for k, (method, route) in enumerate(
            [
                ("POST", "/api/v1/auth/login"),
                ("GET", "/api/v1/analysis"),
                ("GET", "/api/v1/spendings"),
                ("POST", "/api/v1/auth/logout"),
            ]
        ):
            rows.append((t0 + pd.Timedelta(seconds=k), user, "locust", method, route))
        rows.append((t0, user, "history", "POST", "/api/v1/spendings/batch"))
    frame = pd.DataFrame(rows, columns=["ts", "user_id", "source", "method", "route"])
    return frame.assign(run_id="r", agent_id=None, status=200, latency_ms=1.0, bytes=10)


def make_export(truth_dir: Path, out: Path) -> dict[int, int]:
    """An export of the population as the app would hold it: other user ids, one user who is
    no agent, three spendings never stored and one no agent planned. Returns app → truth id."""
    truth = read_dataset(truth_dir)
    users = truth.frame("users")
    app_id = {int(u): 1_000 + int(u) * 7 % 997 for u in users["user_id"]}
    app_users = users.assign(
        user_id=users["user_id"].map(app_id), spending_type=None, persona="unknown"
    )
    foreign = app_users.iloc[[0]].assign(user_id=FOREIGN_USER, agent_id="journey-1")
    tx = truth.frame("transactions").iloc[3:]
    agent_of = users.set_index("user_id")["agent_id"]
    stored = tx.assign(
        client_txn_id=agent_of.loc[tx["user_id"]].to_numpy() + "-" + tx["txn_id"].astype(str),
        user_id=tx["user_id"].map(app_id),
        txn_id=np.arange(1, len(tx) + 1),
        is_anomaly=None,
        anomaly_kind=None,
    )
    unplanned = stored.iloc[[0]].assign(client_txn_id="by-hand-1", txn_id=len(stored) + 1)
    live = [app_id[int(u)] for u in users["user_id"].iloc[:5]]
    write_dataset(
        out,
        {
            "users": pd.concat([app_users, foreign]),
            "transactions": pd.concat([stored, unplanned]).sort_values("txn_id"),
            "events": _events([*live, FOREIGN_USER]),
        },
    )
    return {app: truth for truth, app in app_id.items()}


@pytest.fixture(scope="module")
def export_dir(other_dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "export"
    make_export(other_dataset_dir, out)
    return out


def test_the_join_keys_users_by_agent_and_labels_spendings_by_client_txn_id(
    other_dataset_dir, export_dir, tmp_path, monkeypatch
):
    monkeypatch.setattr(app_dataset, "USERS_PER_PART", 30)
    built = build_app_dataset(export_dir, other_dataset_dir, tmp_path / "app")
    truth = read_dataset(other_dataset_dir)
    planned = truth.frame("transactions")
    assert built.join["users_exported"] == 81 and built.join["users_joined"] == 80
    assert built.join["users_dropped"] == 1 and built.join["spendings_unplanned"] == 1
    assert built.join["spendings_joined"] == len(planned) - 3 + 1

    data = read_dataset(built.directory)
    users = data.frame("users")
    pd.testing.assert_frame_equal(
        users.reset_index(drop=True), truth.frame("users").reset_index(drop=True)
    )
    tx = data.frame("transactions")
    labelled = tx[tx["client_txn_id"] != "by-hand-1"]
    key = labelled["client_txn_id"].str.rsplit("-", n=1).str[-1].astype("int64")
    expected = planned.set_index("txn_id").loc[key]
    assert (labelled["user_id"].to_numpy() == expected["user_id"].to_numpy()).all()
    assert (labelled["is_anomaly"].to_numpy() == expected["is_anomaly"].to_numpy()).all()
    assert (labelled["amount"].to_numpy() == expected["amount"].to_numpy()).all()
    assert not tx.loc[tx["client_txn_id"] == "by-hand-1", "is_anomaly"].any()

    parts = [pd.read_parquet(p, columns=["user_id"]) for p in data.parts("transactions")]
    assert len(parts) == 3  # 80 users, 30 a part: every user whole, parts in user order
    bounds = [(p["user_id"].min(), p["user_id"].max()) for p in parts]
    assert all(a[1] < b[0] for a, b in itertools.pairwise(bounds))
    assert (built.directory / "personas.toml").is_file() == (
        other_dataset_dir / "personas.toml"
    ).is_file()

    first = truth.frame("users")["user_id"].iloc[:5].tolist()
    assert built.usage.index.tolist() == sorted(first)  # the foreign user's session is not ours
    assert (built.usage["usage_sessions"] == 1).all()
    assert built.join["users_with_live_requests"] == 5


def test_an_export_of_other_agents_is_refused_in_one_line(export_dir, dataset_dir, tmp_path):
    with pytest.raises(MonilabError, match="none of its users is an agent"):
        build_app_dataset(export_dir, dataset_dir, tmp_path / "app")
    with pytest.raises(MonilabError, match=r"--export .*not a dataset"):
        build_app_dataset(tmp_path, dataset_dir, tmp_path / "app2")


def test_train_on_the_export_says_what_it_learned_from(other_dataset_dir, export_dir, tmp_path):
    out = tmp_path / "models"
    code = main(
        [
            "train", "--data", str(other_dataset_dir), "--export", str(export_dir),
            "--out", str(out), "--trees", "10", "--hourly-users", "0",
        ]
    )  # fmt: skip
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["trained_on"]["kind"] == "app export joined to the ground truth"
    assert metrics["trained_on"]["users_joined"] == 80
    assert metrics["app_usage"]["users"] == 5 and "skipped" in metrics["app_usage"]
    card = (out / "model_card.html").read_text(encoding="utf-8")
    assert "trained on: the app&#39;s export" in card or "trained on: the app's export" in card
