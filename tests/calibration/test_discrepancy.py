"""target_discrepancy: ~0 on data built to match the targets, growing with a perturbation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from calibration.metrics import LOG_RATIO_CAP, discrepancy_loss, target_discrepancy
from calibration.targets import default_targets, parse_targets

WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def allocate(shares: np.ndarray, total: int) -> np.ndarray:
    """Largest-remainder integer split of ``total`` by ``shares``."""
    exact = shares / shares.sum() * total
    counts = np.floor(exact).astype(int)
    counts[np.argsort(counts - exact)[: total - counts.sum()]] += 1
    return counts


def labels(keys: list[str], shares: np.ndarray, total: int) -> np.ndarray:
    return np.repeat(np.array(keys, dtype=object), allocate(shares, total))


def coffee_frames(targets: pd.DataFrame, n: int = 60_000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coffee spending whose hour, weekday, age and gender shares and mean ticket match."""

    def shares(statistic: str) -> tuple[list[str], np.ndarray]:
        rows = targets.loc[targets["statistic"] == statistic]
        return rows["key"].tolist(), rows["value"].to_numpy(dtype=float)

    bands, count_share = shares("count_share_by_hour")
    _, amount_share = shares("amount_share_by_hour")
    amount_share = amount_share / amount_share.sum()
    count_share = count_share / count_share.sum()
    ticket = targets.loc[targets["statistic"] == "mean_ticket", "value"].item()
    ages, age_share = shares("amount_share_by_age")
    genders, gender_share = shares("amount_share_by_gender")
    _, weekday_share = shares("amount_share_by_weekday")
    users = [(a, g) for a in ages for g in genders]
    parts = []
    for band, count, a_share, c_share in zip(
        bands, allocate(count_share, n), amount_share, count_share, strict=True
    ):
        start = int(band[:2])
        days = np.array([WEEK.index(w) for w in labels(WEEK, weekday_share, count)])
        days = days + 7 * (np.arange(count) % 8)  # spread over eight weeks
        who = zip(labels(ages, age_share, count), labels(genders, gender_share, count), strict=True)
        parts.append(
            pd.DataFrame(
                {
                    "user_id": [users.index(u) + 1 for u in who],
                    "ts": pd.Timestamp("2024-01-01")
                    + pd.to_timedelta(days, unit="D")
                    + pd.Timedelta(hours=start, minutes=30),
                    "amount": round(ticket * a_share / c_share),
                }
            )
        )
    tx = pd.concat(parts, ignore_index=True)
    tx = tx.assign(txn_id=np.arange(len(tx)), category="coffee", direction="out", method="card")
    user_frame = pd.DataFrame(
        {
            "user_id": np.arange(1, len(users) + 1),
            "age": [int(a[:2]) + 5 for a, _ in users],
            "gender": [g for _, g in users],
        }
    )
    return tx, user_frame


@pytest.fixture(scope="module")
def matched() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    targets = default_targets()
    return targets, *coffee_frames(targets)


def test_matching_data_has_near_zero_loss(matched) -> None:
    targets, tx, users = matched
    result = target_discrepancy(targets, tx, users)
    assert len(result) == len(targets)
    assert result.attrs["loss"] == pytest.approx(discrepancy_loss(result))
    assert result.attrs["loss"] < 0.001
    assert result["error"].abs().max() < 0.005 * 7728  # the mean ticket row, in KRW
    shares = result.loc[result["statistic"] != "mean_ticket"]
    assert shares["error"].abs().max() < 0.003


def test_loss_grows_with_perturbation(matched) -> None:
    targets, tx, users = matched
    midday = np.flatnonzero(tx["ts"].dt.hour.between(11, 13))
    losses = []
    for fraction in (0.0, 0.1, 0.3):
        moved = tx.copy()
        chosen = midday[: int(fraction * len(midday))]
        moved.loc[chosen, "ts"] = moved.loc[chosen, "ts"] + pd.Timedelta(hours=10)
        losses.append(target_discrepancy(targets, moved, users).attrs["loss"])
    assert losses[0] < losses[1] < losses[2]

    dearer = tx.assign(amount=tx["amount"] * 1.25)
    result = target_discrepancy(targets, dearer, users)
    ticket = result.loc[result["statistic"] == "mean_ticket", "group_loss"].item()
    assert ticket == pytest.approx(math.log(1.25), abs=0.005)


def test_loss_definition_by_hand() -> None:
    targets = parse_targets(
        "statistic,filter,key,value,weight\n"
        "count_share_by_category,,coffee,0.5,1\n"
        "count_share_by_category,,food,0.5,1\n"
        "mean_ticket,,,2000,3\n"
        "median_ticket,category=travel,,2000,0\n"
    )
    tx = pd.DataFrame(
        {
            "txn_id": range(5),
            "user_id": 1,
            "ts": pd.Timestamp("2024-05-01 12:00"),
            "category": ["coffee"] * 4 + ["food"],
            "amount": 4000,
            "direction": "out",
            "method": "card",
        }
    )
    result = target_discrepancy(targets, tx, None)
    tv = 0.5 * (abs(0.8 - 0.5) + abs(0.2 - 0.5))
    assert result["group_loss"].tolist()[:3] == pytest.approx([tv, tv, math.log(2)])
    assert result["row_loss"].tolist()[:2] == pytest.approx([0.15, 0.15])
    assert result["group_loss"].iloc[3] == LOG_RATIO_CAP  # no travel rows: undefined
    assert result.attrs["loss"] == pytest.approx((1 * tv + 3 * math.log(2)) / 4)


def test_undefined_share_group_scores_one() -> None:
    targets = parse_targets(
        "statistic,filter,key,value\ncount_share_by_hour,category=coffee,00-12,0.5\n"
        "count_share_by_hour,category=coffee,12-24,0.5\n"
    )
    tx = pd.DataFrame(
        {
            "txn_id": [0],
            "user_id": [1],
            "ts": [pd.Timestamp("2024-05-01 12:00")],
            "category": ["food"],
            "amount": [100],
            "direction": ["out"],
            "method": ["card"],
        }
    )
    assert target_discrepancy(targets, tx, None).attrs["loss"] == pytest.approx(1.0)
