"""Labelled anomalies injected into everyday spending, recognisable only by behaviour.

On a day with ``k`` normal payments a user starts an anomaly episode with probability
``min(0.5, anomaly_rate × propensity × k)``, so ``anomaly_rate`` is about the number of
episodes per normal payment, scaled by the persona's propensity. Kinds
(``schema.ANOMALY_KINDS``, weights :data:`KIND_WEIGHTS`):

- ``amount_spike``: a usual category and merchant at 4-12× the usual amount;
- ``small_burst``: 3-6 small payments at one merchant within minutes;
- ``unusual_category``: a category the user almost never buys (not P2P transfers), at
  1.5-4× its amount;
- ``unusual_hour``: a usual payment at 1-4 h at night, at 2-5× the amount;
- ``new_merchant_large``: a merchant the user does not know at 5-15× the amount;
- ``duplicate_charge``: one of the day's payments charged again 5-180 s later.

No leak: every anomalous row is drawn by :func:`~sim.agents.spending.draw_spending` like a
normal one (same method distribution, merchant vocabulary, 100 KRW rounding, random
seconds) and gets its ``txn_id`` from the same time-ordered sequence.
"""

from __future__ import annotations

import numpy as np

from monilab.contracts.vocabulary import ANOMALY_KINDS
from sim.agents.personas import SPEND_CATEGORIES
from sim.agents.rows import Rows
from sim.agents.sampling import grouped_choice, make_cdf, round_to
from sim.agents.spending import CARD_UNIT, SpendingWorld, draw_spending, vocabulary_merchants

KIND_WEIGHTS: dict[str, float] = {
    "amount_spike": 0.22,
    "small_burst": 0.14,
    "unusual_category": 0.18,
    "unusual_hour": 0.18,
    "new_merchant_large": 0.14,
    "duplicate_charge": 0.14,
}
BURST_SIZES = (3, 6)
MAX_EPISODE_PROB = 0.5
KIND = {name: code for code, name in enumerate(ANOMALY_KINDS)}
_TRANSFER_COLUMN = np.array([c == "transfer" for c in SPEND_CATEGORIES])
"""P2P transfers are never the 'unusual category' (their method would stand out)."""


def inject(world: SpendingWorld, normal: Rows, day_start: int, rate: float) -> Rows:
    """Anomalous rows for today, given the day's normal everyday rows."""
    if rate <= 0 or not len(normal):
        return Rows.empty()
    s, t, rng = world.state, world.tables, world.rng
    counts = np.bincount(normal.user, minlength=s.size)
    chance = np.minimum(MAX_EPISODE_PROB, rate * t.propensity[s.persona] * counts)
    users = np.flatnonzero(rng.random(s.size) < chance)
    weights = np.array([KIND_WEIGHTS[k] for k in ANOMALY_KINDS])
    kinds = grouped_choice(
        make_cdf(weights[None, :]), np.zeros(len(users), int), rng.random(len(users))
    )
    parts = []
    for name, code in KIND.items():
        who = users[kinds == code]
        if len(who):
            parts.append(_EPISODES[name](world, who, normal, day_start, code))
    return Rows.concat(parts)


def _usual_category(world: SpendingWorld, users: np.ndarray) -> np.ndarray:
    return grouped_choice(
        make_cdf(world.state.cat_mix[users]), np.arange(len(users)), world.rng.random(len(users))
    )


def _log_uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


def _amount_spike(
    world: SpendingWorld, users: np.ndarray, normal: Rows, day_start: int, code: int
) -> Rows:
    cats = _usual_category(world, users)
    factor = _log_uniform(world.rng, 4, 12, len(users))
    return draw_spending(world, users, cats, day_start, amount_factor=factor, anomaly=code)


def _small_burst(
    world: SpendingWorld, users: np.ndarray, normal: Rows, day_start: int, code: int
) -> Rows:
    rng = world.rng
    size = rng.integers(BURST_SIZES[0], BURST_SIZES[1] + 1, len(users))
    first = draw_spending(world, users, _usual_category(world, users), day_start, anomaly=code)
    burst = first.take(np.repeat(np.arange(len(users)), size))
    starts = np.cumsum(size) - size
    gaps = rng.integers(20, 240, len(burst))
    gaps[starts] = 0
    elapsed = np.cumsum(gaps)
    burst.ts = burst.ts + elapsed - np.repeat(elapsed[starts], size)
    burst.amount = round_to(3000 * np.exp(0.4 * rng.standard_normal(len(burst))), CARD_UNIT)
    return burst


def _unusual_category(
    world: SpendingWorld, users: np.ndarray, normal: Rows, day_start: int, code: int
) -> Rows:
    mix = np.where(_TRANSFER_COLUMN, np.inf, world.state.cat_mix[users])
    rare = np.argsort(mix, axis=1, kind="stable")[:, :3]
    cats = rare[np.arange(len(users)), world.rng.integers(0, 3, len(users))]
    factor = _log_uniform(world.rng, 1.5, 4, len(users))
    merchants = vocabulary_merchants(world, users, cats)
    return draw_spending(
        world, users, cats, day_start, amount_factor=factor, merchants=merchants, anomaly=code
    )


def _unusual_hour(
    world: SpendingWorld, users: np.ndarray, normal: Rows, day_start: int, code: int
) -> Rows:
    hours = world.rng.integers(1, 5, len(users))
    factor = _log_uniform(world.rng, 2, 5, len(users))
    return draw_spending(
        world,
        users,
        _usual_category(world, users),
        day_start,
        hours=hours,
        amount_factor=factor,
        anomaly=code,
    )


def _new_merchant_large(
    world: SpendingWorld, users: np.ndarray, normal: Rows, day_start: int, code: int
) -> Rows:
    cats = _usual_category(world, users)
    merchants = vocabulary_merchants(world, users, cats)
    for _ in range(4):
        known = world.repertoire.knows(users, cats, merchants)
        if not known.any():
            break
        merchants = np.where(known, vocabulary_merchants(world, users, cats), merchants)
    factor = _log_uniform(world.rng, 5, 15, len(users))
    return draw_spending(
        world, users, cats, day_start, amount_factor=factor, merchants=merchants, anomaly=code
    )


def _duplicate_charge(
    world: SpendingWorld, users: np.ndarray, normal: Rows, day_start: int, code: int
) -> Rows:
    rng = world.rng
    order = np.argsort(normal.user, kind="stable")
    first = np.searchsorted(normal.user[order], users)
    count = np.bincount(normal.user, minlength=world.state.size)[users]
    pick = order[first + (rng.random(len(users)) * count).astype(np.int64)]
    copy = normal.take(pick)
    copy.ts = copy.ts + rng.integers(5, 181, len(users))
    copy.anomaly = np.full(len(users), code, dtype=np.int8)
    return copy


_EPISODES = {
    "amount_spike": _amount_spike,
    "small_burst": _small_burst,
    "unusual_category": _unusual_category,
    "unusual_hour": _unusual_hour,
    "new_merchant_large": _new_merchant_large,
    "duplicate_charge": _duplicate_charge,
}
