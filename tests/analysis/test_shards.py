"""Tests for analysis.shards: part-by-part passes equal whole-table results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import anomaly, forecast, shards
from analysis.features import user_features
from monilab.schema import DatasetWriter, read_dataset


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
