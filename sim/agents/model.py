"""The Mesa model of one shard of the population (users live and interact within a shard).

One step is one simulated day, vectorised over the shard::

    model = ShardModel(setup)
    for _ in range(days):
        model.step()          # then model.day_rows holds the day's transactions
    model.datacollector.get_model_vars_dataframe()   # daily population metrics
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np
import pyarrow as pa

from sim.agents import anomalies, identity, money, occasions, rhythm, spending
from sim.agents.agents import UserAgent, create_state
from sim.agents.calendar import SimCalendar
from sim.agents.market import MarketPath
from sim.agents.merchants import MerchantCatalog
from sim.agents.metrics import POPULATION_DAILY, day_metrics, model_reporters
from sim.agents.repertoire import RegionalVocabulary
from sim.agents.rows import IN, OUT, Rows
from sim.agents.tables import PersonaTables


@dataclass(frozen=True)
class ShardSetup:
    """Everything a shard model is built from (shared by all shards but the seed)."""

    tables: PersonaTables
    catalog: MerchantCatalog
    vocabulary: RegionalVocabulary
    calendar: SimCalendar
    market: MarketPath
    index: int
    offset: int
    size: int
    seed: np.random.SeedSequence
    anomaly_rate: float


class ShardModel(mesa.Model):
    """A shard of Moni users: agents, friendships, calendar, market, one generator.

    Attributes:
        state: The users' attributes and state arrays (see :class:`AgentState`).
        user_agents: One :class:`UserAgent` view per user, in shard order.
        user_ids: Global user ids (shard offset + index + 1).
        day_rows: Transactions of the last simulated day, time-ordered.
        goal_events: ``(day, user indices, goal amounts)`` of goals set (day -1: sign-up).
        labels: Monthly snapshots of the users' personas (the ``labels`` table).
        datacollector: Mesa DataCollector of the daily population metrics.
    """

    def __init__(self, setup: ShardSetup) -> None:
        super().__init__(rng=np.random.Generator(np.random.PCG64(setup.seed)))
        self.setup = setup
        self.tables = setup.tables
        self.calendar = setup.calendar
        self.user_ids = setup.offset + 1 + np.arange(setup.size, dtype=np.int64)
        self.state = create_state(setup.tables, setup.size, self.rng, setup.calendar, setup.catalog)
        self.user_agents = [UserAgent(self, i) for i in range(setup.size)]
        self.spending = spending.SpendingWorld.create(
            setup.tables, self.state, setup.catalog, setup.vocabulary, setup.calendar, self.rng
        )
        self.money = money.MoneyWorld.create(
            setup.tables, self.state, setup.calendar, setup.market, setup.catalog, self.rng
        )
        self.day_start = setup.calendar.dates.astype("datetime64[s]").astype(np.int64)
        self.day_rows = Rows.empty()
        holders = np.flatnonzero(self.state.has_goal)
        self.goal_events: list[tuple[int, np.ndarray, np.ndarray]] = [
            (-1, holders, self.state.goal_amount[holders].copy())
        ]
        self.metrics: dict = {}
        self.labels: list[identity.MonthLabels] = []
        self.datacollector = mesa.DataCollector(model_reporters=model_reporters())

    def step(self) -> None:
        """Simulate one day for every user at once, then collect the day's metrics."""
        self.day_rows = self.simulate_day(self.steps - 1)
        self.datacollector.collect(self)

    def simulate_day(self, day: int) -> Rows:
        """All transactions of one day, updating the state (balance, budget, mood, goals)."""
        start = int(self.day_start[day])
        self._start_day(day)
        income, fixed, moves, paid = self._money_moves(day, start)
        everyday, refunds = self._spending(day, start, paid)
        reached = self._renew_goals(day)
        self.metrics = day_metrics(
            self.state,
            date=self.calendar.dates[day],
            shard=self.setup.index,
            everyday=everyday,
            fixed=fixed,
            moves=moves,
            income=income,
            refunds=refunds,
            goals_reached=reached,
            market_index=float(self.setup.market.level[day]),
            is_rest_day=bool(self.calendar.is_rest_day[day]),
        )
        return Rows.concat([income, fixed, moves, everyday, refunds]).sorted_by_time()

    def _start_day(self, day: int) -> None:
        """Month boundaries (raises, life changes, the month's level, labels), today's persona."""
        state, tables = self.state, self.tables
        if self.calendar.day_of_month[day] == 1 and day > 0:
            money.apply_raises(self.money, day)
            identity.drift(tables, state, self.rng)
        if self.calendar.day_of_month[day] == 1 or day == 0:
            rhythm.new_month(tables, state, self.rng)
            month = self.calendar.dates[day].astype("datetime64[M]")
            self.labels.append(identity.MonthLabels.of(month, state))
        identity.choose_acting(state, self.rng)

    def _money_moves(self, day: int, start: int) -> tuple[Rows, Rows, Rows, np.ndarray]:
        """Pay, auto-debits, savings and investment moves; returns them and who was paid."""
        income, paid = money.income_rows(self.money, day, start)
        self.state.month_spend[paid] = 0.0  # the budget runs from payday to payday
        self._settle(income)
        fixed = money.fixed_rows(self.money, day, start)
        self._settle(fixed)
        moves = money.saving_rows(self.money, day, start)
        self._settle(moves)
        money.grow_portfolio(self.money, day)
        return income, fixed, moves, paid

    def _spending(self, day: int, start: int, paid: np.ndarray) -> tuple[Rows, Rows]:
        """Everyday payments (occasions and anomalies included) and refunds of the day."""
        state, tables = self.state, self.tables
        spending.update_impulse(self.spending, paid)
        big, travellers = occasions.occasion_rows(self.spending, start)
        rhythm.start_quiet_spells(tables, state, self.rng, travellers)
        level = rhythm.intensity(tables, state, self.rng)
        rates = spending.daily_rates(self.spending, self.calendar, day, level)
        normal = spending.everyday_rows(self.spending, rates, start)
        expected = rates.sum(axis=1) / np.maximum(level, 1e-9)
        counts = np.bincount(normal.user, minlength=state.size)
        rhythm.record_day(tables, state, counts, expected)
        odd = anomalies.inject(self.spending, normal, start, self.setup.anomaly_rate)
        everyday = Rows.concat([normal, big, odd])
        refunds = occasions.refund_rows(self.spending, start)
        self._settle(Rows.concat([everyday, refunds]))
        spent = np.bincount(everyday.user, everyday.amount, minlength=state.size)
        state.month_spend += spent - np.bincount(refunds.user, refunds.amount, minlength=state.size)
        return everyday, refunds

    def _settle(self, rows: Rows) -> None:
        """Apply a batch's money flows to the balances."""
        sign = np.where(rows.direction == IN, 1.0, 0.0) - (rows.direction == OUT)
        self.state.balance += np.bincount(rows.user, rows.amount * sign, self.state.size)

    def _renew_goals(self, day: int) -> int:
        """Users who reached their goal set a bigger one (recorded for the app decisions)."""
        s = self.state
        done = np.flatnonzero(s.has_goal & (s.goal_saved >= s.goal_amount))
        if len(done):
            s.goal_saved[done] -= s.goal_amount[done]
            s.goal_amount[done] = np.round(s.goal_amount[done] * 2, -6)
            self.goal_events.append((day, done, s.goal_amount[done].copy()))
        return len(done)

    def label_table(self) -> pa.Table:
        """The ``labels`` rows (dominant persona of every user-month so far)."""
        return identity.label_table(self.tables, self.user_ids, self.labels)

    def daily_table(self) -> pa.Table:
        """The collected daily metrics as a ``population_daily`` table."""
        frame = self.datacollector.get_model_vars_dataframe()
        if frame.empty:
            return POPULATION_DAILY.schema.empty_table()
        return pa.Table.from_pandas(frame, preserve_index=False)
