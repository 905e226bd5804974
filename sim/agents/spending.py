"""Everyday spending, vectorised over a shard: rates from state, then every row of the day.

Behaviour follows state: the rate of each category falls as the month's budget runs out
(hard for disciplined personas, barely for YOLO ones), discretionary categories follow the
impulse level (raised on payday and by friends' splurges, decaying daily), and spending
is damped as cash runs low (hard in overdraft): budgets bind. :func:`draw_spending` is
the single place where a
payment's time, amount, merchant and method are drawn, for normal and anomalous rows alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.agents import rhythm
from sim.agents.agents import AgentState
from sim.agents.calendar import SimCalendar
from sim.agents.merchants import MerchantCatalog
from sim.agents.personas import SPEND_CATEGORIES
from sim.agents.repertoire import RegionalVocabulary, Repertoire
from sim.agents.rows import NO_ANOMALY, OUT, Rows
from sim.agents.sampling import Categorical, round_to, time_of_day, weighted_choice
from sim.agents.seasons import season_log_factors
from sim.agents.tables import SPEND_INDEX, PersonaTables

CARD_UNIT = 100
"""Everyday amounts are rounded to 100 KRW."""
BUDGET_SLOWDOWN = 0.25
"""Spending starts to slow when less than this share of the month's budget is left."""
REPERTOIRE_SLOTS = 16
"""Merchants a user remembers per category (the least visited is forgotten first)."""
IMPULSE_NOISE = 0.05
"""Daily random shock of the impulse level."""
LIQUIDITY_SLOPE = 2.0
"""Spending is damped as cash runs low: ``0.5 + slope × balance / income`` (clipped)."""
MIN_LIQUID = 0.05
"""Discretionary spending never stops entirely, even deep in overdraft."""
N_CATEGORIES = len(SPEND_CATEGORIES)


@dataclass(frozen=True)
class SpendingWorld:
    """What the spending draws need: personas, agents, merchants and the generator."""

    tables: PersonaTables
    state: AgentState
    repertoire: Repertoire
    hours: Categorical
    methods: Categorical
    season: np.ndarray
    rng: np.random.Generator
    ongoing: dict[str, np.ndarray] = field(default_factory=dict, compare=False)
    """Anomaly episodes that span days, kept by :mod:`sim.agents.anomalies`."""

    @classmethod
    def create(
        cls,
        tables: PersonaTables,
        state: AgentState,
        catalog: MerchantCatalog,
        vocabulary: RegionalVocabulary,
        calendar: SimCalendar,
        rng: np.random.Generator,
    ) -> SpendingWorld:
        """Bundle the shard's pieces with the users' merchant repertoires and the seasons."""
        p = state.persona
        repertoire = Repertoire.create(
            catalog,
            state.region,
            SPEND_CATEGORIES,
            REPERTOIRE_SLOTS,
            tables.favourite_merchants[p].astype(np.int64),
            rng,
            concentration=tables.zipf_exponent[p],
            vocabulary=vocabulary,
        )
        return cls(
            tables=tables,
            state=state,
            repertoire=repertoire,
            hours=Categorical.of(tables.hour_cdf),
            methods=Categorical.of(tables.method_cdf),
            season=season_log_factors(calendar),
            rng=rng,
        )


def update_impulse(world: SpendingWorld, paid: np.ndarray) -> None:
    """Decay the impulse level, add the payday jump and friends' influence, plus noise."""
    t, s = world.tables, world.state
    p = s.persona
    if s.friends.shape[1]:
        peer = np.clip(s.disc_ratio[s.friends].mean(axis=1) - 1.0, -1.0, 2.0)
    else:
        peer = np.zeros(s.size)
    s.impulse = (
        t.impulse_decay[p] * s.impulse
        + t.payday_impulse[p] * paid
        + 0.5 * t.peer_influence[p] * peer
        + IMPULSE_NOISE * world.rng.standard_normal(s.size)
    )


def daily_rates(
    world: SpendingWorld, calendar: SimCalendar, day: int, intensity: np.ndarray
) -> np.ndarray:
    """Expected payments per user and category today, ``(users, categories)``.

    ``intensity`` is each user's activity multiplier of the day (:mod:`sim.agents.rhythm`).
    """
    t, s = world.tables, world.state
    p = s.acting
    holiday = bool(calendar.is_holiday[day])
    weekday = 6 if holiday else int(calendar.weekday[day])
    day_factor = t.weekday[p, weekday] * (t.holiday_factor[p] if holiday else 1.0)
    left = 1.0 - s.month_spend / s.budget
    floor = 1.0 - t.discipline[p]
    budget = floor + (1.0 - floor) * np.clip(left / BUDGET_SLOWDOWN, 0.0, 1.0)
    liquid = np.clip(0.5 + LIQUIDITY_SLOPE * s.balance / s.income, MIN_LIQUID, 1.0)
    mood = np.clip(np.exp(s.impulse), 0.3, 4.0)
    disc = budget * liquid * mood
    essential = (0.6 + 0.4 * budget) * (0.75 + 0.25 * liquid)
    factor = np.where(t.discretionary[None, :], disc[:, None], essential[:, None])
    season = np.exp(t.season_amplitude[p][:, None] * world.season[day][None, :])
    acting_rate = t.txn_per_day[p] / t.txn_per_day[s.persona]
    return (s.rate * acting_rate * day_factor * intensity)[:, None] * s.cat_mix * factor * season


def everyday_rows(world: SpendingWorld, rates: np.ndarray, day_start: int) -> Rows:
    """Draw today's everyday payments of every user from the rates."""
    rng = world.rng
    counts = rng.poisson(rates.sum(axis=1))
    users = np.repeat(np.arange(len(counts)), counts)
    cats = weighted_choice(rates, users, rng.random(len(users)))
    rows = draw_spending(world, users, cats, day_start)
    follow = rng.random(len(users)) < world.tables.trip_share[world.state.acting[users]]
    rows.ts = day_start + rhythm.cluster_outings(users, rows.ts - day_start, follow, rng)
    expected = (rates * world.tables.discretionary[None, :]).sum(axis=1)
    disc = np.bincount(users, weights=world.tables.discretionary[cats], minlength=len(counts))
    world.state.disc_ratio = (disc + 0.5) / (expected + 0.5)
    return rows


def draw_spending(
    world: SpendingWorld,
    users: np.ndarray,
    cats: np.ndarray,
    day_start: int,
    *,
    hours: np.ndarray | None = None,
    amount_factor: np.ndarray | float = 1.0,
    amounts: np.ndarray | None = None,
    merchants: np.ndarray | None = None,
    anomaly: np.ndarray | int = NO_ANOMALY,
) -> Rows:
    """Payments of given users in given spend categories on one day.

    Time of day, amount (its ticket multiplier at that hour included), merchant and method
    follow the user's acting persona of the day and the user unless given; anomaly
    injection overrides one of them and nothing else.

    Args:
        world: The shard's spending world.
        users: Shard-local user index per payment.
        cats: Spend-category column per payment.
        day_start: Epoch seconds of the day's midnight.
        hours: Hour of day per payment (default: the persona's profile).
        amount_factor: Multiplier on the drawn amount.
        amounts: KRW amounts instead of the category's draw (occasions).
        merchants: Merchant ids (default: the user's repertoire, sometimes a new one).
        anomaly: Anomaly kind code(s) for the label.
    """
    t, s, rng = world.tables, world.state, world.rng
    n = len(users)
    p = s.acting[users].astype(np.int64)
    p = np.where(t.cat_share[p, cats] > 0, p, s.persona[users])  # a category only it buys
    pc = p * N_CATEGORIES + cats
    if hours is None:
        hours = world.hours.draw(pc, rng.random(n))
    ts = day_start + time_of_day(hours, rng)
    log_amount = t.cat_sigma[p, cats] * rng.standard_normal(n)
    raw = t.cat_median[p, cats] * s.amount_scale[users] * np.exp(log_amount) * amount_factor
    raw *= t.ticket_by_hour[p, cats, hours]
    raw = np.maximum(raw, t.cat_floor[p, cats]) if amounts is None else amounts
    if merchants is None:
        merchants = pick_merchants(world, users, cats)
    method = world.methods.draw(pc, rng.random(n))
    return Rows.build(
        user=users,
        ts=ts,
        amount=round_to(raw, CARD_UNIT),
        merchant=merchants,
        category=SPEND_INDEX[cats],
        method=method,
        direction=OUT,
        anomaly=anomaly,
    )


def pick_merchants(world: SpendingWorld, users: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """Merchants by exploration and preferential return (:mod:`sim.agents.repertoire`)."""
    p = world.state.persona[users]
    t = world.tables
    return world.repertoire.pick(users, cats, t.explore_share[p], t.explore_decay[p], world.rng)


def vocabulary_merchants(world: SpendingWorld, users: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """Merchants drawn by popularity among those of each user's region and category."""
    group = world.repertoire.group[users] + cats
    return world.repertoire.vocabulary.draw(group, world.rng.random(len(cats)))
