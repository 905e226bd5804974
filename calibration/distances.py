"""Two-sample distances the metric battery is built from (NaN when a sample is empty)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp, wasserstein_distance

__all__ = ["js_distance", "ks_complement", "tv_complement", "wasserstein_sd"]


def ks_complement(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """KS statistic and ``1 - KS`` of two samples (NaN when either is empty)."""
    if not len(a) or not len(b):
        return float("nan"), float("nan")
    ks = float(ks_2samp(a, b).statistic)
    return ks, 1.0 - ks


def tv_complement(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    """Total variation distance of two label samples and ``1 - TV`` (NaN when empty)."""
    if not len(a) or not len(b):
        return float("nan"), float("nan")
    p = a.value_counts(normalize=True)
    q = b.value_counts(normalize=True)
    p, q = p.align(q, fill_value=0.0)
    tv = 0.5 * float(np.abs(p - q).sum())
    return tv, 1.0 - tv


def wasserstein_sd(reference: np.ndarray, other: np.ndarray) -> float:
    """Wasserstein-1 distance in standard deviations of the reference sample."""
    if len(reference) < 2 or not len(other):
        return float("nan")
    spread = float(np.std(reference))
    if spread == 0:
        return float("nan")
    return float(wasserstein_distance(reference, other)) / spread


def js_distance(a: np.ndarray, b: np.ndarray, bins: int) -> float:
    """Jensen-Shannon distance (base 2) between the histograms of two integer samples."""
    if not len(a) or not len(b):
        return float("nan")
    p = np.bincount(a, minlength=bins)
    q = np.bincount(b, minlength=bins)
    return float(jensenshannon(p, q, base=2))
