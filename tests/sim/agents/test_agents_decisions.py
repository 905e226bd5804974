"""Agents' app decisions: consistent with the offline rows, well-formed, cheaply sliceable."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import SMALL

from monilab.contracts.datasets import read_dataset
from sim.agents.decisions import ACTION_KINDS, credentials, goal_title, merged_actions
from sim.agents.population import Population

SESSION_KINDS = set(ACTION_KINDS) - {"signup", "login", "logout"}


@pytest.fixture(scope="module")
def sharded() -> Population:
    """The population of ``dataset_dir`` (same seed, period and shard size)."""
    return Population(**SMALL, shard_size=100)


@pytest.mark.parametrize("index", [7, 150, 299])
def test_add_spending_equals_the_offline_rows(sharded, dataset_dir, index):
    actions = list(sharded.actions(index))
    sent = [a for a in actions if a.kind == "add_spending"]
    user_id = index + 1
    rows = read_dataset(dataset_dir).frame("transactions")
    rows = rows[rows.user_id == user_id].sort_values("txn_id")
    agent = sharded.agent_ids[index]
    expected = [
        {
            "client_txn_id": f"{agent}-{r.txn_id}",
            "ts": r.ts.strftime("%Y-%m-%dT%H:%M:%S"),
            "amount": int(r.amount),
            "category": r.category,
            "merchant": r.merchant,
            "method": r.method,
            "direction": r.direction,
        }
        for r in rows.itertuples()
    ]
    assert [a.payload for a in sent] == expected
    assert [a.truth["txn_id"] for a in sent] == rows.txn_id.tolist()
    assert [a.truth["is_anomaly"] for a in sent] == rows.is_anomaly.tolist()
    assert all(a.at.strftime("%Y-%m-%dT%H:%M:%S") >= a.payload["ts"] for a in sent)


def test_actions_are_ordered_sessions(small_population):
    for index in (0, 42, 123):
        actions = list(small_population.actions(index))
        times = [a.at for a in actions]
        assert times == sorted(times)
        assert [a.kind for a in actions[:2]] == ["signup", "mydata_start"]
        logged_in = True  # signup logs the user in
        for action in actions:
            assert action.kind in ACTION_KINDS
            if action.kind == "login":
                assert not logged_in
                logged_in = True
            elif action.kind == "logout":
                assert logged_in
                logged_in = False
            elif action.kind in SESSION_KINDS:
                assert logged_in, action
        assert not logged_in
        login = credentials(small_population.seed, small_population.agent_ids[index])
        assert all(a.payload == login for a in actions if a.kind == "login")


def test_sessions_follow_app_usage(small_population):
    tables = small_population.tables
    users = small_population.users_frame()
    ratios = []
    for index in range(0, 300, 10):
        persona = tables.names.index(users.persona[index])
        logins = sum(a.kind == "login" for a in small_population.actions(index))
        expected = tables.sessions_per_week[persona] * small_population.days / 7
        ratios.append(logins / expected)
    assert 0.7 < np.median(ratios) < 1.3


def test_goal_setters_set_goals():
    pop = Population(users=40, seed=3, start="2024-01-01", days=10)
    goals = [a for i in range(40) for a in pop.actions(i) if a.kind == "set_goal"]
    assert goals
    assert all(
        g.payload["title"].endswith("모으기") and g.payload["target_amount"] >= 1_000_000
        for g in goals
    )
    assert goal_title(50_000_000) == "5,000만원 모으기" and goal_title(1e8) == "1억원 모으기"


def test_a_slice_only_simulates_its_shard():
    small = Population(**SMALL, shard_size=100)
    began = time.perf_counter()
    huge = Population(
        users=1_000_000,
        seed=SMALL["seed"],
        start=SMALL["start"],
        days=SMALL["days"],
        shard_size=100,
    )
    assert list(huge.actions(7)) == list(small.actions(7))
    assert time.perf_counter() - began < 30
    assert huge.agent_ids[999_999] == f"s{SMALL['seed']}-u1000000"
    assert huge.agent_index(huge.agent_ids[123_456]) == 123_456


def test_partition_is_disjoint_and_complete(small_population):
    parts = [small_population.partition(k, 7) for k in range(7)]
    covered = [i for part in parts for i in part]
    assert covered == list(range(small_population.users))
    with pytest.raises(ValueError):
        small_population.partition(7, 7)


def test_merged_actions_are_time_ordered(small_population):
    merged = list(merged_actions(small_population, [3, 4, 5]))
    assert [a.at for _, a in merged] == sorted(a.at for _, a in merged)
    assert {agent for agent, _ in merged} == {small_population.agent_ids[i] for i in (3, 4, 5)}


def test_activity_profile_has_a_diurnal_shape(small_population):
    profile = small_population.activity_profile()
    assert profile.shape == (7, 24)
    assert list(profile.index) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    by_hour = profile.mean(axis=0)
    assert by_hour.idxmax() in (12, 13, 18, 19)
    assert by_hour[3] < 0.05 * by_hour.max()
    tables = small_population.tables
    weekly = small_population.users * float((tables.share * tables.sessions_per_week).sum())
    assert profile.to_numpy().sum() == pytest.approx(weekly, rel=0.01)
