"""A stock-market index for the investors: GARCH(1,1) daily returns on business days."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MarketSpec:
    """GARCH(1,1) parameters of the index's daily log return (KOSPI-like defaults).

    ``r_t = mu + e_t``, ``e_t = s_t z_t`` with Student-t ``z_t`` (unit variance) and
    ``s_t^2 = omega + alpha e_{t-1}^2 + beta s_{t-1}^2``. No trading on rest days.
    """

    mu: float = 0.0003
    omega: float = 2.0e-6
    alpha: float = 0.08
    beta: float = 0.90
    dof: float = 5.0
    start_level: float = 2500.0
    momentum_days: int = 20


@dataclass(frozen=True)
class MarketPath:
    """A simulated index path, one value per simulated day.

    Attributes:
        returns: Daily log return (0 on rest days).
        level: Index level at each day's close.
        momentum: Log return over the last ``momentum_days`` days (investors chase it).
        volatility: Conditional daily volatility.
    """

    returns: np.ndarray
    level: np.ndarray
    momentum: np.ndarray
    volatility: np.ndarray


def simulate_market(
    rest_day: np.ndarray, rng: np.random.Generator, spec: MarketSpec | None = None
) -> MarketPath:
    """Draw one index path over the simulated days.

    Args:
        rest_day: Boolean per day, True when the exchange is closed.
        rng: The environment's generator (the same path for every shard).
        spec: GARCH parameters; defaults to :class:`MarketSpec`.
    """
    spec = spec or MarketSpec()
    days = len(rest_day)
    z = rng.standard_t(spec.dof, size=days) * np.sqrt((spec.dof - 2) / spec.dof)
    var = spec.omega / max(1e-12, 1 - spec.alpha - spec.beta)
    returns = np.zeros(days)
    vol = np.zeros(days)
    shock = 0.0
    for t in range(days):
        vol[t] = np.sqrt(var)
        if rest_day[t]:
            continue
        shock = vol[t] * z[t]
        returns[t] = spec.mu + shock
        var = spec.omega + spec.alpha * shock**2 + spec.beta * var
    level = spec.start_level * np.exp(np.cumsum(returns))
    cum = np.concatenate([[0.0], np.cumsum(returns)])
    lag = np.maximum(np.arange(1, days + 1) - spec.momentum_days, 0)
    momentum = cum[1:] - cum[lag]
    return MarketPath(returns=returns, level=level, momentum=momentum, volatility=vol)
