"""Split reference microdata into a fit part and a held-out part.

- Several users: by user. A seeded permutation of the sorted user ids; the first
  ``round(held_out_fraction * n_users)`` (at least one, at most all but one) are held out, so
  no user has rows on both sides.
- One user (e.g. the household ledger): by time. Calendar months are grouped into
  consecutive blocks of ``block_months`` (default 3) from the first month; a seeded choice of
  ``round(held_out_fraction * n_blocks)`` blocks is held out. Interleaved blocks keep seasons
  and years on both sides, so the held-out part measures misfit rather than drift, as
  "the last months held out" would; whole months keep per-user-month statistics intact.

The same seed always gives the same split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from calibration.frames import timestamps
from monilab.contracts.errors import MonilabError

SplitBy = Literal["auto", "user", "time"]


@dataclass(frozen=True)
class ReferenceSplit:
    """Two disjoint parts of a reference.

    Attributes:
        fit: Transactions to calibrate on.
        held_out: Transactions kept for checking.
        by: ``"user"`` or ``"time"``.
        held_out_groups: The held-out user ids, or the held-out months as ``YYYY-MM``.
        fit_users: Users of the fit part (None when no users table was given).
        held_out_users: Users of the held-out part (None when no users table was given).
    """

    fit: pd.DataFrame
    held_out: pd.DataFrame
    by: str
    held_out_groups: tuple[int | str, ...]
    fit_users: pd.DataFrame | None = None
    held_out_users: pd.DataFrame | None = None


def _held_count(n_groups: int, fraction: float) -> int:
    return min(max(1, round(fraction * n_groups)), n_groups - 1)


def split_reference(
    transactions: pd.DataFrame,
    *,
    seed: int | np.random.SeedSequence,
    held_out_fraction: float = 0.3,
    by: SplitBy = "auto",
    block_months: int = 3,
    users: pd.DataFrame | None = None,
) -> ReferenceSplit:
    """Split a reference by user (several users) or by blocks of months (one user).

    Args:
        transactions: Reference transactions (schema frame; ``has_time`` travels along).
        seed: Seed of the split.
        held_out_fraction: Share of users, or of month blocks, held out.
        by: ``"auto"`` picks ``"user"`` with two or more users, else ``"time"``.
        block_months: Months per block for a split by time.
        users: Optional users table, split alongside a split by user.

    Raises:
        MonilabError: Too few users or month blocks to split, or a bad fraction.
    """
    if not 0.0 < held_out_fraction < 1.0:
        raise MonilabError(f"held_out_fraction must be in (0, 1), got {held_out_fraction}")
    rng = np.random.default_rng(seed)
    user_ids = np.unique(transactions["user_id"].to_numpy())
    if by == "auto":
        by = "user" if len(user_ids) > 1 else "time"
    if by == "user":
        if len(user_ids) < 2:
            raise MonilabError("a split by user needs at least two users")
        held = rng.permutation(user_ids)[: _held_count(len(user_ids), held_out_fraction)]
        mask = transactions["user_id"].isin(held).to_numpy()
        groups: tuple[int | str, ...] = tuple(sorted(int(u) for u in held))
    else:
        ts = timestamps(transactions)
        month_index = (ts.dt.year * 12 + ts.dt.month - 1).to_numpy(dtype=int)
        block = (month_index - month_index.min()) // block_months if len(ts) else month_index
        n_blocks = int(block.max()) + 1 if len(block) else 0
        if n_blocks < 2:
            raise MonilabError(f"a split by time needs at least two {block_months}-month blocks")
        held_blocks = rng.choice(n_blocks, _held_count(n_blocks, held_out_fraction), replace=False)
        mask = np.isin(block, held_blocks)
        groups = tuple(sorted(set(ts[mask].dt.strftime("%Y-%m"))))
    fit, held_out = transactions.loc[~mask], transactions.loc[mask]
    fit_users = held_out_users = None
    if users is not None:
        in_held = users["user_id"].isin(held_out["user_id"].unique())
        in_fit = users["user_id"].isin(fit["user_id"].unique())
        fit_users, held_out_users = users.loc[in_fit], users.loc[in_held]
    return ReferenceSplit(fit, held_out, by, groups, fit_users, held_out_users)
