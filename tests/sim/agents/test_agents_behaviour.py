"""Generated spending matches the persona spec, and behaviour follows the agents' state."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import everyday

from sim.agents.personas import SPEND_CATEGORIES
from sim.agents.population import Population
from sim.agents.spending import update_impulse

SHARE_TVD_TOLERANCE = 0.1
"""Max total-variation distance between a persona's category shares and its spec (the spec
is the base mix: mood, budgets, seasons, personal tastes and days lived as the secondary
persona move it)."""
HOUR_TVD_TOLERANCE = 0.08
"""Max total-variation distance between a persona's hour histogram and its spec (outings
and days lived as the secondary persona blur it)."""
MEDIAN_RATIO = (0.75, 1.3)
"""Allowed observed/spec ratio of a category's median amount (user spread and days lived
as the secondary persona included)."""
OCCASION_CATEGORIES = ("shopping", "living", "travel", "etc")
"""Categories whose medians include the occasional big purchases (checked separately)."""
SEOUL_COFFEE_MEAN_TICKET = 7728


@pytest.fixture(scope="module")
def normal_payments(quarter_frames) -> pd.DataFrame:
    tx, users = quarter_frames
    out = everyday(tx)
    out = out[~out.is_anomaly]
    out["persona"] = out.user_id.map(users.set_index("user_id").persona)
    return out


@pytest.fixture(scope="module")
def persona_index(quarter_population: Population) -> dict[str, int]:
    return {name: i for i, name in enumerate(quarter_population.tables.names)}


def test_category_shares_match_the_spec(normal_payments, quarter_population, persona_index):
    tables = quarter_population.tables
    for name, i in persona_index.items():
        rows = normal_payments[normal_payments.persona == name]
        share = rows.category.value_counts(normalize=True)
        share = share.reindex(SPEND_CATEGORIES, fill_value=0).to_numpy()
        assert 0.5 * np.abs(share - tables.cat_share[i]).sum() < SHARE_TVD_TOLERANCE, name
        assert np.argmax(share) == np.argmax(tables.cat_share[i]), name


def test_hour_profiles_match_the_spec(normal_payments, quarter_population, persona_index):
    tables = quarter_population.tables
    for name, i in persona_index.items():
        rows = normal_payments[normal_payments.persona == name]
        observed = np.bincount(rows.ts.dt.hour, minlength=24) / len(rows)
        expected = (tables.cat_share[i][:, None] * tables.hour_weights[i]).sum(axis=0)
        assert 0.5 * np.abs(observed - expected).sum() < HOUR_TVD_TOLERANCE, name
    coffee = normal_payments[normal_payments.category == "coffee"]
    by_hour = coffee.ts.dt.hour.value_counts(normalize=True)
    assert by_hour.idxmax() in (11, 12, 13)  # Seoul coffee peaks 11-14
    assert 0.28 < by_hour.reindex([11, 12, 13]).sum() < 0.40  # Seoul: 0.336


def test_amounts_match_the_spec(normal_payments, quarter_population, persona_index):
    tables = quarter_population.tables
    for name, i in persona_index.items():
        rows = normal_payments[normal_payments.persona == name]
        medians = rows.groupby("category").amount.median()
        counts = rows.category.value_counts()
        for category, median in medians.items():
            if counts[category] < 200 or category in OCCASION_CATEGORIES:
                continue
            spec = tables.cat_median[i, SPEND_CATEGORIES.index(category)]
            assert MEDIAN_RATIO[0] < median / spec < MEDIAN_RATIO[1], (name, category)
    assert (normal_payments.amount % 100 == 0).all()
    coffee_mean = normal_payments[normal_payments.category == "coffee"].amount.mean()
    assert abs(coffee_mean / SEOUL_COFFEE_MEAN_TICKET - 1) < 0.1


def test_weekend_personas_spend_more_on_saturdays(normal_payments):
    weekday = normal_payments.ts.dt.day_of_week
    yolo = normal_payments.persona.str.startswith("yolo")
    shares = weekday[yolo].value_counts(normalize=True)
    assert shares[5] > shares[0] + 0.03


def test_spending_slows_when_the_budget_is_exhausted(quarter_frames, quarter_population):
    tx, users = quarter_frames
    pay = everyday(tx)
    pay = pay[pay.ts.dt.month.isin([2, 3])]
    pay["month"], pay["day"] = pay.ts.dt.month, pay.ts.dt.day
    budget = pd.Series(quarter_population.shard(0).model.state.budget, index=users.user_id)
    early = pay[pay.day <= 21].groupby(["user_id", "month"]).amount.sum()
    late = pay[pay.day >= 24].groupby(["user_id", "month"]).amount.sum()
    frame = pd.DataFrame({"early": early, "late": late}).fillna(0).reset_index()
    late_days = frame.month.map({2: 6, 3: 8})
    frame["ratio"] = (frame.late / late_days) / (frame.early / 21).clip(lower=1)
    frame["exhausted"] = frame.early >= frame.user_id.map(budget)
    median = frame.groupby("exhausted").ratio.median()
    assert frame.exhausted.mean() > 0.1
    assert median[True] < 0.7 * median[False]


def test_spending_rises_after_payday(quarter_frames):
    tx, users = quarter_frames
    pay = everyday(tx)
    daily = pay.groupby(["user_id", pay.ts.dt.normalize().rename("day")]).amount.sum()
    daily = daily.rename("spent").reset_index()
    salaries = tx[(tx.category == "income") & tx.merchant.isin(["급여", "아르바이트 급여"])]
    events = pd.DataFrame({"user_id": salaries.user_id, "day": salaries.ts.dt.normalize()})
    events["yolo"] = events.user_id.map(users.set_index("user_id").persona).str.startswith("yolo")

    def spent(offsets: range) -> pd.Series:
        shifted = [events.assign(day=events.day + pd.Timedelta(days=k)) for k in offsets]
        merged = pd.concat(shifted).merge(daily, on=["user_id", "day"], how="left")
        return merged.fillna({"spent": 0}).groupby("yolo").spent.sum()

    before, after = spent(range(-3, 0)), spent(range(0, 3))
    assert after[True] > 1.3 * before[True]  # YOLO: payday impulse
    assert after[False] > before[False]


def test_savers_move_money_to_savings_after_payday(quarter_frames):
    tx, users = quarter_frames
    savers = set(users[users.spending_type == "saver"].user_id)
    salary = tx[(tx.category == "income") & (tx.merchant == "급여") & tx.user_id.isin(savers)]
    moves = tx[(tx.category == "savings") & tx.user_id.isin(savers)]
    savings = moves[moves.direction == "out"]
    assert len(savings) > 0.8 * len(salary)
    paid = pd.DataFrame({"user_id": salary.user_id, "paid": salary.ts.dt.normalize()})
    moved = pd.DataFrame({"user_id": savings.user_id, "day": savings.ts.dt.normalize()})
    lag = pd.merge_asof(
        moved.sort_values("day"),
        paid.sort_values("paid"),
        left_on="day",
        right_on="paid",
        by="user_id",
        direction="backward",
    ).dropna()
    assert ((lag.day - lag.paid).dt.days <= 3).mean() > 0.95
    assert (moves.method == "transfer").all()
    withdrawn = moves[moves.direction == "in"]
    assert 0 < len(withdrawn) < 0.2 * len(savings)  # now and then money goes back


def test_friends_splurging_raises_the_impulse_level(quarter_population):
    model = quarter_population.model(0)
    world, state = model.spending, model.state
    no_pay = np.zeros(state.size, dtype=bool)
    state.impulse[:] = 0.0
    state.disc_ratio[:] = 1.0
    update_impulse(world, no_pay)
    calm = state.impulse.copy()
    state.impulse[:] = 0.0
    state.disc_ratio[:] = 3.0
    update_impulse(world, no_pay)
    influence = quarter_population.tables.peer_influence[state.persona]
    assert np.mean(state.impulse - calm) == pytest.approx(np.mean(influence), rel=0.2)
