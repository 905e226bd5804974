"""Tests for analysis.shards: part-by-part passes equal whole-table results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import anomaly, forecast, shards
from analysis.features import user_features
from monilab.contracts.datasets import DatasetWriter, read_dataset


@pytest.fixture(scope="module")
def three_parts(dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session dataset rewritten with its transactions in three parts by user range."""
    data = read_dataset(dataset_dir)
    tx = data.frame("transactions")
    out = tmp_path_factory.mktemp("parts") / "data"
    with DatasetWriter(out, seed=11) as writer:
        writer.write("users", data.frame("users"))
        for chunk in np.array_split(np.sort(tx["user_id"].unique()), 3):
            writer.write("transactions", tx[tx["user_id"].isin(chunk)])
    return out


def test_scan_finds_parts_users_and_span(three_parts: Path, transactions: pd.DataFrame) -> None:
    info = shards.scan(three_parts)
    assert len(info.parts) == 3
    assert info.rows == len(transactions)
    np.testing.assert_array_equal(info.tx_users, np.sort(transactions["user_id"].unique()))
    assert info.first_ts == transactions["ts"].min() and info.last_ts == transactions["ts"].max()


def test_weeks_of_matches_the_whole_table_split(
    three_parts: Path, transactions: pd.DataFrame
) -> None:
    rows = forecast.weekly_rows(transactions)
    first_test, last = shards.weeks_of(shards.scan(three_parts), 3)
    assert first_test == forecast.first_test_week(rows["week"].unique(), 3)
    assert last == rows["week"].max()


def test_features_pass_equals_whole_table(three_parts: Path, transactions: pd.DataFrame) -> None:
    info = shards.scan(three_parts)
    users = info.tx_users
    one = shards.features_pass(
        info, test_weeks=3, fit_users=users, hourly_users=users[:5], random_state=0, n_jobs=1
    )
    pd.testing.assert_frame_equal(one.features, user_features(transactions), check_exact=True)
    train, test = forecast.time_split(forecast.weekly_rows(transactions), 3)
    expected = test[list(shards.TEST_COLUMNS)].reset_index(drop=True)
    pd.testing.assert_frame_equal(one.test_rows, expected, check_exact=True)
    pd.testing.assert_series_equal(one.budget, forecast.weekly_budget(train), check_exact=True)
    pd.testing.assert_frame_equal(one.fit_rows.reset_index(drop=True), train, check_exact=True)
    assert set(one.hourly_tx["user_id"]) == set(users[:5])
    assert len(one.txn_sample) == len(anomaly.transaction_features(transactions))


def test_anomaly_pass_equals_whole_table(
    three_parts: Path, transactions: pd.DataFrame, tmp_path: Path
) -> None:
    feats = anomaly.transaction_features(transactions)
    scorer = anomaly.AnomalyScorer(n_estimators=20, random_state=0).fit(feats)
    cells = anomaly.cell_scores(transactions, scorer)
    keep = np.array([3, 4])
    two = shards.anomaly_pass(
        shards.scan(three_parts), scorer, out=tmp_path, keep_users=keep, n_jobs=2
    )
    assert two.cells == len(cells) and two.scored_rows == len(feats)
    for column in shards.EVAL_COLUMNS:
        np.testing.assert_array_equal(two.eval[column], cells[column].to_numpy())
    notes = pd.read_parquet(tmp_path / "notifications.parquet")
    anomaly.notifications(cells).to_parquet(tmp_path / "expected.parquet", index=False)
    pd.testing.assert_frame_equal(notes, pd.read_parquet(tmp_path / "expected.parquet"))
    risky = pd.read_parquet(tmp_path / "risky_top10.parquet")
    assert len(risky) == len(
        anomaly.monthly_top_risky(anomaly.score_transactions(transactions, scorer))
    )
    assert set(two.kept_cells["user_id"]) <= set(keep)
    assert not (tmp_path / ".parts").exists()


def test_user_chunks_cover_every_row_once_in_row_order() -> None:
    user_id = np.array([5, 1, 5, 9, 2, 1, 7, 9, 2])
    chunks = shards.user_chunks(user_id, size=2)
    assert [sorted(set(user_id[c])) for c in chunks] == [[1, 2], [5, 7], [9]]
    assert all((np.diff(c) > 0).all() for c in chunks)
    np.testing.assert_array_equal(np.sort(np.concatenate(chunks)), np.arange(len(user_id)))


def test_anomaly_pass_by_small_user_chunks_equals_whole_table(
    three_parts: Path, transactions: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shards, "USERS_PER_CHUNK", 2)
    feats = anomaly.transaction_features(transactions)
    scorer = anomaly.AnomalyScorer(n_estimators=20, random_state=0).fit(feats)
    cells = anomaly.cell_scores(transactions, scorer)
    scored = anomaly.score_transactions(transactions, scorer)
    keep = np.array([1, 3, 4, 8])
    two = shards.anomaly_pass(
        shards.scan(three_parts), scorer, out=tmp_path, keep_users=keep, n_jobs=1
    )
    for column in shards.EVAL_COLUMNS:
        np.testing.assert_array_equal(two.eval[column], cells[column].to_numpy())
    expected = scored[scored["user_id"].isin(keep).to_numpy()]
    expected = expected.sort_values("user_id", kind="stable").reset_index(drop=True)
    got = two.kept_scored.sort_values("user_id", kind="stable").reset_index(drop=True)
    text = {"category": str, "merchant": str}  # parts are read as Categoricals
    pd.testing.assert_frame_equal(got.astype(text), expected.astype(text), check_exact=True)
    notes = pd.read_parquet(tmp_path / "notifications.parquet")
    expected_notes = anomaly.notifications(cells)
    expected_notes.to_parquet(tmp_path / "expected.parquet", index=False)
    pd.testing.assert_frame_equal(notes, pd.read_parquet(tmp_path / "expected.parquet"))
    kinds = expected_notes["kind"].str.split(":").str[0].value_counts().to_dict()
    assert two.notes == kinds and set(kinds) == {"calm", "overspend"}
    risky = pd.read_parquet(tmp_path / "risky_top10.parquet")
    anomaly.monthly_top_risky(scored).to_parquet(tmp_path / "risky_expected.parquet", index=False)
    pd.testing.assert_frame_equal(risky, pd.read_parquet(tmp_path / "risky_expected.parquet"))
