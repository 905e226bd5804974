"""Rule baselines for the anomaly models: a few lines each, scored on the same transactions.

Every rule turns :func:`analysis.anomaly.transaction_features` (past only) into a score,
higher = more suspicious; a rule's flag comes first and the amount breaks ties (``flag × 100
+ amount term``), so ranking by the score is "the rule's alerts, biggest first".

- ``iqr``: the seed's rule (the user-day-category sum over ``Q3 + 1.5·IQR`` of the earlier
  days), each transaction taking its cell's score;
- ``median_k``: the amount over the user's past median (log ratio; any ``k`` gives the same
  ranking, :data:`MEDIAN_K` is the alert line);
- ``repeat``: the same merchant again within :data:`REPEAT_MINUTES` minutes, ties by amount;
- ``new_merchant``: a merchant the user has never paid before, ties by amount over median;
- ``night``: a payment at 0-5 h, ties by amount over median;
- ``takeover``: new merchants and night payments of the last three days, ties by amount.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MEDIAN_K = 3.0
"""The ``median_k`` rule alerts on amounts over ``k ×`` the user's past median."""
REPEAT_MINUTES = 10
RULES: tuple[str, ...] = ("iqr", "median_k", "repeat", "new_merchant", "night", "takeover")


def rule_scores(feats: pd.DataFrame, iqr: np.ndarray | None = None) -> pd.DataFrame:
    """Every rule's score per row of a transaction-features frame.

    Args:
        feats: :func:`analysis.anomaly.transaction_features` output.
        iqr: Each transaction's IQR cell score (``-inf`` where the rule has no history);
            without it the ``iqr`` column is left out.
    """
    over = feats["amount_vs_user"].to_numpy()
    repeat = feats["repeat_gap"].to_numpy() <= np.log1p(REPEAT_MINUTES * 60)
    out = pd.DataFrame(index=feats.index)
    if iqr is not None:
        out["iqr"] = iqr
    out["median_k"] = over
    out["repeat"] = repeat * 100.0 + feats["log_amount"].to_numpy()
    novel = feats["merchant_novelty"].to_numpy() == 0
    out["new_merchant"] = novel * 100.0 + over
    out["night"] = feats["night"].to_numpy() * 100.0 + over
    recent = feats["recent_novel"].to_numpy() + feats["recent_night"].to_numpy()
    out["takeover"] = recent * 10.0 + over
    return out


def median_k_alerts(feats: pd.DataFrame, k: float = MEDIAN_K) -> np.ndarray:
    """The ``median_k`` rule as an alert: amount over ``k ×`` the user's past median."""
    return feats["amount_vs_user"].to_numpy() > np.log(k)
