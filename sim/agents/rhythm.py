"""When people spend: bursty, overdispersed days, quiet spells and months that differ.

Human activity is not a Poisson process: counts per day are overdispersed, gaps between
purchases are bursty (coefficient of variation above 1; Barabási, Nature 2005; Goh &
Barabási, EPL 2008), and there are spells of little or no spending (trips, busy weeks,
illness). A user's expected payments on a day are its base rate times an *intensity*:

- a gamma draw of mean 1 and shape ``day_shape`` (the day's counts are then negative
  binomial, var/mean ``1 + rate / day_shape``);
- self-excitation: yesterday's purchases raise today's intensity, a discrete-time
  Hawkes process: ``excite = burst_decay · excite + burst_jump · count / expected``;
  the intensity is scaled by ``1 / (1 + b)`` with ``b = burst_jump / (1 - burst_decay)``
  so that its stationary mean stays 1 (``E = (1 + b E) / (1 + b)``);
- quiet spells: ``quiet_spells_per_year`` of them start at random, lasting a lognormal
  number of days (median ``quiet_days``), during which the intensity is ``quiet_level``;
- a level for each user-month (lognormal, log-sd ``month_sigma``, mean 1).

Within a day, ``trip_share`` of the payments belong to the previous payment's outing:
they follow it within minutes (:func:`cluster_outings`).
"""

from __future__ import annotations

import numpy as np

from sim.agents.agents import AgentState
from sim.agents.tables import PersonaTables

QUIET_SIGMA = 0.7
"""Log-sd of quiet-spell lengths around their median."""
OUTING_GAP_S = 600.0
"""Mean gap (s) between two payments of one outing."""
DAY_S = 86_400


MAX_RELATIVE_DAY = 10.0
"""A day counts at most as ten ordinary days in the excitation: a user whose ordinary day
is nearly empty (a spent budget, a quiet spell) and who still pays once would otherwise
excite the next days a billionfold (seen in calibration at extreme parameters: 51 M
payments in one simulated day)."""


def new_month(tables: PersonaTables, state: AgentState, rng: np.random.Generator) -> None:
    """Draw every user's level for the month that starts today."""
    sigma = tables.month_sigma[state.persona]
    state.month_level = np.exp(sigma * rng.standard_normal(state.size) - sigma**2 / 2)


def start_quiet_spells(
    tables: PersonaTables, state: AgentState, rng: np.random.Generator, extra: np.ndarray
) -> None:
    """Start quiet spells at random (and for the ``extra`` users, e.g. leaving on a trip)."""
    p = state.persona
    starting = (rng.random(state.size) < tables.quiet_spells_per_year[p] / 365.0) | extra
    starting &= state.quiet_left == 0
    who = np.flatnonzero(starting)
    length = tables.quiet_days[p[who]] * np.exp(QUIET_SIGMA * rng.standard_normal(len(who)))
    state.quiet_left[who] = np.maximum(1, np.rint(length)).astype(state.quiet_left.dtype)


def intensity(tables: PersonaTables, state: AgentState, rng: np.random.Generator) -> np.ndarray:
    """Today's activity multiplier of every user (mean about 1 outside quiet spells)."""
    p = state.persona
    shape = tables.day_shape[p]
    jump, decay = tables.burst_jump[p], tables.burst_decay[p]
    gamma = rng.gamma(shape, 1.0 / shape)
    quiet = np.where(state.quiet_left > 0, tables.quiet_level[p], 1.0)
    state.quiet_left = np.maximum(state.quiet_left - 1, 0)
    scale = 1.0 / (1.0 + jump / (1.0 - decay))
    return gamma * scale * (1.0 + state.excite) * state.month_level * quiet


def record_day(
    tables: PersonaTables, state: AgentState, counts: np.ndarray, expected: np.ndarray
) -> None:
    """Let today's purchase counts excite the coming days.

    ``expected`` is each user's expected count today without the intensity, so the
    excitation counts purchases relative to what the user's day would bring.
    """
    p = state.persona
    relative = np.minimum(counts / np.maximum(expected, 1e-9), MAX_RELATIVE_DAY)
    state.excite = tables.burst_decay[p] * state.excite + tables.burst_jump[p] * relative


def cluster_outings(
    users: np.ndarray,
    seconds: np.ndarray,
    follow: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Seconds after midnight with outings: followers join the previous payment's outing.

    Args:
        users: User of each payment (any order).
        seconds: Drawn time of day of each payment.
        follow: Payments that join the outing of the user's previous payment (by time);
            a user's first payment of the day always starts an outing.
        rng: Generator for the gaps within outings.

    Returns:
        New seconds after midnight, in the input order, within the day.
    """
    n = len(users)
    if n == 0:
        return seconds
    order = np.argsort(users.astype(np.int64) * DAY_S + seconds)  # by user, then time
    u, sec, joins = users[order], seconds[order], follow[order].copy()
    joins[0] = False
    joins[1:] &= u[1:] == u[:-1]
    outing = np.cumsum(~joins) - 1
    starts = np.flatnonzero(~joins)
    gaps = np.where(joins, 30 + rng.exponential(OUTING_GAP_S, n), 0.0)
    elapsed = np.cumsum(gaps)
    offset = elapsed - elapsed[starts][outing]
    new = np.minimum(sec[starts][outing] + offset.astype(np.int64), DAY_S - 1)
    out = np.empty_like(seconds)
    out[order] = new
    return out
