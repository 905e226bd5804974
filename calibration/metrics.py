"""Discrepancy between aggregate targets and synthetic data, and its loss.

The loss, per group of targets sharing one statistic and filter:

- share statistics: total variation ``TV = 1/2 * sum_k |sim_k - target_k|`` over the listed
  keys, target shares renormalised to sum to 1 (published figures are rounded). In [0, 1].
  A group with no matching synthetic rows scores 1, the worst.
- scalar statistics (tickets, per user-month): the weighted mean over the group's keys of
  ``min(|ln(sim / target)|, LOG_RATIO_CAP)``: 0 when equal, ~0.1 for 10 % off, ln 2 for a
  factor of two either way. Undefined or non-positive simulated values score the cap.

The overall loss is the weighted mean of group losses; a group's weight is the mean
``weight`` of its rows (default 1), so a six-key share group counts as much as one scalar.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from calibration.statistics import compute_statistic
from calibration.targets.vocabulary import is_share

__all__ = ["LOG_RATIO_CAP", "compute_statistic", "discrepancy_loss", "target_discrepancy"]

LOG_RATIO_CAP = math.log(20.0)
"""Largest per-key loss of a scalar statistic (a factor of 20 off, or undefined)."""

DISCREPANCY_COLUMNS: tuple[str, ...] = (
    "statistic",
    "filter",
    "key",
    "target",
    "simulated",
    "error",
    "row_loss",
    "group_loss",
    "group_weight",
    "weight",
    "line",
)


def target_discrepancy(
    targets: pd.DataFrame, transactions: pd.DataFrame, users: pd.DataFrame | None
) -> pd.DataFrame:
    """Compare every target with the same statistic computed on synthetic data.

    Args:
        targets: A target set from :func:`calibration.targets.load_targets`.
        transactions: Synthetic transactions (schema frame, optional ``has_time``).
        users: Synthetic users; needed when a target is by or filtered on age or gender.

    Returns:
        One row per target (columns :data:`DISCREPANCY_COLUMNS`): ``error`` is
        ``simulated - target``; ``row_loss`` is the row's part of its group's loss (for shares
        the rows of a group sum to its TV). The overall loss is in ``attrs["loss"]`` and
        :func:`discrepancy_loss` recomputes it from the frame.
    """
    parts = []
    for (statistic_key, filter_key), group in targets.groupby(["statistic", "filter"], sort=False):
        statistic, row_filter = str(statistic_key), str(filter_key)  # text columns
        keys = group["key"].tolist()
        simulated = compute_statistic(transactions, users, statistic, row_filter, keys)
        part = pd.DataFrame(
            {
                "statistic": statistic,
                "filter": row_filter,
                "key": keys,
                "target": group["value"].to_numpy(dtype=float),
                "simulated": simulated.to_numpy(dtype=float),
                "weight": group["weight"].to_numpy(dtype=float),
                "line": group["line"].to_numpy(),
            }
        )
        part["error"] = part["simulated"] - part["target"]
        part["row_loss"] = _row_losses(statistic, part)
        weights = part["weight"].to_numpy()
        if is_share(statistic):
            group_loss = float(part["row_loss"].sum())
        else:
            group_loss = float(np.average(part["row_loss"], weights=_nonzero(weights)))
        part["group_loss"] = group_loss
        part["group_weight"] = float(weights.mean())
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)[list(DISCREPANCY_COLUMNS)]
    frame.attrs["loss"] = discrepancy_loss(frame)
    return frame


def discrepancy_loss(discrepancy: pd.DataFrame) -> float:
    """Weighted mean of the group losses of a :func:`target_discrepancy` frame."""
    groups = discrepancy.drop_duplicates(["statistic", "filter"])
    weights = groups["group_weight"].to_numpy(dtype=float)
    if weights.sum() <= 0:
        return float("nan")
    return float(np.average(groups["group_loss"].to_numpy(dtype=float), weights=weights))


def _row_losses(statistic: str, part: pd.DataFrame) -> np.ndarray:
    simulated = part["simulated"].to_numpy()
    target = part["target"].to_numpy()
    if is_share(statistic):
        if np.isnan(simulated).any():
            return np.full(len(part), 1.0 / len(part))  # an undefined group is TV 1
        return 0.5 * np.abs(simulated - target / target.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(np.log(simulated / target))
    return np.where(np.isfinite(ratio), np.minimum(ratio, LOG_RATIO_CAP), LOG_RATIO_CAP)


def _nonzero(weights: np.ndarray) -> np.ndarray:
    """Row weights for averaging within a group; all-zero weights count equally."""
    return weights if weights.sum() > 0 else np.ones_like(weights)
