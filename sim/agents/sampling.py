"""Vectorised sampling helpers shared by the population's hot path."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def make_cdf(weights: np.ndarray) -> np.ndarray:
    """Row-wise cumulative distribution of non-negative weights along the last axis.

    The entry of the last positive weight (and every zero-weight entry after it) is exactly
    1.0, so :func:`grouped_choice` never returns a zero-weight index. Rows of zeros give
    all-ones (index 0); callers must not sample from them.
    """
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum(axis=-1, keepdims=True)
    cdf = np.cumsum(w, axis=-1) / np.where(total > 0, total, 1.0)
    tail = np.cumsum(w[..., ::-1], axis=-1)[..., ::-1]
    cdf[tail == w] = 1.0
    return cdf


@dataclass(frozen=True)
class Categorical:
    """Grouped categorical distributions prepared for fast repeated vectorised draws.

    Uses guide tables (Chen's method): ``guide[g, j]`` is the first outcome whose
    cumulative probability exceeds ``j / M``; a draw starts there and steps forward while
    the CDF is still <= u (rarely more than one step). Exact inverse-CDF sampling, but
    with a few local gathers instead of a binary search per row.

    Attributes:
        cdf: ``(G, K)`` cumulative distributions, raveled.
        guide: ``(G, M)`` starting outcomes, raveled.
        width: ``K``, the number of outcomes per group.
        buckets: ``M``, guide entries per group.
    """

    cdf: np.ndarray
    guide: np.ndarray
    width: int
    buckets: int

    @classmethod
    def of(cls, cdf: np.ndarray) -> Categorical:
        """Prepare ``(G, K)`` cumulative distributions (see :func:`make_cdf`)."""
        width = cdf.shape[1]
        buckets = max(64, 4 * width)
        levels = np.arange(buckets) / buckets
        guide = (cdf[:, None, :] <= levels[None, :, None]).sum(axis=2)
        return cls(cdf.ravel(), np.minimum(guide, width - 1).ravel(), width, buckets)

    def draw(self, group: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One outcome in ``[0, K)`` per row from its group's distribution (int64)."""
        group = np.asarray(group, dtype=np.int64)
        bucket = np.minimum((u * self.buckets).astype(np.int64), self.buckets - 1)
        outcome = self.guide[group * self.buckets + bucket].astype(np.int64)
        base = group * self.width
        while True:
            step = self.cdf[base + outcome] <= u
            if not step.any():
                return outcome
            outcome += step


def grouped_choice(cdf: np.ndarray, group: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Draw one index per row from the distribution of its group, in a single search.

    Args:
        cdf: ``(G, K)`` cumulative distributions (see :func:`make_cdf`).
        group: Row's distribution index into the first axis of ``cdf``.
        u: Uniform draws in [0, 1), one per row.

    Returns:
        Indices in ``[0, K)`` as int64.
    """
    groups, width = cdf.shape
    flat = (cdf + np.arange(groups)[:, None]).ravel()
    offset = np.asarray(group, dtype=np.int64)
    return np.searchsorted(flat, u + offset, side="right") - offset * width


def weighted_choice(weights: np.ndarray, group: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per row, an index drawn in proportion to its group's row of non-negative weights.

    Cheaper than :func:`make_cdf` + :func:`grouped_choice` for weights that change every
    call (no normalisation): the groups' cumulative weights are laid end to end with a gap
    of 1 so one search serves all rows. Rows must belong to groups with a positive sum.
    """
    width = weights.shape[1]
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1]
    base = np.concatenate([[0.0], np.cumsum(total + 1.0)[:-1]])
    flat = (cum + base[:, None]).ravel()
    offset = np.asarray(group, dtype=np.int64)
    found = np.searchsorted(flat, base[offset] + u * total[offset], side="right")
    return np.minimum(found - offset * width, width - 1)


def round_to(amount: np.ndarray, unit: int) -> np.ndarray:
    """Round KRW amounts to a unit (100 for card spending), at least one unit, as int64."""
    return np.maximum(unit, np.rint(amount / unit) * unit).astype(np.int64)


def time_of_day(hour: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Seconds after midnight: the given hour plus a uniform minute and second."""
    return hour.astype(np.int64) * 3600 + rng.integers(0, 3600, size=len(hour))
