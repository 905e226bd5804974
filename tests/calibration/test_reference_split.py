"""Reference splitter: by user (disjoint, seeded) and by month blocks for one user."""

from __future__ import annotations

import pandas as pd
import pytest

from calibration.split import split_reference
from monilab.contracts.errors import MonilabError


def test_split_by_user_is_disjoint_and_deterministic(population) -> None:
    tx, users = population(4, n_users=20, months=2)
    split = split_reference(tx, seed=11, held_out_fraction=0.25, users=users)
    fit_users, held_users = set(split.fit["user_id"]), set(split.held_out["user_id"])

    assert split.by == "user"
    assert not fit_users & held_users and len(held_users) == 5
    assert len(split.fit) + len(split.held_out) == len(tx)
    assert set(split.held_out_groups) == held_users
    assert set(split.held_out_users["user_id"]) == held_users
    assert set(split.fit_users["user_id"]) == fit_users
    again = split_reference(tx, seed=11, held_out_fraction=0.25)
    assert again.held_out_groups == split.held_out_groups
    other = split_reference(tx, seed=12, held_out_fraction=0.25)
    assert other.held_out_groups != split.held_out_groups


def test_single_user_splits_by_month_blocks(population) -> None:
    tx, _ = population(4, n_users=1, months=12, txns_per_month=10)
    split = split_reference(tx, seed=5, held_out_fraction=0.5, block_months=3)

    assert split.by == "time"
    assert not months(split.fit) & months(split.held_out)
    assert len(split.held_out_groups) == 6 and set(split.held_out_groups) == months(split.held_out)
    blocks = {(int(m[5:]) - 1) // 3 for m in split.held_out_groups}
    assert len(blocks) == 2  # whole quarters
    assert split_reference(tx, seed=5, held_out_fraction=0.5).held_out_groups == (
        split.held_out_groups
    )


def months(frame: pd.DataFrame) -> set[str]:
    return set(frame["ts"].dt.strftime("%Y-%m"))


def test_split_errors(population) -> None:
    tx, _ = population(4, n_users=1, months=2)
    with pytest.raises(MonilabError, match="two 3-month blocks"):
        split_reference(tx, seed=1)
    with pytest.raises(MonilabError, match="at least two users"):
        split_reference(tx, seed=1, by="user")
    with pytest.raises(MonilabError, match="held_out_fraction"):
        split_reference(tx, seed=1, held_out_fraction=1.0)


def test_has_time_travels_with_the_rows(population) -> None:
    tx, _ = population(4, n_users=6, months=1)
    tx["has_time"] = tx["txn_id"] % 2 == 0
    split = split_reference(tx, seed=2, held_out_fraction=0.5)
    joined = pd.concat([split.fit, split.held_out]).sort_values("txn_id")
    assert (joined["has_time"] == (joined["txn_id"] % 2 == 0)).all()
