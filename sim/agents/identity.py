"""Who a user is: a dominant persona mixed with a secondary one, and lives that change.

Real people are not one type: a saver has careless days, a YOLO spender a frugal month.
Each user has a dominant persona (``state.persona``) and a secondary one (drawn among the
personas whose age range fits the user, in proportion to their shares), with a mixing
weight drawn per user (Beta, mean ``mixing.secondary_weight``). On any day the user acts
as the secondary persona with that probability (``state.acting``): the day's timing,
ticket sizes, methods, budget discipline and mood follow it, while income, savings and
the categories of the user's life stay the user's own.

Lives change: at the start of a month a user swaps dominant and secondary persona with
probability ``mixing.drift_per_year / 12`` (a raise, a new child, a job loss), taking the
new persona's level of income and saving but keeping its own position around it. The
dataset's ``labels`` table keeps the dominant persona and type of every user-month.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from monilab.contracts.tables import TableContract, register_contract
from sim.agents.sampling import weighted_choice
from sim.agents.tables import PersonaTables

if TYPE_CHECKING:
    from sim.agents.agents import AgentState

MIX_CONCENTRATION = 6.0
"""Beta concentration of the per-user mixing weight (higher: closer to the persona's)."""

LABELS = TableContract(
    name="labels",
    schema=pa.schema(
        [
            pa.field("user_id", pa.int64(), nullable=False),
            pa.field("month", pa.date32(), nullable=False),
            pa.field("persona", pa.string(), nullable=False),
            pa.field("spending_type", pa.string(), nullable=False),
            pa.field("secondary_persona", pa.string(), nullable=False),
            pa.field("secondary_weight", pa.float64(), nullable=False),
        ]
    ),
)
"""Contract of the ``labels`` table: the ground truth of every user-month."""


@dataclass(frozen=True)
class MonthLabels:
    """A shard's dominant and secondary personas and mixing weights in one month."""

    month: np.datetime64
    persona: np.ndarray
    secondary: np.ndarray
    weight: np.ndarray

    @classmethod
    def of(cls, month: np.datetime64, state: AgentState) -> MonthLabels:
        """A snapshot of the state's labels."""
        return cls(month, state.persona.copy(), state.secondary.copy(), state.mix_weight.copy())


def register_labels() -> None:
    """Make ``labels`` a known table for :func:`monilab.contracts.tables.conform`."""
    register_contract(LABELS)


register_labels()


def draw_secondary(
    tables: PersonaTables, persona: np.ndarray, age: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each user's secondary persona and mixing weight."""
    fits = (tables.age_min[None, :] <= age[:, None]) & (age[:, None] <= tables.age_max[None, :])
    weights = tables.share[None, :] * fits
    weights[np.arange(len(persona)), persona] = 0.0
    alone = weights.sum(axis=1) == 0
    weights[alone] = tables.share[None, :]
    weights[alone, persona[alone]] = 0.0 if len(tables.share) > 1 else 1.0
    secondary = weighted_choice(weights, np.arange(len(persona)), rng.random(len(persona)))
    mean = np.clip(tables.secondary_weight[persona], 1e-6, 1 - 1e-6)
    weight = rng.beta(mean * MIX_CONCENTRATION, (1 - mean) * MIX_CONCENTRATION)
    weight = np.where(tables.secondary_weight[persona] > 0, weight, 0.0)
    return secondary.astype(persona.dtype), weight


def choose_acting(state: AgentState, rng: np.random.Generator) -> None:
    """Today's acting persona of every user (the secondary one with its weight)."""
    secondary_day = rng.random(state.size) < state.mix_weight
    state.acting = np.where(secondary_day, state.secondary, state.persona)


def drift(tables: PersonaTables, state: AgentState, rng: np.random.Generator) -> np.ndarray:
    """Swap dominant and secondary persona of the users whose life changes this month.

    Income, budget and saving rates move to the new persona's level, each user keeping its
    own position relative to the persona's median. Returns the changed users.
    """
    chance = tables.drift_per_year[state.persona] / 12.0
    who = np.flatnonzero((rng.random(state.size) < chance) & (state.secondary != state.persona))
    old, new = state.persona[who], state.secondary[who]
    ratio = tables.monthly_median[new] / tables.monthly_median[old]
    state.income[who] *= ratio
    state.budget[who] = tables.budget_share[new] * state.income[who]
    state.reserve[who] *= ratio
    for rate, median in (
        (state.savings_rate, tables.savings_rate),
        (state.invest_rate, tables.investment_rate),
    ):
        position = rate[who] / np.maximum(median[old], 1e-9)
        rate[who] = np.where(median[old] > 0, median[new] * position, median[new])
    state.persona[who], state.secondary[who] = new, old
    return who


def label_table(
    tables: PersonaTables, user_ids: np.ndarray, history: list[MonthLabels]
) -> pa.Table:
    """The ``labels`` rows of a shard from its monthly snapshots."""
    if not history:
        return LABELS.schema.empty_table()
    names = np.asarray(tables.names, dtype=object)
    types = np.asarray(tables.spending_types, dtype=object)
    persona = np.concatenate([h.persona for h in history])
    months = np.array([h.month for h in history], dtype="datetime64[D]")
    return pa.table(
        {
            "user_id": pa.array(np.tile(user_ids, len(history))),
            "month": pa.array(np.repeat(months, len(user_ids))),
            "persona": pa.array(names[persona], type=pa.string()),
            "spending_type": pa.array(types[persona], type=pa.string()),
            "secondary_persona": pa.array(
                names[np.concatenate([h.secondary for h in history])], type=pa.string()
            ),
            "secondary_weight": pa.array(np.concatenate([h.weight for h in history])),
        }
    )
