"""Irregular big purchases that make one month unlike the next, and refunds.

A few times a year (``occasions_per_year``) a user pays for something far above the
everyday ticket: a trip (flights, a hotel), electronics or furniture, a repair, a gift or
경조사비. The amount is a share of the user's monthly income (median
``occasion_income_share``, lognormal), the category one of those the user actually buys
(a trip only for users who travel). A trip is followed by a quiet spell at home
(:func:`sim.agents.rhythm.start_quiet_spells`). These payments are normal, not anomalies:
a detector has to tell a planned big purchase from an unusual one.

Refunds (``refunds_per_month``): a returned order or a cancelled booking comes back as an
incoming card row in the category and at the kind of merchant it was paid to.
"""

from __future__ import annotations

import numpy as np

from sim.agents.money import DAYS_PER_MONTH
from sim.agents.personas import SPEND_CATEGORIES
from sim.agents.rows import IN, Rows
from sim.agents.sampling import weighted_choice
from sim.agents.spending import SpendingWorld, draw_spending

OCCASION_WEIGHTS: dict[str, float] = {"travel": 0.15, "shopping": 0.3, "living": 0.25, "etc": 0.3}
"""Relative frequency of each kind of occasion (among the categories a user buys)."""
OCCASION_SIGMA = 0.8
"""Log-sd of occasion amounts around their median."""
_COLUMNS = np.array([SPEND_CATEGORIES.index(c) for c in OCCASION_WEIGHTS])
_WEIGHTS = np.array(list(OCCASION_WEIGHTS.values()))
_TRAVEL = SPEND_CATEGORIES.index("travel")
_FALLBACK = list(OCCASION_WEIGHTS).index("shopping")


def occasion_rows(world: SpendingWorld, day_start: int) -> tuple[Rows, np.ndarray]:
    """Today's big purchases, and which users left on a trip (a boolean mask)."""
    t, s, rng = world.tables, world.state, world.rng
    p = s.persona
    who = np.flatnonzero(rng.random(s.size) < t.occasions_per_year[p] / 365.0)
    cats = _category_in_life(world, who, _COLUMNS, _WEIGHTS, _FALLBACK)
    median = s.income[who] * t.occasion_income_share[p[who]]
    amounts = median * np.exp(OCCASION_SIGMA * rng.standard_normal(len(who)))
    rows = draw_spending(world, who, cats, day_start, amounts=amounts)
    travellers = np.zeros(s.size, dtype=bool)
    travellers[who[cats == _TRAVEL]] = True
    return rows, travellers


def _category_in_life(
    world: SpendingWorld, who: np.ndarray, columns: np.ndarray, weights: np.ndarray, fallback: int
) -> np.ndarray:
    """Per user, one of ``columns`` (by ``weights``) among the categories the user buys;
    ``columns[fallback]`` for a user who buys none of them."""
    mine = weights[None, :] * (world.state.cat_mix[who][:, columns] > 0)
    mine[mine.sum(axis=1) == 0, fallback] = 1.0
    return columns[weighted_choice(mine, np.arange(len(who)), world.rng.random(len(who)))]


REFUND_WEIGHTS: dict[str, float] = {
    "shopping": 0.7,
    "travel": 0.1,
    "entertainment": 0.1,
    "etc": 0.1,
}
"""What gets refunded (among the categories a user buys)."""
_REFUND_COLUMNS = np.array([SPEND_CATEGORIES.index(c) for c in REFUND_WEIGHTS])
_REFUND_WEIGHTS = np.array(list(REFUND_WEIGHTS.values()))


def refund_rows(world: SpendingWorld, day_start: int) -> Rows:
    """Today's refunds: incoming card rows that undo (part of) a purchase."""
    t, s, rng = world.tables, world.state, world.rng
    chance = t.refunds_per_month[s.persona] / DAYS_PER_MONTH
    who = np.flatnonzero(rng.random(s.size) < chance)
    cats = _category_in_life(world, who, _REFUND_COLUMNS, _REFUND_WEIGHTS, 0)
    rows = draw_spending(world, who, cats, day_start)
    rows.direction[:] = IN
    return rows
