"""Vectorised sampling helpers shared by the population's hot path."""

from __future__ import annotations

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


def grouped_choice(cdf: np.ndarray, group: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Draw one index per row from the distribution of its group, in a single search.

    Args:
        cdf: ``(G, K)`` cumulative distributions (see :func:`make_cdf`).
        group: Row's distribution index into the first axis of ``cdf``.
        u: Uniform draws in [0, 1), one per row.

    Returns:
        Indices in ``[0, K)`` as int64.
    """
    groups, k = cdf.shape
    flat = (cdf + np.arange(groups)[:, None]).ravel()
    offset = np.asarray(group, dtype=np.int64)
    return np.searchsorted(flat, u + offset, side="right") - offset * k


def round_to(amount: np.ndarray, unit: int) -> np.ndarray:
    """Round KRW amounts to a unit (100 for card spending), at least one unit, as int64."""
    return np.maximum(unit, np.rint(amount / unit) * unit).astype(np.int64)


def time_of_day(hour: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Seconds after midnight: the given hour plus a uniform minute and second."""
    return hour.astype(np.int64) * 3600 + rng.integers(0, 3600, size=len(hour))
