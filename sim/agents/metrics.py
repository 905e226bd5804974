"""Daily population metrics: computed each step, collected by Mesa's DataCollector.

They become the dataset table ``population_daily`` (one row per shard and day), whose
contract is registered here with :func:`monilab.contracts.tables.register_contract`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa

from monilab.contracts.tables import TableContract, register_contract
from sim.agents.agents import AgentState
from sim.agents.money import INCOME, INVESTMENT, SAVINGS
from sim.agents.rows import OUT, Rows

POPULATION_DAILY = TableContract(
    name="population_daily",
    schema=pa.schema(
        [
            pa.field("date", pa.date32(), nullable=False),
            pa.field("shard", pa.int32(), nullable=False),
            pa.field("users", pa.int32(), nullable=False),
            pa.field("active_users", pa.int32(), nullable=False),
            pa.field("transactions", pa.int64(), nullable=False),
            pa.field("spend_out", pa.int64(), nullable=False),
            pa.field("fixed_out", pa.int64(), nullable=False),
            pa.field("income_in", pa.int64(), nullable=False),
            pa.field("savings_out", pa.int64(), nullable=False),
            pa.field("investment_out", pa.int64(), nullable=False),
            pa.field("anomalies", pa.int32(), nullable=False),
            pa.field("mean_balance", pa.float64()),
            pa.field("budget_exhausted_share", pa.float64()),
            pa.field("mean_budget_used", pa.float64()),
            pa.field("mean_impulse", pa.float64()),
            pa.field("goal_progress", pa.float64()),
            pa.field("goals_reached", pa.int32(), nullable=False),
            pa.field("market_index", pa.float64()),
            pa.field("is_rest_day", pa.bool_(), nullable=False),
        ]
    ),
)
"""Contract of the ``population_daily`` table."""

METRICS: tuple[str, ...] = tuple(f.name for f in POPULATION_DAILY.schema)


def register_population_daily() -> None:
    """Make ``population_daily`` a known table for :func:`monilab.contracts.tables.conform`."""
    register_contract(POPULATION_DAILY)


register_population_daily()  # importing the population makes its table known


def _metric(model: Any, name: str) -> Any:
    return model.metrics[name]


def model_reporters() -> dict[str, partial]:
    """DataCollector model reporters, one per metric column."""
    return {name: partial(_metric, name=name) for name in METRICS}


def day_metrics(
    state: AgentState,
    *,
    date: np.datetime64,
    shard: int,
    everyday: Rows,
    fixed: Rows,
    moves: Rows,
    income: Rows,
    refunds: Rows,
    goals_reached: int,
    market_index: float,
    is_rest_day: bool,
) -> dict[str, Any]:
    """One day's metrics of a shard from the day's rows and the state after the day."""
    holders = state.has_goal
    used = state.month_spend / state.budget

    def total(rows: Rows, mask: np.ndarray | None = None) -> int:
        return int(rows.amount[mask].sum()) if mask is not None else int(rows.amount.sum())

    return {
        "date": date.astype("datetime64[D]").item(),
        "shard": shard,
        "users": state.size,
        "active_users": int(np.count_nonzero(np.bincount(everyday.user, minlength=state.size))),
        "transactions": len(everyday) + len(fixed) + len(moves) + len(income) + len(refunds),
        "spend_out": total(everyday, everyday.direction == OUT),
        "fixed_out": total(fixed),
        "income_in": total(income, income.category == INCOME),
        "savings_out": total(moves, moves.category == SAVINGS),
        "investment_out": total(moves, moves.category == INVESTMENT),
        "anomalies": int((everyday.anomaly >= 0).sum()),
        "mean_balance": float(state.balance.mean()),
        "budget_exhausted_share": float((used >= 1).mean()),
        "mean_budget_used": float(used.mean()),
        "mean_impulse": float(state.impulse.mean()),
        "goal_progress": (
            float((state.goal_saved[holders] / state.goal_amount[holders]).mean())
            if holders.any()
            else None
        ),
        "goals_reached": goals_reached,
        "market_index": market_index,
        "is_rest_day": is_rest_day,
    }
