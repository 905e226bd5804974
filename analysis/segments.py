"""A segment view after seed 003: which categories a segment uses most, and what goes together.

Segments are region × gender × age band (10 years). *Use* of a category is the number of
days per month a user spends in it (the seed's "days of use per service"). For each segment
and category:

- ``use``: the segment's mean use;
- ``z``: the z-score of ``use`` across segments (per category, as the seed's StandardScaler);
- ``weight``: the segment's use in the last complete month over its mean monthly use (the
  seed's month / average weight: above 1 when the category is rising);
- ``weighted_z = z * weight``, ranked within the segment (1 = the most characteristic).

Co-used categories: within each segment, the Pearson correlation across its users' monthly
use of two categories; each category keeps its most correlated partners.

Segments with fewer than ``min_users`` users are left out (their z-scores would be noise).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.features import CONSUMPTION, check_transactions, spendings

SEGMENT = ["region", "gender", "age_band"]


def age_band(age: pd.Series) -> pd.Series:
    """``20-29``, ``30-39``, … (unknown ages stay null)."""
    low = (age.astype("Float64") // 10 * 10).astype("Int64")
    return low.astype(str).where(low.notna()) + "-" + (low + 9).astype(str).where(low.notna())


def monthly_use(tx: pd.DataFrame) -> pd.DataFrame:
    """Days with spend per user, month and consumption category (``use``, 0 when none)."""
    spend = spendings(check_transactions(tx))
    days = (
        spend.assign(month=spend["ts"].dt.to_period("M"), day=spend["ts"].dt.normalize())
        .groupby(["user_id", "month", "category"], observed=True)["day"]
        .nunique()
        .unstack("category", fill_value=0)
        .reindex(columns=list(CONSUMPTION), fill_value=0)
    )
    return days.astype(float)


def _last_complete_month(tx: pd.DataFrame) -> pd.Period:
    end = pd.to_datetime(tx["ts"]).max()
    month = end.to_period("M")
    return month if end.normalize() >= month.end_time.normalize() else month - 1


def segment_view(
    users: pd.DataFrame, tx: pd.DataFrame, *, min_users: int = 5, partners: int = 2
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Category ranking and co-used categories per segment (see the module docstring).

    Returns:
        ``ranking``: region, gender, age_band, users, category, use, z, weight, weighted_z,
        rank. ``co_use``: region, gender, age_band, category, partner, correlation.
    """
    use = monthly_use(tx)
    people = users.set_index("user_id")[["region", "gender", "age"]].copy()
    people["age_band"] = age_band(people["age"])
    people = people.dropna(subset=SEGMENT)
    use = use[use.index.get_level_values("user_id").isin(people.index)]
    per_user = use.groupby("user_id").mean()
    last = use.xs(_last_complete_month(tx), level="month", drop_level=True)
    last = last.reindex(per_user.index, fill_value=0.0)
    keys = people.loc[per_user.index, SEGMENT]
    size = keys.value_counts().rename("users")
    big = size[size >= min_users].index
    grouped_keys = [keys[c] for c in SEGMENT]
    mean = per_user.groupby(grouped_keys).mean().loc[big]
    recent = last.groupby(grouped_keys).mean().loc[big]
    z = (mean - mean.mean()) / mean.std(ddof=0).replace(0, np.nan)
    weight = (recent / mean.replace(0, np.nan)).fillna(0.0)
    long = lambda frame, name: frame.stack().rename(name)  # noqa: E731
    ranking = pd.concat(
        [long(mean, "use"), long(z.fillna(0.0), "z"), long(weight, "weight")], axis=1
    ).reset_index()
    ranking = ranking.rename(columns={ranking.columns[3]: "category"})
    ranking["weighted_z"] = ranking["z"] * ranking["weight"]
    ranking = ranking.merge(size.reset_index(), on=SEGMENT)
    ranking["rank"] = (
        ranking.groupby(SEGMENT)["weighted_z"].rank(ascending=False, method="first").astype(int)
    )
    ranking = ranking.sort_values([*SEGMENT, "rank"]).reset_index(drop=True)
    ranking = ranking[[*SEGMENT, "users", "category", "use", "z", "weight", "weighted_z", "rank"]]

    rows = []
    monthly = use.join(keys, on="user_id")
    for segment, group in monthly.groupby(SEGMENT):
        if segment not in big:
            continue
        corr = group[list(CONSUMPTION)].corr()
        for category in CONSUMPTION:
            best = corr[category].drop(category).dropna().sort_values(ascending=False)
            for partner, r in best.head(partners).items():
                rows.append((*segment, category, partner, float(r)))
    co_use = pd.DataFrame(rows, columns=[*SEGMENT, "category", "partner", "correlation"])
    return ranking, co_use


def summary(ranking: pd.DataFrame, co_use: pd.DataFrame, top: int = 3) -> dict[str, Any]:
    """Counts and the top categories of the largest segments, for ``metrics.json``."""
    segments = ranking.drop_duplicates(SEGMENT).sort_values("users", ascending=False)
    out: dict[str, Any] = {
        "segments": len(segments),
        "users_covered": int(segments["users"].sum()),
        "largest": [],
    }
    for _, seg in segments.head(5).iterrows():
        mask = (ranking[SEGMENT] == seg[SEGMENT].to_numpy()).all(axis=1)
        cats = ranking[mask].nsmallest(top, "rank")
        first = cats["category"].iloc[0]
        partner_mask = (co_use[SEGMENT] == seg[SEGMENT].to_numpy()).all(axis=1) & (
            co_use["category"] == first
        )
        out["largest"].append(
            {
                "segment": " / ".join(str(seg[c]) for c in SEGMENT),
                "users": int(seg["users"]),
                "top_categories": cats["category"].tolist(),
                "co_used_with_top": co_use[partner_mask]["partner"].tolist(),
            }
        )
    return out
