"""Money moves around everyday spending: pay, auto-debits, saving, investing, withdrawals.

Salaries arrive on each user's payday (moved to the previous business day) and vary: a
monthly noise, 명절 bonuses with the salary before 설날 and 추석, a year-end bonus in the
user's bonus month, an annual raise in the user's raise month; side income is lumpy.
Auto-debits leave on their due day (moved to the next business day); utility bills vary
from month to month and heating bills peak in winter. Savings transfers
follow payday by the persona's delay at each user's own rate (sometimes skipped); goal
holders add an extra share and their goal progress grows; now and then users take money
back out of savings. Investment transfers follow payday too and scale with the market's
recent return (``market_sensitivity``: positive chases, negative buys dips); aggressive
personas also trade ad hoc, more on volatile days. No transfer or trade touches the
reserve (a month of living and half a month of pay), and amounts are rounded to each
user's habit (10,000, 1,000 or 100 KRW).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from monilab.contracts.vocabulary import CATEGORIES
from sim.agents.agents import AgentState
from sim.agents.calendar import SimCalendar
from sim.agents.market import MarketPath
from sim.agents.merchants import MerchantCatalog
from sim.agents.rows import IN, OUT, Rows
from sim.agents.sampling import grouped_choice, round_to
from sim.agents.tables import METHOD_AUTO, METHOD_TRANSFER, PersonaTables

INCOME, SAVINGS, INVESTMENT = (CATEGORIES.index(c) for c in ("income", "savings", "investment"))
DAYS_PER_MONTH = 30.4
TRADING_DAYS_PER_MONTH = 21.0
BONUS_LEAD_DAYS = 28
"""A salary paid up to this many days before 설날 or 추석 carries the 명절 bonus."""
TRADE_SPARE_SHARE = 0.3
"""At most this share of the cash above the reserve goes into one ad-hoc trade."""


@dataclass(frozen=True)
class MoneyWorld:
    """What the money moves need besides the agent state."""

    tables: PersonaTables
    state: AgentState
    calendar: SimCalendar
    market: MarketPath
    side_ids: np.ndarray
    side_cdf: np.ndarray
    bonus_days: np.ndarray
    rng: np.random.Generator

    @classmethod
    def create(
        cls,
        tables: PersonaTables,
        state: AgentState,
        calendar: SimCalendar,
        market: MarketPath,
        catalog: MerchantCatalog,
        rng: np.random.Generator,
    ) -> MoneyWorld:
        """Bundle the shard's pieces with the catalog's side-income vocabulary."""
        ids, cdf = catalog.vocabulary_cdf(("income",))
        return cls(tables, state, calendar, market, ids[0], cdf, holiday_bonus_days(calendar), rng)


@cache
def holiday_bonus_days(calendar: SimCalendar) -> np.ndarray:
    """True on days whose salary carries the 명절 bonus: 설날 or 추석 within 28 days.

    Computed once per calendar and process (every shard of a population shares it).
    """
    ahead = np.zeros(calendar.days, dtype=bool)
    for centre in calendar.lunar_new_year_and_chuseok:
        ahead[max(0, centre - BONUS_LEAD_DAYS) : max(0, min(centre, calendar.days))] = True
    return ahead


def _at(
    rng: np.random.Generator, n: int, day_start: int, first_hour: float, last_hour: float
) -> np.ndarray:
    """Epoch seconds uniformly between two hours of the day."""
    return day_start + (rng.uniform(first_hour, last_hour, n) * 3600).astype(np.int64)


def apply_raises(world: MoneyWorld, day: int) -> None:
    """On the first of a month, users whose raise month it is get their annual raise."""
    month = world.calendar.month_of_year[day]
    raised = np.flatnonzero(world.state.raise_month == month)
    world.state.income[raised] *= 1.0 + world.tables.annual_raise[world.state.persona[raised]]


def salary_amounts(world: MoneyWorld, payees: np.ndarray, day: int) -> np.ndarray:
    """Today's pay of the payees: salary with its monthly noise, plus any bonus."""
    t, s, rng = world.tables, world.state, world.rng
    p = s.persona[payees]
    pay = s.income[payees] * (1 + t.salary_noise[p] * rng.standard_normal(len(payees)))
    months = t.holiday_bonus[p] * bool(world.bonus_days[day])
    months = months + t.year_end_bonus[p] * (
        s.bonus_month[payees] == world.calendar.month_of_year[day]
    )
    return np.maximum(pay, 0.1 * s.income[payees]) + months * s.income[payees]


def income_rows(world: MoneyWorld, day: int, day_start: int) -> tuple[Rows, np.ndarray]:
    """Salaries due today and random side deposits; returns the rows and who was paid."""
    t, s, rng = world.tables, world.state, world.rng
    paid = world.calendar.pay_days[s.payday, day]
    payees = np.flatnonzero(paid)
    s.last_payday[payees] = day
    salary = Rows.build(
        user=payees,
        ts=_at(rng, len(payees), day_start, 6.0, 10.0),
        amount=round_to(salary_amounts(world, payees, day), 10),
        merchant=t.income_source[s.persona[payees]],
        category=INCOME,
        method=METHOD_TRANSFER,
        direction=IN,
    )
    side_rate = t.side_income_per_month[s.persona] / DAYS_PER_MONTH
    side_users = np.flatnonzero(rng.random(s.size) < side_rate)
    n = len(side_users)
    p = s.persona[side_users]
    sigma = t.side_income_sigma[p]
    amount = t.side_income_median[p] * np.exp(sigma * rng.standard_normal(n))
    side = Rows.build(
        user=side_users,
        ts=_at(rng, n, day_start, 8.0, 23.0),
        amount=round_to(amount, 100),
        merchant=world.side_ids[grouped_choice(world.side_cdf, np.zeros(n, int), rng.random(n))],
        category=INCOME,
        method=METHOD_TRANSFER,
        direction=IN,
    )
    return Rows.concat([salary, side]), paid


def fixed_rows(world: MoneyWorld, day: int, day_start: int) -> Rows:
    """Auto-debits due today: the monthly amount with its season and month-to-month jitter."""
    t, s, rng = world.tables, world.state, world.rng
    due = np.flatnonzero(world.calendar.debit_days[s.fixed_day, day])
    entry = s.fixed_entry[due]
    jitter = np.exp(t.fixed.jitter[entry] * rng.standard_normal(len(due)))
    winter = np.cos(2 * np.pi * (world.calendar.month_of_year[day] - 1) / 12) / 2
    season = t.fixed.winter_peak[entry] ** winter
    return Rows.build(
        user=s.fixed_user[due],
        ts=_at(rng, len(due), day_start, 0.5, 8.0),
        amount=round_to(s.fixed_amount[due] * jitter * season, 10),
        merchant=s.fixed_merchant[due],
        category=t.fixed.category[entry],
        method=METHOD_AUTO,
        direction=OUT,
    )


def saving_rows(world: MoneyWorld, day: int, day_start: int) -> Rows:
    """Savings and investment transfers after payday, ad-hoc trades and withdrawals."""
    t, s, rng = world.tables, world.state, world.rng
    p = s.persona
    since_pay = day - s.last_payday
    delay = t.savings_delay_days[p]

    savers = _not_skipped(world, np.flatnonzero((since_pay == delay) & (s.savings_rate > 0)))
    share = s.savings_rate[savers] + s.has_goal[savers] * t.extra_saving[p[savers]]
    saved = _affordable(s, savers, s.income[savers] * share)
    savers, saved = savers[saved > 0], saved[saved > 0]
    s.savings[savers] += saved
    s.goal_saved[savers] += saved * s.has_goal[savers]

    buyers, bought = _investments(world, day, since_pay == delay + 1)
    np.add.at(s.portfolio, buyers, bought)
    takers, taken = _withdrawals(world)
    users = np.concatenate([savers, buyers, takers])
    return Rows.build(
        user=users,
        ts=np.concatenate(
            [
                _at(rng, len(savers), day_start, 8.0, 12.0),
                _at(rng, len(buyers), day_start, 9.0, 15.5),
                _at(rng, len(takers), day_start, 9.0, 22.0),
            ]
        ),
        amount=np.concatenate([saved, bought, taken]).astype(np.int64),
        merchant=np.concatenate(
            [s.savings_merchant[savers], s.invest_merchant[buyers], s.savings_merchant[takers]]
        ),
        category=np.repeat([SAVINGS, INVESTMENT, SAVINGS], [len(savers), len(buyers), len(takers)]),
        method=METHOD_TRANSFER,
        direction=np.repeat([OUT, OUT, IN], [len(savers), len(buyers), len(takers)]),
    )


def _not_skipped(world: MoneyWorld, users: np.ndarray) -> np.ndarray:
    """The users who do not skip this month's transfer."""
    skip = world.tables.skip_prob[world.state.persona[users]]
    return users[world.rng.random(len(users)) >= skip]


def _investments(
    world: MoneyWorld, day: int, after_pay: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Monthly investment transfers (tilted by the market) and ad-hoc trades."""
    t, s, rng, mkt = world.tables, world.state, world.rng, world.market
    p = s.persona
    investors = _not_skipped(world, np.flatnonzero(after_pay & (s.invest_rate > 0)))
    tilt = np.clip(1 + t.market_sensitivity[p[investors]] * mkt.momentum[day], 0.0, 3.0)
    invested = _affordable(s, investors, s.income[investors] * s.invest_rate[investors] * tilt)

    traders = np.empty(0, dtype=np.int64)
    if not world.calendar.is_rest_day[day]:
        calm = abs(mkt.returns[day]) / max(mkt.volatility[day], 1e-9)
        chance = t.trade_rate[p] / TRADING_DAYS_PER_MONTH * (0.5 + 0.5 * calm)
        traders = np.flatnonzero(rng.random(s.size) < chance)
    move = np.clip(1 + 10 * t.market_sensitivity[p[traders]] * mkt.returns[day], 0.2, 3.0)
    size = t.trade_median[p[traders]] * np.exp(0.6 * rng.standard_normal(len(traders))) * move
    traded = _affordable(s, traders, size, share=TRADE_SPARE_SHARE)

    buyers = np.concatenate([investors, traders])
    bought = np.concatenate([invested, traded])
    return buyers[bought > 0], bought[bought > 0]


def _withdrawals(world: MoneyWorld) -> tuple[np.ndarray, np.ndarray]:
    """Users taking money back out of savings (a part of it), and the amounts."""
    t, s, rng = world.tables, world.state, world.rng
    chance = t.withdrawals_per_year[s.persona] / 365.0
    takers = np.flatnonzero((rng.random(s.size) < chance) & (s.savings > 0))
    taken = _round_down(s, takers, s.savings[takers] * rng.uniform(0.1, 0.6, len(takers)))
    takers, taken = takers[taken > 0], taken[taken > 0]
    s.savings[takers] -= taken
    s.goal_saved[takers] = np.minimum(s.goal_saved[takers], s.savings[takers])
    return takers, taken


def _affordable(
    state: AgentState, users: np.ndarray, wanted: np.ndarray, share: float = 1.0
) -> np.ndarray:
    """Transfer sizes rounded down to the user's unit, within the cash above the reserve.

    The reserve is a month of living and half a month of pay (:attr:`AgentState.reserve`);
    ``share`` is the part of the cash above it that one transfer may take.
    """
    spare = share * np.maximum(0.0, state.balance[users] - state.reserve[users])
    return _round_down(state, users, np.minimum(wanted, spare))


def _round_down(state: AgentState, users: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Amounts rounded down to each user's habit (10,000, 1,000 or 100 KRW)."""
    unit = state.round_unit[users]
    return np.floor(amounts / unit) * unit


def grow_portfolio(world: MoneyWorld, day: int) -> None:
    """Mark investments to market with the day's index return."""
    world.state.portfolio *= np.exp(world.market.returns[day])
