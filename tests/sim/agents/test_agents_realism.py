"""Realism mechanisms: bursty timing, seasons, sparse categories, varying pay and saving,
budgets that bind, mixed and drifting identities (see docs/realism.md)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import everyday

from sim.agents import rhythm
from sim.agents.calendar import SimCalendar
from sim.agents.personas import SPEND_CATEGORIES
from sim.agents.population import Population
from sim.agents.seasons import season_log_factors

YEAR = {"users": 800, "seed": 31, "start": "2024-01-01", "days": 366, "shard_size": 800}


@pytest.fixture(scope="module")
def year_population() -> Population:
    """800 users over 2024 in one shard."""
    return Population(**YEAR)


@pytest.fixture(scope="module")
def year_frames(year_population) -> tuple[pd.DataFrame, pd.DataFrame]:
    return year_population.transactions_table().to_pandas(), year_population.users_frame()


@pytest.fixture(scope="module")
def daily_counts(year_frames) -> pd.DataFrame:
    """Normal everyday payments per user (rows) and day (columns), zeros included."""
    tx, _ = year_frames
    pay = everyday(tx)
    pay = pay[~pay.is_anomaly]
    days = pd.date_range(YEAR["start"], periods=YEAR["days"])
    counts = pay.groupby(["user_id", pay.ts.dt.normalize()]).size().unstack(fill_value=0)
    return counts.reindex(columns=days, fill_value=0)


def test_daily_counts_are_overdispersed(daily_counts):
    dispersion = daily_counts.var(axis=1) / daily_counts.mean(axis=1)
    assert dispersion.median() > 1.5  # Poisson would be 1.0


def test_gaps_between_purchases_are_bursty(year_frames):
    tx, _ = year_frames
    pay = everyday(tx).sort_values(["user_id", "ts"])
    gaps = pay.groupby("user_id").ts.diff().dt.total_seconds().dropna()
    cv = gaps.groupby(pay.user_id).agg(lambda g: g.std() / g.mean())
    assert cv.median() > 1.3  # Poisson timing would be about 1.0


def test_quiet_spells_happen(daily_counts):
    active = daily_counts.to_numpy() > 0
    longest = []
    for row in active:
        runs = np.diff(np.flatnonzero(np.concatenate([[True], row, [True]])))
        longest.append(runs.max() - 1)
    assert np.median(longest) >= 5 and np.max(longest) >= 20


def test_intensity_keeps_mean_one_with_self_excitation(year_population):
    model = year_population.model(0)
    state, tables, rng = model.state, model.tables, np.random.default_rng(3)
    state.quiet_left[:] = 0
    rhythm.new_month(tables, state, rng)
    state.month_level[:] = 1.0
    levels = []
    for _ in range(400):
        level = rhythm.intensity(tables, state, rng)
        state.quiet_left[:] = 0
        counts = rng.poisson(2.0 * level)
        rhythm.record_day(tables, state, counts, np.full(state.size, 2.0))
        levels.append(level.mean())
    assert np.mean(levels[100:]) == pytest.approx(1.0, abs=0.05)


def test_a_payment_on_a_nearly_empty_day_cannot_run_away(year_population):
    """Calibration once met 51 M payments in one day: one purchase against an expected
    1e-9 excited the next day a billionfold. A day now counts as ten ordinary days at most."""
    model = year_population.model(0)
    state, tables = model.state, model.tables
    state.excite[:] = 0.0
    ones = np.ones(state.size)
    for _ in range(30):
        rhythm.record_day(tables, state, ones, np.full(state.size, 1e-12))
    p = state.persona
    bound = tables.burst_jump[p] * rhythm.MAX_RELATIVE_DAY / (1.0 - tables.burst_decay[p])
    assert np.all(state.excite <= bound + 1e-9)
    assert state.excite.max() < 1e3


def test_outings_put_followers_minutes_after_the_previous_payment():
    users = np.array([0, 0, 0, 1, 1])
    seconds = np.array([36_000, 50_000, 70_000, 40_000, 80_000])
    follow = np.array([False, True, False, True, True])
    out = rhythm.cluster_outings(users, seconds, follow, np.random.default_rng(0))
    assert out[0] == 36_000 and out[2] == 70_000 and out[3] == 40_000  # outing starts
    assert 36_000 < out[1] < 36_000 + 3_600
    assert 40_000 < out[4] < 40_000 + 3_600


def test_seasons_follow_the_korean_calendar():
    log_f = pd.DataFrame(
        season_log_factors(SimCalendar(dt.date(2024, 1, 1), 366)),
        index=pd.date_range("2024-01-01", periods=366),
        columns=SPEND_CATEGORIES,
    )
    assert log_f.loc["2024-02-05", "shopping"] > 0  # 설날 (2024-02-10) gift shopping
    assert log_f.loc["2024-02-10", "travel"] > 0 > log_f.loc["2024-02-10", "education"]
    assert log_f.loc["2024-09-12", "food"] > 0  # 추석 (2024-09-17) 장보기
    assert log_f.loc["2024-12-20", "entertainment"] > 0  # 연말
    assert log_f.loc["2024-08-01", "travel"] > 0  # summer holidays
    assert log_f.loc["2024-03-05", "education"] > 0  # 신학기
    assert (log_f.loc["2024-10-22"] == 0).all()  # an ordinary Tuesday


def test_holiday_shopping_shows_in_the_population(year_frames):
    tx, _ = year_frames
    shopping = everyday(tx)
    shopping = shopping[shopping.category == "shopping"]
    per_day = shopping.groupby(shopping.ts.dt.normalize()).size()
    before_chuseok = per_day["2024-09-06":"2024-09-15"].mean()
    october = per_day["2024-10-07":"2024-10-31"].mean()
    assert before_chuseok > 1.2 * october


def test_users_buy_a_personal_subset_of_categories(year_frames):
    tx, users = year_frames
    pay = everyday(tx)
    per_user = pay.groupby("user_id").category.nunique()
    buyers = pay.groupby("category").user_id.nunique() / len(users)
    assert per_user.median() < len(SPEND_CATEGORIES)
    assert buyers["education"] < 0.7 and buyers["food"] > 0.99


def test_transport_never_costs_less_than_the_basic_fare(year_frames):
    tx, _ = year_frames
    transport = everyday(tx)
    transport = transport[(transport.category == "transport") & ~transport.is_anomaly]
    assert transport.amount.min() >= 1400


def test_salaries_vary_with_bonuses_and_raises(year_frames):
    tx, users = year_frames
    salaried = users[users.persona == "office_stable"].user_id
    pay = tx[(tx.merchant == "급여") & tx.user_id.isin(salaried)].copy()
    pay["month"] = pay.ts.dt.month
    relative = pay.amount / pay.groupby("user_id").amount.transform("median")
    by_month = relative.groupby(pay.month).mean()
    assert by_month[[1, 8]].max() > 1.25  # 설날 bonus with the salary before 2024-02-10
    assert by_month[[12, 1]].max() > 1.3  # year-end bonus
    assert by_month[[4, 5, 6]].max() < 1.15
    cv = pay.groupby("user_id").amount.agg(lambda a: a.std() / a.mean())
    assert cv.median() > 0.05


def test_utility_bills_vary_and_heating_peaks_in_winter(year_frames):
    tx, _ = year_frames
    debits = tx[tx.method == "auto_debit"].sort_values(["user_id", "merchant", "ts"])
    repeated = debits.groupby(["user_id", "merchant"]).amount.diff().dropna()
    assert (repeated == 0).mean() < 0.6  # rent and subscriptions repeat, bills do not
    gas = debits[debits.merchant == "도시가스"]
    by_month = gas.groupby(gas.ts.dt.month).amount.median()
    assert by_month[1] > 3 * by_month[7]


def _rates(tx: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    income = tx[tx.category == "income"].groupby("user_id").amount.sum()
    out = tx[tx.direction == "out"]

    def share(category: str) -> pd.Series:
        moved = out[out.category == category].groupby("user_id").amount.sum()
        return moved.reindex(income.index, fill_value=0) / income

    frame = pd.DataFrame({"savings": share("savings"), "investment": share("investment")})
    frame["outflow"] = out.groupby("user_id").amount.sum().reindex(income.index) / income
    return frame.join(users.set_index("user_id")[["persona", "spending_type"]])


def test_saving_rates_spread_and_overlap_across_types(year_frames):
    rates = _rates(*year_frames)
    spread = rates.groupby("persona").savings.std()
    assert (spread[rates.groupby("persona").savings.mean() > 0.1] > 0.05).all()
    savers = rates[rates.spending_type == "saver"].savings
    stable = rates[rates.spending_type == "stable"].savings
    assert savers.quantile(0.25) < stable.quantile(0.75)  # the types overlap


def test_outflow_stays_within_income_and_savings(year_frames, year_population):
    tx, users = year_frames
    came_in = tx[tx.direction == "in"].groupby("user_id").amount.sum()
    went_out = tx[tx.direction == "out"].groupby("user_id").amount.sum()
    opening = pd.Series(year_population.shard(0).model.state.opening_balance, users.user_id)
    ratio = went_out / (came_in + opening)
    assert (ratio <= 1.02).mean() > 0.95  # nearly everyone lives within their means
    assert ratio.median() < 0.9


def test_impulse_prone_personas_spend_after_payday(year_frames):
    tx, users = year_frames
    pay = everyday(tx)
    salary = tx[(tx.category == "income") & tx.merchant.isin(["급여", "아르바이트 급여"])]
    paid = salary[["user_id"]].assign(day=salary.ts.dt.normalize())
    merged = pay[["user_id"]].assign(day=pay.ts.dt.normalize()).merge(paid, on="user_id")
    after = ((merged.day_x - merged.day_y).dt.days.between(0, 6)).groupby(merged.user_id).sum()
    share = (after / pay.groupby("user_id").size()).dropna()
    kind = users.set_index("user_id").spending_type.reindex(share.index)
    assert share[kind == "yolo"].median() > share[kind != "yolo"].median() + 0.03


def test_refunds_and_withdrawals_come_back_in(year_frames):
    tx, _ = year_frames
    incoming = tx[tx.direction == "in"]
    assert (incoming.category == "shopping").sum() > 100  # refunds
    assert (incoming.category == "savings").sum() > 20  # savings withdrawals


def test_labels_record_mixing_and_drift(year_population):
    labels = year_population.shard(0).model.label_table().to_pandas()
    users = year_population.users_frame()
    assert len(labels) == 12 * len(users)
    first = labels[labels.month == labels.month.min()].set_index("user_id")
    assert (first.persona == users.set_index("user_id").persona).all()
    assert (first.secondary_persona != first.persona).all()
    assert 0.05 < first.secondary_weight.mean() < 0.3
    changed = labels.groupby("user_id").persona.nunique() > 1
    assert 0.01 < changed.mean() < 0.15  # about 6 % a year change their life


def test_app_engagement_is_heavy_tailed(year_population):
    logins = []
    for index in range(0, 200):
        kinds = [a.kind for a in year_population.actions(index)]
        logins.append(kinds.count("login"))
    logins = np.array(logins)
    assert np.percentile(logins, 90) > 2.5 * np.median(logins)


def test_the_default_population_passes_the_stylized_facts_check(tmp_path, capsys):
    """The acceptance check of docs/realism.md at a smaller size (CI runs it on every push)."""
    from monilab.cli.main import main
    from sim.agents.generate import generate_dataset

    out = tmp_path / "population"
    generate_dataset(out, users=1000, days=240, start="2024-01-01", seed=8, progress=False)
    assert main(["describe", str(out), "--check"]) == 0, capsys.readouterr()
    printed = capsys.readouterr().out
    assert "20 in band, 0 out of band" in printed
