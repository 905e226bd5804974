"""Each statistic of the targets vocabulary on a hand-made frame, against hand arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration.frames import HAS_TIME
from calibration.statistics import compute_statistic
from monilab.contracts.errors import MonilabError

HOURS = ["00-06", "06-11", "11-14", "17-21"]
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

# user, ts, category, amount, method, direction, has_time
ROWS = [
    (1, "2024-03-04 08:30", "coffee", 4000, "card", "out", True),  # Monday
    (1, "2024-03-04 12:10", "food", 10000, "card", "out", True),
    (1, "2024-03-05 13:00", "coffee", 6000, "card", "out", True),  # Tuesday
    (2, "2024-03-09 19:00", "coffee", 5000, "cash", "out", True),  # Saturday
    (2, "2024-03-10 00:00", "coffee", 3000, "card", "out", False),  # Sunday, time unknown
    (2, "2024-04-02 09:00", "shopping", 30000, "card", "out", True),  # Tuesday
    (2, "2024-04-10 10:00", "savings", 100000, "transfer", "out", True),
    (1, "2024-03-25 10:00", "income", 2000000, "transfer", "in", True),
]


@pytest.fixture
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    tx = pd.DataFrame(
        ROWS, columns=["user_id", "ts", "category", "amount", "method", "direction", HAS_TIME]
    )
    tx["ts"] = pd.to_datetime(tx["ts"])
    tx["txn_id"] = np.arange(len(tx))
    users = pd.DataFrame({"user_id": [1, 2], "age": [25, 41], "gender": ["f", "m"]})
    return tx, users


def stat(frames, statistic: str, keys: list[str], row_filter: str = "") -> list[float]:
    tx, users = frames
    return compute_statistic(tx, users, statistic, row_filter, keys).tolist()


def test_category_shares(frames) -> None:
    keys = ["coffee", "food", "shopping"]
    assert stat(frames, "count_share_by_category", keys) == pytest.approx([4 / 6, 1 / 6, 1 / 6])
    assert stat(frames, "amount_share_by_category", keys) == pytest.approx(
        [18 / 58, 10 / 58, 30 / 58]
    )
    # Savings only count when the filter names them; listed keys bound the denominator.
    assert stat(frames, "count_share_by_category", ["coffee", "savings"]) == [1.0, 0.0]


def test_hour_shares_skip_unknown_time(frames) -> None:
    amounts = stat(frames, "amount_share_by_hour", HOURS, "category=coffee")
    assert amounts == pytest.approx([0, 4 / 15, 6 / 15, 5 / 15])
    counts = stat(frames, "count_share_by_hour", HOURS, "category=coffee")
    assert counts == pytest.approx([0, 1 / 3, 1 / 3, 1 / 3])


def test_weekday_shares(frames) -> None:
    counts = stat(frames, "count_share_by_weekday", WEEK, "category=coffee")
    assert counts == pytest.approx([0.25, 0.25, 0, 0, 0, 0.25, 0.25])
    amounts = stat(frames, "amount_share_by_weekday", WEEK)
    assert amounts == pytest.approx(np.array([14, 36, 0, 0, 0, 5, 3]) / 58)


def test_age_and_gender_shares(frames) -> None:
    assert stat(frames, "amount_share_by_age", ["20-29", "40-49"]) == pytest.approx(
        [20 / 58, 38 / 58]
    )
    assert stat(frames, "amount_share_by_age", ["20-29", "30-39"]) == [1.0, 0.0]
    assert stat(frames, "amount_share_by_gender", ["m", "f"]) == pytest.approx([38 / 58, 20 / 58])


def test_ticket_statistics_and_filters(frames) -> None:
    assert stat(frames, "mean_ticket", [""]) == pytest.approx([58000 / 6])
    assert stat(frames, "median_ticket", [""]) == [5500.0]
    assert stat(frames, "mean_ticket", [""], "gender=m") == pytest.approx([38000 / 3])
    assert stat(frames, "median_ticket", [""], "age=20-29;category=coffee") == [5000.0]
    assert stat(frames, "mean_ticket", [""], "method=cash") == [5000.0]
    assert stat(frames, "mean_ticket", [""], "category=savings") == [100000.0]
    assert np.isnan(stat(frames, "mean_ticket", [""], "category=travel")[0])


def test_per_user_month_statistics(frames) -> None:
    # user-months: (1, Mar) 20000 in 3; (2, Mar) 8000 in 2; (2, Apr) 30000 in 1.
    spend = stat(frames, "monthly_spend_per_user", ["mean", "median", "p10", "p90"])
    assert spend == pytest.approx([58000 / 3, 20000, 8000 + 0.2 * 12000, 20000 + 0.8 * 10000])
    assert stat(frames, "txn_per_user_month", ["mean", "median"]) == [2.0, 2.0]
    assert stat(frames, "txn_per_user_month", ["mean"], "category=coffee") == [2.0]


def test_errors(frames) -> None:
    tx, _ = frames
    with pytest.raises(MonilabError, match="needs users"):
        compute_statistic(tx, None, "amount_share_by_gender", "", ["m", "f"])
    with pytest.raises(MonilabError, match="needs users"):
        compute_statistic(tx, None, "mean_ticket", "age=20-29", [""])
    with pytest.raises(MonilabError, match="unknown statistic"):
        compute_statistic(tx, None, "mode_ticket", "", [""])
    with pytest.raises(MonilabError, match="hour band"):
        compute_statistic(tx, None, "count_share_by_hour", "", ["late"])


def test_no_has_time_column_means_all_times_known(frames) -> None:
    tx, users = frames
    counts = compute_statistic(
        tx.drop(columns=[HAS_TIME]), users, "count_share_by_hour", "category=coffee", HOURS
    )
    assert counts.tolist() == pytest.approx([0.25, 0.25, 0.25, 0.25])
