"""The environment (calendar, market, network) and the Mesa shard model."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sim.agents.agents import UserAgent
from sim.agents.calendar import SimCalendar, korean_holidays
from sim.agents.market import simulate_market
from sim.agents.network import small_world
from sim.agents.population import Population
from sim.agents.sampling import grouped_choice, make_cdf


def test_korean_holidays_include_lunar_and_substitute_days() -> None:
    days = {d.isoformat() for d in korean_holidays(2024)}
    assert {"2024-02-09", "2024-02-10", "2024-02-11", "2024-02-12"} <= days  # 설날 + 대체
    assert {"2024-09-16", "2024-09-17", "2024-09-18"} <= days  # 추석
    assert {"2024-05-15", "2024-05-06", "2024-10-09", "2024-12-25"} <= days
    assert "2025-10-08" in {d.isoformat() for d in korean_holidays(2025)}  # 추석 on a Sunday


def test_paydays_move_to_the_previous_business_day() -> None:
    cal = SimCalendar(dt.date(2024, 1, 1), 366)
    paid = cal.dates[cal.pay_days[25]].astype(str).tolist()
    assert "2024-02-23" in paid  # 25 Feb 2024 is a Sunday
    assert "2024-12-24" in paid  # 25 Dec is 성탄절
    assert len(paid) == 12
    debit = cal.dates[cal.debit_days[31]].astype(str).tolist()
    assert "2024-02-29" in debit and "2024-06-03" not in debit  # 31 → month end
    assert "2024-04-01" in debit  # 31 Mar 2024 is a Sunday → Monday


def test_market_index_rests_on_closed_days() -> None:
    cal = SimCalendar(dt.date(2024, 1, 1), 120)
    path = simulate_market(cal.is_rest_day, np.random.default_rng(1))
    assert np.all(path.returns[cal.is_rest_day] == 0)
    assert 0.004 < path.returns[~cal.is_rest_day].std() < 0.03
    assert np.all(path.level > 0)


def test_small_world_has_k_friends_and_no_self_links() -> None:
    friends = small_world(500, 6, 0.1, np.random.default_rng(3))
    assert friends.shape == (500, 6)
    assert not np.any(friends == np.arange(500)[:, None])
    assert small_world(1, 6, 0.1, np.random.default_rng(3)).shape == (1, 0)


def test_grouped_choice_follows_each_group() -> None:
    cdf = make_cdf(np.array([[1.0, 0.0, 3.0], [0.0, 0.0, 1.0]]))
    rng = np.random.default_rng(0)
    group = np.repeat([0, 1], 20_000)
    draws = grouped_choice(cdf, group, rng.random(len(group)))
    assert set(draws[group == 1]) == {2}
    assert 1 not in set(draws[group == 0])
    assert abs((draws[group == 0] == 2).mean() - 0.75) < 0.02


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    def rows(seed: int):
        return Population(users=80, seed=seed, start="2024-02-20", days=15).shard(0).transactions

    assert rows(3).equals(rows(3))
    assert not rows(3).equals(rows(4))


def test_agents_expose_model_state(small_population: Population) -> None:
    model = small_population.shard(0).model
    agents = list(model.agents)
    assert len(agents) == 300 and all(isinstance(a, UserAgent) for a in agents)
    agent = model.user_agents[7]
    assert agent.balance == model.state.balance[7]
    assert agent.budget_left == 1 - model.state.month_spend[7] / model.state.budget[7]
    assert agent.persona in small_population.personas.names
    assert len(agent.friends) == 6 and agent not in agent.friends
    assert agent.user_id == 8


def test_datacollector_records_one_row_per_day(small_population: Population) -> None:
    model = small_population.shard(0).model
    daily = model.daily_table().to_pandas()
    assert len(daily) == 60
    assert daily.date.iloc[0] == dt.date(2024, 1, 1)
    assert (daily.users == 300).all()
    tx = small_population.shard(0).transactions.to_pandas()
    assert daily.transactions.sum() == len(tx)
    assert daily.anomalies.sum() == tx.is_anomaly.sum()
    assert daily.income_in.sum() == tx[tx.category == "income"].amount.sum()
    assert (daily.market_index > 0).all()


def test_transactions_are_valid_and_ordered(small_frames) -> None:
    tx, users = small_frames
    assert tx.txn_id.is_monotonic_increasing and tx.txn_id.is_unique
    # time-ordered within each day; only a burst or duplicate crossing midnight lags behind
    assert tx.ts.diff().dt.total_seconds().min() >= -1800
    assert set(tx.user_id) <= set(users.user_id)
    assert (tx.amount > 0).all()
    assert set(tx.direction) == {"in", "out"}
    incoming = set(tx[tx.direction == "in"].category)
    assert "income" in incoming and incoming <= {
        "income",
        "savings",
        "shopping",
        "travel",
        "etc",
        "entertainment",
    }
    assert (tx[(tx.direction == "in") & (tx.category == "savings")].method == "transfer").all()
    assert {"savings", "investment"} <= set(tx.category)
    assert (tx[tx.method == "auto_debit"].direction == "out").all()
    assert users.user_id.tolist() == list(range(1, 301))
    assert users.agent_id.str.startswith(f"s{20240101}-u").all()
    assert users.name.str.len().between(2, 4).all()
    assert pd.api.types.is_datetime64_any_dtype(users.signup_at)


def test_finished_shard_models_are_freed() -> None:
    """Mesa's class-level agent-id registry must not keep old models (memory at 1M users)."""
    import gc

    from sim.agents.model import ShardModel

    pop = Population(users=60, seed=2, start="2024-01-01", days=2, shard_size=20)
    for shard in range(pop.n_shards):
        pop.run_shard(shard, lambda rows: None)
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, ShardModel) and o.setup.size == 20]
