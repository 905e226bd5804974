"""User agents: state in NumPy arrays owned by the model, exposed per agent by index."""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.agents.calendar import SimCalendar
from sim.agents.identity import draw_secondary
from sim.agents.merchants import MerchantCatalog
from sim.agents.network import small_world
from sim.agents.personas import SPEND_CATEGORIES
from sim.agents.sampling import grouped_choice, make_cdf, time_of_day
from sim.agents.tables import PersonaTables

if TYPE_CHECKING:
    from sim.agents.model import ShardModel

FRIENDS = 6
"""Friends per agent in the shard's small-world network."""
REWIRE = 0.1
"""Watts-Strogatz rewiring probability."""
ROUND_UNITS = np.array([10_000.0, 1_000.0, 100.0])
"""How users round their savings and investment transfers, and how many do (below)."""
ROUND_UNIT_SHARES = np.array([0.6, 0.3, 0.1])
CASH_BUFFER_MONTHS = 0.5
"""Beyond a month of living, users keep this many months of pay as cash (the reserve)."""
MAX_FIXED_SHARE = 0.45
"""Nobody commits more than this share of pay to auto-debits (rent is chosen to fit)."""
MAX_RATE = 0.8
"""No user saves or invests more than this share of pay by habit."""
RAISE_MONTHS = np.array([0.45, 0.05, 0.25, 0.05, 0.03, 0.03, 0.05, 0.03, 0.02, 0.02, 0.01, 0.01])
"""When raises take effect (January and March, the usual 연봉협상 months, most often)."""
AMOUNT_SIGMA = 0.15
"""Spread (log scale) of a user's ticket sizes around the persona's."""
INCOME_ELASTICITY = 0.3
"""Ticket sizes scale with (income / persona median) to this power."""
NAME_POOL_SIZE = 2048
"""Korean names drawn once per seed (per gender) by Faker; users pick from the pool."""


@dataclass
class AgentState:
    """Every user's attributes and state in a shard, one array per quantity.

    Static: persona, demographics (name index into the seed's name pool, sign-up time),
    payday, budget, spending rate and taste (the categories in the user's life), friends,
    fixed costs, savings/brokerage accounts, own savings and investment rates, rounding
    habit, reserve (a month of living and half a month of pay), raise and bonus months.
    Identity (:mod:`sim.agents.identity`): the persona and income at sign-up, the
    secondary persona and mixing weight, today's acting persona; ``persona`` is the
    dominant one and changes when a user's life does.
    Dynamic: income (raises), balance, savings, portfolio, spending since payday
    (``month_spend``), impulse level, goal progress, and the rhythm of spending
    (self-excitation, days left of a quiet spell, this month's level).
    """

    persona: np.ndarray
    name_index: np.ndarray
    signup_at: np.ndarray
    age: np.ndarray
    female: np.ndarray
    occupation: np.ndarray
    region: np.ndarray
    income: np.ndarray
    payday: np.ndarray
    budget: np.ndarray
    rate: np.ndarray
    amount_scale: np.ndarray
    cat_mix: np.ndarray
    friends: np.ndarray
    savings_merchant: np.ndarray
    invest_merchant: np.ndarray
    fixed_user: np.ndarray
    fixed_entry: np.ndarray
    fixed_merchant: np.ndarray
    fixed_amount: np.ndarray
    fixed_day: np.ndarray
    has_goal: np.ndarray
    goal_amount: np.ndarray
    goal_saved: np.ndarray
    opening_balance: np.ndarray
    balance: np.ndarray
    savings: np.ndarray
    portfolio: np.ndarray
    month_spend: np.ndarray
    impulse: np.ndarray
    last_payday: np.ndarray
    disc_ratio: np.ndarray
    savings_rate: np.ndarray
    invest_rate: np.ndarray
    round_unit: np.ndarray
    reserve: np.ndarray
    raise_month: np.ndarray
    bonus_month: np.ndarray
    excite: np.ndarray
    quiet_left: np.ndarray
    month_level: np.ndarray
    first_persona: np.ndarray
    first_income: np.ndarray
    secondary: np.ndarray
    mix_weight: np.ndarray
    acting: np.ndarray

    @property
    def size(self) -> int:
        """Number of users."""
        return len(self.persona)


def create_state(
    tables: PersonaTables,
    n: int,
    rng: np.random.Generator,
    calendar: SimCalendar,
    catalog: MerchantCatalog,
) -> AgentState:
    """Draw a shard's users from the personas (every draw from the model's generator)."""
    persona = _one_of(np.arange(len(tables.share), dtype=np.int16), tables.share, n, rng)
    t = tables
    age_lo, age_hi = t.age_min[persona], t.age_max[persona]
    age = np.floor(age_lo + rng.random(n) * (age_hi - age_lo + 1)).astype(np.int16)
    female = rng.random(n) < t.female_share[persona]
    name_index = rng.integers(0, NAME_POOL_SIZE, n)
    signup_hour = grouped_choice(t.base_hour_cdf, persona, rng.random(n))
    eve = int(calendar.dates[0].astype("datetime64[s]").astype(np.int64)) - 86_400
    signup_at = eve + time_of_day(signup_hour, rng)
    occupation = grouped_choice(t.occupation_cdf, persona, rng.random(n)).astype(np.int16)
    region = grouped_choice(t.region_cdf, persona, rng.random(n)).astype(np.int16)
    income = t.monthly_median[persona] * np.exp(t.sigma[persona] * rng.standard_normal(n))
    slot = grouped_choice(t.payday_cdf, persona, rng.random(n))
    payday = t.payday_values[persona, slot]
    rate = t.txn_per_day[persona] * np.exp(
        t.user_sigma[persona] * rng.standard_normal(n) - t.user_sigma[persona] ** 2 / 2
    )
    relative_income = income / t.monthly_median[persona]
    amount_scale = relative_income**INCOME_ELASTICITY * np.exp(
        AMOUNT_SIGMA * rng.standard_normal(n)
    )
    cat_mix = _category_mix(tables, persona, rng)
    friends = small_world(n, FRIENDS, REWIRE, rng)
    savings_merchant = _pick(catalog, "savings", n, rng)
    invest_merchant = _pick(catalog, "investment", n, rng)
    fixed, monthly_fixed = _fitted_fixed_costs(tables, persona, income, rng)

    has_goal = rng.random(n) < t.adoption[persona]
    monthly_goal_saving = income * (t.savings_rate[persona] + t.extra_saving[persona])
    goal_amount = np.maximum(
        1_000_000, np.round(monthly_goal_saving * t.target_months[persona], -6)
    )
    goal_saved = np.where(has_goal, goal_amount * 0.3 * rng.random(n), 0.0)
    budget = t.budget_share[persona] * income
    elapsed = (calendar.day_of_month[0] - 1) / calendar.days_in_month[0]
    month_spend = budget * elapsed * np.exp(0.3 * rng.standard_normal(n))
    opening = np.round(income * t.opening_balance_months[persona] * rng.uniform(0.5, 1.5, n), -3)
    rates = _saving_rates(tables, persona, rng)
    secondary, mix_weight = draw_secondary(tables, persona, age, rng)
    habits = _money_habits(n, rng)
    return AgentState(
        persona=persona,
        name_index=name_index,
        signup_at=signup_at,
        age=age,
        female=female,
        occupation=occupation,
        region=region,
        income=income,
        payday=payday.astype(np.int8),
        budget=budget,
        rate=rate,
        amount_scale=amount_scale,
        cat_mix=cat_mix,
        friends=friends,
        savings_merchant=savings_merchant,
        invest_merchant=invest_merchant,
        **fixed,
        has_goal=has_goal,
        goal_amount=goal_amount,
        goal_saved=goal_saved,
        opening_balance=opening,
        balance=opening.copy(),
        savings=goal_saved.copy(),
        portfolio=np.zeros(n),
        month_spend=month_spend,
        impulse=np.zeros(n),
        last_payday=np.full(n, -1000, dtype=np.int64),
        disc_ratio=np.ones(n),
        **rates,
        **habits,
        reserve=budget + monthly_fixed + CASH_BUFFER_MONTHS * income,
        excite=np.zeros(n),
        quiet_left=np.zeros(n, dtype=np.int32),
        month_level=np.ones(n),
        first_persona=persona.copy(),
        first_income=income.copy(),
        secondary=secondary,
        mix_weight=mix_weight,
        acting=persona.copy(),
    )


def _category_mix(
    tables: PersonaTables, persona: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Each user's category mix: the categories in the user's life, with personal weights.

    A category is in a user's life with probability ``reach``; its weight is the
    persona's share over ``reach`` (so the persona's mix holds on average) times a
    lognormal taste (log-sd ``taste_sigma``): a personal, Zipf-like subset.
    """
    n, cats = len(persona), len(SPEND_CATEGORIES)
    reach = tables.cat_reach[persona]
    in_life = rng.random((n, cats)) < reach
    in_life[np.arange(n), np.argmax(tables.cat_share[persona], axis=1)] = True
    sigma = tables.taste_sigma[persona][:, None]
    taste = np.exp(sigma * rng.standard_normal((n, cats)) - sigma**2 / 2)
    mix = tables.cat_share[persona] / reach * taste * in_life
    return mix / mix.sum(axis=1, keepdims=True)


def _one_of(values: np.ndarray, shares: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of ``values`` with the given shares."""
    return values[grouped_choice(make_cdf(shares[None, :]), np.zeros(n, int), rng.random(n))]


def _money_habits(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """How each user rounds transfers, when raises take effect, when the bonus comes."""
    return {
        "round_unit": _one_of(ROUND_UNITS, ROUND_UNIT_SHARES, n, rng),
        "raise_month": _one_of(np.arange(1, 13), RAISE_MONTHS, n, rng),
        "bonus_month": np.where(rng.random(n) < 0.5, 12, 1),
    }


def _fitted_fixed_costs(
    tables: PersonaTables, persona: np.ndarray, income: np.ndarray, rng: np.random.Generator
) -> tuple[dict, np.ndarray]:
    """The users' auto-debits, scaled down where they would take more than a share of pay
    (people choose a rent they can afford), and each user's monthly total."""
    fixed = _fixed_costs(tables, persona, rng)
    n = len(persona)
    monthly = np.bincount(fixed["fixed_user"], fixed["fixed_amount"], minlength=n)
    affordable = np.minimum(1.0, MAX_FIXED_SHARE * income / np.maximum(monthly, 1.0))
    fixed["fixed_amount"] = fixed["fixed_amount"] * affordable[fixed["fixed_user"]]
    return fixed, monthly * affordable


def _saving_rates(tables: PersonaTables, persona: np.ndarray, rng: np.random.Generator) -> dict:
    """Each user's own savings and investment rates, spread around the persona's."""
    sigma = tables.rate_sigma[persona]
    out = {}
    for name, median in (
        ("savings_rate", tables.savings_rate),
        ("invest_rate", tables.investment_rate),
    ):
        spread = np.exp(sigma * rng.standard_normal(len(persona)))
        out[name] = np.minimum(MAX_RATE, median[persona] * spread)
    return out


def _pick(catalog: MerchantCatalog, category: str, n: int, rng: np.random.Generator) -> np.ndarray:
    ids, cdf = catalog.vocabulary_cdf((category,))
    return ids[0, grouped_choice(cdf, np.zeros(n, int), rng.random(n))]


def _fixed_costs(tables: PersonaTables, persona: np.ndarray, rng: np.random.Generator) -> dict:
    """Which auto-debits each user has, with merchant, monthly amount and due day."""
    fx = tables.fixed
    n_entries = len(fx.persona)
    if n_entries == 0:
        empty = np.zeros(0, dtype=np.int32)
        return {f"fixed_{k}": empty for k in ("user", "entry", "merchant", "amount", "day")}
    match = persona[:, None] == fx.persona[None, :]
    has = match & (rng.random(match.shape) < fx.prob[None, :])
    user, entry = np.nonzero(has)
    m = len(user)
    slot = grouped_choice(fx.merchant_cdf, entry, rng.random(m))
    amount = fx.amount[entry] * np.exp(fx.sigma[entry] * rng.standard_normal(m))
    random_day = rng.integers(1, 29, size=m)
    day = np.where(fx.day[entry] > 0, fx.day[entry], random_day)
    return {
        "fixed_user": user.astype(np.int32),
        "fixed_entry": entry.astype(np.int32),
        "fixed_merchant": fx.merchants[entry, slot],
        "fixed_amount": amount,
        "fixed_day": day.astype(np.int8),
    }


class _ModelCounters(weakref.WeakKeyDictionary):
    """Mesa's per-model ``unique_id`` counters, held weakly.

    ``mesa.Agent._ids`` is a class-level dict keyed by model that keeps every model ever
    built alive; a worker simulating hundreds of shards would grow without bound.
    """

    def __getitem__(self, model: mesa.Model) -> Iterator[int]:
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


class UserAgent(mesa.Agent):
    """One Moni user. Its state lives in the model's :class:`AgentState` arrays.

    The model steps the whole population at once (vectorised); an agent object is a
    view for inspection, reporters and tests: ``agent.balance`` reads
    ``model.state.balance[agent.index]``.
    """

    _ids = _ModelCounters()
    model: ShardModel

    def __init__(self, model: ShardModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def _state(self) -> AgentState:
        return self.model.state

    @property
    def user_id(self) -> int:
        """Global user id."""
        return int(self.model.user_ids[self.index])

    @property
    def persona(self) -> str:
        """Persona name."""
        return self.model.tables.names[self._state.persona[self.index]]

    @property
    def balance(self) -> float:
        """Current account balance (KRW)."""
        return float(self._state.balance[self.index])

    @property
    def month_spend(self) -> float:
        """Everyday spending so far this month (KRW)."""
        return float(self._state.month_spend[self.index])

    @property
    def budget(self) -> float:
        """Monthly everyday-spending budget (KRW)."""
        return float(self._state.budget[self.index])

    @property
    def budget_left(self) -> float:
        """Share of this month's budget not yet spent (negative when over budget)."""
        return 1.0 - self.month_spend / self.budget

    @property
    def impulse(self) -> float:
        """Mood/impulse level (0 = neutral; raised by payday and friends' splurges)."""
        return float(self._state.impulse[self.index])

    @property
    def goal_progress(self) -> float | None:
        """Saved share of the savings goal, or None without a goal."""
        if not self._state.has_goal[self.index]:
            return None
        return float(self._state.goal_saved[self.index] / self._state.goal_amount[self.index])

    @property
    def assets(self) -> float:
        """Balance + savings + investment portfolio (KRW)."""
        s = self._state
        return float(s.balance[self.index] + s.savings[self.index] + s.portfolio[self.index])

    @property
    def friends(self) -> list[UserAgent]:
        """The agent's friends in the shard's network."""
        agents = self.model.user_agents
        return [agents[j] for j in self._state.friends[self.index]]
