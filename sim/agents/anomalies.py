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
- ``duplicate_charge``: one of the day's payments charged again 5-180 s later;
- ``near_duplicate``: one of the day's payments charged again at the same merchant 1-30 min
  later with the amount changed by 2-10 % (so exact-amount matching misses it);
- ``ordinary_burst``: 3-5 payments at one usual merchant within about half an hour, each at
  an ordinary amount of that category (no small tickets to give it away);
- ``account_takeover``: over 3-4 consecutive days, 1-2 payments a day at merchants the
  user does not know, at 0-5 h at night, with amounts growing from about 1.5× to 8× the
  usual (every row of the episode is labelled).

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
    "amount_spike": 0.17,
    "small_burst": 0.10,
    "unusual_category": 0.14,
    "unusual_hour": 0.14,
    "new_merchant_large": 0.10,
    "duplicate_charge": 0.10,
    "near_duplicate": 0.10,
    "ordinary_burst": 0.08,
    "account_takeover": 0.07,
}
BURST_SIZES = (3, 6)
ORDINARY_BURST_SIZES = (3, 5)
TAKEOVER_DAYS = (3, 4)
TAKEOVER_GROWTH = 1.8
"""Amount factor of a takeover's day ``k`` (from 0): ``1.5 × 1.8**k`` times noise."""
ROWS_PER_EPISODE: dict[str, float] = {
    "small_burst": sum(BURST_SIZES) / 2,
    "ordinary_burst": sum(ORDINARY_BURST_SIZES) / 2,
    "account_takeover": sum(TAKEOVER_DAYS) / 2 * 1.5,
}
"""Mean rows of an episode for the kinds that are not a single payment."""
MAX_EPISODE_PROB = 0.5
KIND = {name: code for code, name in enumerate(ANOMALY_KINDS)}
_TRANSFER_COLUMN = np.array([c == "transfer" for c in SPEND_CATEGORIES])
"""P2P transfers are never the 'unusual category' (their method would stand out)."""


def inject(world: SpendingWorld, normal: Rows, day_start: int, rate: float) -> Rows:
    """Anomalous rows for today, given the day's normal everyday rows."""
    if rate <= 0:
        return Rows.empty()
    going = _continue_takeovers(world, day_start)
    if not len(normal):
        return going
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
    return Rows.concat([going, *parts])


def _usual_category(world: SpendingWorld, users: np.ndarray) -> np.ndarray:
    return grouped_choice(
        make_cdf(world.state.cat_mix[users]), np.arange(len(users)), world.rng.random(len(users))
    )


def _unknown_merchants(world: SpendingWorld, users: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """Merchants of each user's region and category the user does not know (a few redraws)."""
    merchants = vocabulary_merchants(world, users, cats)
    for _ in range(4):
        known = world.repertoire.knows(users, cats, merchants)
        if not known.any():
            break
        merchants = np.where(known, vocabulary_merchants(world, users, cats), merchants)
    return merchants


def _one_payment_each(world: SpendingWorld, users: np.ndarray, normal: Rows) -> np.ndarray:
    """Position in ``normal`` of one of the day's payments of each user (users who paid)."""
    order = np.argsort(normal.user, kind="stable")
    first = np.searchsorted(normal.user[order], users)
    count = np.bincount(normal.user, minlength=world.state.size)[users]
    return order[first + (world.rng.random(len(users)) * count).astype(np.int64)]


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
    merchants = _unknown_merchants(world, users, cats)
    factor = _log_uniform(world.rng, 5, 15, len(users))
    return draw_spending(
        world, users, cats, day_start, amount_factor=factor, merchants=merchants, anomaly=code
    )


def _duplicate_charge(
    world: SpendingWorld, users: np.ndarray, normal: Rows, day_start: int, code: int
) -> Rows:
    copy = normal.take(_one_payment_each(world, users, normal))
    copy.ts = copy.ts + world.rng.integers(5, 181, len(users))
    copy.anomaly = np.full(len(users), code, dtype=np.int8)
    return copy


def _near_duplicate(
    world: SpendingWorld, users: np.ndarray, normal: Rows, day_start: int, code: int
) -> Rows:
    rng = world.rng
    copy = normal.take(_one_payment_each(world, users, normal))
    copy.ts = copy.ts + rng.integers(60, 1801, len(users))
    change = rng.uniform(0.02, 0.10, len(users)) * rng.choice([-1.0, 1.0], len(users))
    amount = np.maximum(round_to(copy.amount * (1 + change), CARD_UNIT), CARD_UNIT)
    same = amount == copy.amount
    copy.amount = np.where(same, copy.amount + CARD_UNIT, amount).astype(np.int64)
    copy.anomaly = np.full(len(users), code, dtype=np.int8)
    return copy


def _ordinary_burst(
    world: SpendingWorld, users: np.ndarray, normal: Rows, day_start: int, code: int
) -> Rows:
    rng = world.rng
    low, high = ORDINARY_BURST_SIZES
    size = rng.integers(low, high + 1, len(users))
    cats = _usual_category(world, users)
    first = draw_spending(world, users, cats, day_start, anomaly=code)
    pick = np.repeat(np.arange(len(users)), size)
    rest = draw_spending(
        world,
        users[pick],
        cats[pick],
        day_start,
        merchants=first.merchant[pick],
        anomaly=code,
    )
    starts = np.cumsum(size) - size
    gaps = rng.integers(60, 600, len(rest))
    gaps[starts] = 0
    elapsed = np.cumsum(gaps)
    rest.ts = first.ts[pick] + elapsed - np.repeat(elapsed[starts], size)
    return rest


def _account_takeover(
    world: SpendingWorld, users: np.ndarray, normal: Rows, day_start: int, code: int
) -> Rows:
    low, high = TAKEOVER_DAYS
    days = world.rng.integers(low, high + 1, len(users))
    old = world.ongoing.get("takeover_users", np.zeros(0, np.int64))
    keep = ~np.isin(users, old)
    world.ongoing["takeover_users"] = np.concatenate([old, users[keep]])
    world.ongoing["takeover_step"] = np.concatenate(
        [world.ongoing.get("takeover_step", np.zeros(0, np.int64)), np.zeros(keep.sum(), np.int64)]
    )
    world.ongoing["takeover_days"] = np.concatenate(
        [world.ongoing.get("takeover_days", np.zeros(0, np.int64)), days[keep]]
    )
    return Rows.empty()


def _continue_takeovers(world: SpendingWorld, day_start: int) -> Rows:
    """Today's payments of the takeovers under way (started on an earlier day or today)."""
    users = world.ongoing.get("takeover_users", np.zeros(0, np.int64))
    if not len(users):
        return Rows.empty()
    step, days = world.ongoing["takeover_step"], world.ongoing["takeover_days"]
    rng = world.rng
    pick = np.repeat(np.arange(len(users)), 1 + (rng.random(len(users)) < 0.5))
    who = users[pick]
    cats = _usual_category(world, who)
    merchants = _unknown_merchants(world, who, cats)
    factor = 1.5 * TAKEOVER_GROWTH ** step[pick] * _log_uniform(rng, 0.8, 1.25, len(pick))
    rows = draw_spending(
        world,
        who,
        cats,
        day_start,
        hours=rng.integers(0, 6, len(pick)),
        amount_factor=factor,
        merchants=merchants,
        anomaly=KIND["account_takeover"],
    )
    going = step + 1 < days
    world.ongoing["takeover_users"] = users[going]
    world.ongoing["takeover_step"] = step[going] + 1
    world.ongoing["takeover_days"] = days[going]
    return rows


_EPISODES = {
    "amount_spike": _amount_spike,
    "small_burst": _small_burst,
    "unusual_category": _unusual_category,
    "unusual_hour": _unusual_hour,
    "new_merchant_large": _new_merchant_large,
    "duplicate_charge": _duplicate_charge,
    "near_duplicate": _near_duplicate,
    "ordinary_burst": _ordinary_burst,
    "account_takeover": _account_takeover,
}
