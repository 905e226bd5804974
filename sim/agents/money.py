"""Money moves around everyday spending: salary and deposits, auto-debits, saving, investing.

Salaries arrive on each user's payday (moved to the previous business day); auto-debits
leave on their due day (moved to the next business day). Savings transfers follow payday
by the persona's delay and never exceed what the balance allows; goal holders add an extra
share and their goal progress grows. Investment transfers follow payday too and scale with
the market's recent return (``market_sensitivity``: positive chases, negative buys dips);
aggressive personas also trade ad hoc, more on volatile days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monilab.schema import CATEGORIES
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
SAVINGS_BUFFER = 100_000
"""Balance (KRW) a user keeps when moving money to savings or investments."""


@dataclass(frozen=True)
class MoneyWorld:
    """What the money moves need besides the agent state."""

    tables: PersonaTables
    state: AgentState
    calendar: SimCalendar
    market: MarketPath
    side_ids: np.ndarray
    side_cdf: np.ndarray
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
        return cls(tables, state, calendar, market, ids[0], cdf, rng)


def _at(
    rng: np.random.Generator, n: int, day_start: int, first_hour: float, last_hour: float
) -> np.ndarray:
    """Epoch seconds uniformly between two hours of the day."""
    return day_start + (rng.uniform(first_hour, last_hour, n) * 3600).astype(np.int64)


def income_rows(world: MoneyWorld, day: int, day_start: int) -> tuple[Rows, np.ndarray]:
    """Salaries due today and random side deposits; returns the rows and who was paid."""
    t, s, rng = world.tables, world.state, world.rng
    paid = world.calendar.pay_days[s.payday, day]
    payees = np.flatnonzero(paid)
    s.last_payday[payees] = day
    salary = Rows.build(
        user=payees,
        ts=_at(rng, len(payees), day_start, 6.0, 10.0),
        amount=round_to(s.income[payees] * (1 + 0.01 * rng.standard_normal(len(payees))), 10),
        merchant=t.income_source[s.persona[payees]],
        category=INCOME,
        method=METHOD_TRANSFER,
        direction=IN,
    )
    side_rate = t.side_income_per_month[s.persona] / DAYS_PER_MONTH
    side_users = np.flatnonzero(rng.random(s.size) < side_rate)
    n = len(side_users)
    median = t.side_income_median[s.persona[side_users]]
    side = Rows.build(
        user=side_users,
        ts=_at(rng, n, day_start, 8.0, 23.0),
        amount=round_to(median * np.exp(0.8 * rng.standard_normal(n)), 100),
        merchant=world.side_ids[grouped_choice(world.side_cdf, np.zeros(n, int), rng.random(n))],
        category=INCOME,
        method=METHOD_TRANSFER,
        direction=IN,
    )
    return Rows.concat([salary, side]), paid


def fixed_rows(world: MoneyWorld, day: int, day_start: int) -> Rows:
    """Auto-debits due today (monthly amount with the cost's month-to-month jitter)."""
    t, s, rng = world.tables, world.state, world.rng
    due = np.flatnonzero(world.calendar.debit_days[s.fixed_day, day])
    entry = s.fixed_entry[due]
    jitter = np.exp(t.fixed.jitter[entry] * rng.standard_normal(len(due)))
    return Rows.build(
        user=s.fixed_user[due],
        ts=_at(rng, len(due), day_start, 0.5, 8.0),
        amount=round_to(s.fixed_amount[due] * jitter, 10),
        merchant=s.fixed_merchant[due],
        category=t.fixed.category[entry],
        method=METHOD_AUTO,
        direction=OUT,
    )


def saving_rows(world: MoneyWorld, day: int, day_start: int) -> Rows:
    """Savings and investment transfers after payday, and ad-hoc trades."""
    t, s, rng, mkt = world.tables, world.state, world.rng, world.market
    p = s.persona
    since_pay = day - s.last_payday
    delay = t.savings_delay_days[p]

    savers = np.flatnonzero((since_pay == delay) & (t.savings_rate[p] > 0))
    share = t.savings_rate[p[savers]] + s.has_goal[savers] * t.extra_saving[p[savers]]
    saved = _affordable(s, savers, s.income[savers] * share)
    savers, saved = savers[saved > 0], saved[saved > 0]
    s.savings[savers] += saved
    s.goal_saved[savers] += saved * s.has_goal[savers]

    investors = np.flatnonzero((since_pay == delay + 1) & (t.investment_rate[p] > 0))
    tilt = np.clip(1 + t.market_sensitivity[p[investors]] * mkt.momentum[day], 0.0, 3.0)
    invested = _affordable(
        s, investors, s.income[investors] * t.investment_rate[p[investors]] * tilt
    )

    traders = np.empty(0, dtype=np.int64)
    if not world.calendar.is_rest_day[day]:
        calm = abs(mkt.returns[day]) / max(mkt.volatility[day], 1e-9)
        chance = t.trade_rate[p] / TRADING_DAYS_PER_MONTH * (0.5 + 0.5 * calm)
        traders = np.flatnonzero(rng.random(s.size) < chance)
    move = np.clip(1 + 10 * t.market_sensitivity[p[traders]] * mkt.returns[day], 0.2, 3.0)
    size = t.trade_median[p[traders]] * np.exp(0.6 * rng.standard_normal(len(traders))) * move
    traded = _affordable(s, traders, size)

    buyers = np.concatenate([investors, traders])
    bought = np.concatenate([invested, traded])
    buyers, bought = buyers[bought > 0], bought[bought > 0]
    np.add.at(s.portfolio, buyers, bought)
    times = np.concatenate(
        [
            _at(rng, len(savers), day_start, 8.0, 12.0),
            _at(rng, len(investors), day_start, 9.0, 15.5)[invested > 0],
            _at(rng, len(traders), day_start, 9.0, 15.5)[traded > 0],
        ]
    )
    users = np.concatenate([savers, buyers])
    return Rows.build(
        user=users,
        ts=times,
        amount=np.concatenate([saved, bought]).astype(np.int64),
        merchant=np.concatenate([s.savings_merchant[savers], s.invest_merchant[buyers]]),
        category=np.repeat([SAVINGS, INVESTMENT], [len(savers), len(buyers)]),
        method=METHOD_TRANSFER,
        direction=OUT,
    )


def _affordable(state: AgentState, users: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Transfer sizes rounded down to 10,000 KRW and capped by the spare balance."""
    spare = np.maximum(0.0, state.balance[users] - SAVINGS_BUFFER)
    return np.floor(np.minimum(wanted, spare) / 10_000) * 10_000


def grow_portfolio(world: MoneyWorld, day: int) -> None:
    """Mark investments to market with the day's index return."""
    world.state.portfolio *= np.exp(world.market.returns[day])
