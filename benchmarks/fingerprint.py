"""Persona fingerprint: does a depth-3 tree on three per-user features name the spending type?

Generates a population (default 3,000 users × 240 days, seed 11, 2 workers; or reads
``--data DIR``), computes about 57 per-user features from the transactions and users tables
(never the persona, style or name columns): income, savings and investment rates, spend
levels and tickets, the share of every category (amount and count), weekday and hour
profile, merchants, methods, auto-debits, month-to-month variation, payday timing,
inactive spells and demographics (:func:`user_features`).

Then it scores ``DecisionTreeClassifier(max_depth=3, random_state=0)`` on feature sets by
macro-F1 with 5-fold stratified cross-validation over users, target ``spending_type``:
every single feature, every pair, and triples (every triple among the ``--top`` features
ranked by their best pair, plus every extension of the ``--extend`` best pairs by a third
feature; ``--top`` at the feature count makes it exhaustive). The best triple that shares
no feature with the best pair is printed too: the signal left when the leading pair blurs.
A real population's types overlap; a best triple at macro-F1 >= 0.90 means the type is
written in a few numbers (a fingerprint), not spread across behaviour.

Prints the best single feature, pair and triple with macro-F1 and a 95 % t-interval over
the folds, the best triple's tree, then one JSON line. Usage::

    .venv/bin/python benchmarks/fingerprint.py                  # 3,000 users × 240 days
    .venv/bin/python benchmarks/fingerprint.py --users 300 --days 60
    .venv/bin/python benchmarks/fingerprint.py --data out/pop --top 57   # every triple
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from joblib import Parallel, delayed  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.tree import DecisionTreeClassifier, export_text  # noqa: E402

from calibration.adapters.mapping import USER_FIELDS  # noqa: E402
from monilab.contracts.datasets import read_dataset  # noqa: E402
from monilab.contracts.vocabulary import CATEGORIES  # noqa: E402

THRESHOLD = 0.90
"""Macro-F1 at or above which a triple counts as a persona fingerprint."""
MOVES = ("savings", "investment")
"""Outgoing categories that move money rather than spend it."""
SHARE_CATEGORIES = tuple(c for c in CATEGORIES if c not in (*MOVES, "income"))
HOUR_BANDS = {"night": (22, 5), "morning": (5, 11), "midday": (11, 14), "afternoon": (14, 18)}
HOUR_BANDS["evening"] = (18, 22)
DAYS_PER_MONTH = 30.4375
T_975 = {3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
"""Two-sided 95 % Student t quantiles by degrees of freedom (folds - 1)."""
TXN_COLUMNS = ["user_id", "ts", "method", "amount", "merchant", "category", "direction"]
USER_COLUMNS = ["user_id", *(f for f in USER_FIELDS if f != "signup_at")]
"""The users table's label and demographics (never the persona, style or name columns)."""


# --------------------------------------------------------------------------- features


def user_features(transactions: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """Per-user features from the transactions and users tables, one row per user.

    Args:
        transactions: Transactions in the schema (``user_id``, ``ts``, ``method``,
            ``amount``, ``merchant``, ``category``, ``direction``).
        users: Users in the schema (``user_id``, ``age``, ``gender``, ``occupation``,
            ``region``, ``monthly_income``); persona and type columns are not read.

    Returns:
        A float frame indexed by ``user_id`` (the users' order); an undefined ratio (no
        income, no spending) is -1.
    """
    t = transactions.assign(ts=pd.to_datetime(transactions["ts"]))
    first, last = t["ts"].min().normalize(), t["ts"].max().normalize()
    days = (last - first).days + 1
    index = pd.Index(users["user_id"], name="user_id")
    income = t[t["direction"] == "in"]
    out = t[t["direction"] == "out"]
    spend = out[~out["category"].isin(MOVES)]
    parts = [
        _income_features(income, out, index, days),
        _spend_features(spend, index, days),
        _category_features(spend, index),
        _time_features(spend, index),
        _method_features(out, index, days),
        _rhythm_features(spend, income, index, first, last),
        _demographics(users, index),
    ]
    return pd.concat(parts, axis=1).astype(float).fillna(-1.0)


def _sum(frame: pd.DataFrame, index: pd.Index) -> pd.Series:
    return frame.groupby("user_id")["amount"].sum().reindex(index, fill_value=0).astype(float)


def _count(frame: pd.DataFrame, index: pd.Index) -> pd.Series:
    return frame.groupby("user_id").size().reindex(index, fill_value=0).astype(float)


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is 0."""
    return numerator / denominator.where(denominator > 0)


def _main_source(income: pd.DataFrame) -> pd.DataFrame:
    """Per user: the income merchant with the largest total, and that total."""
    totals = income.groupby(["user_id", "merchant"], observed=True)["amount"].sum()
    totals = totals.reset_index().sort_values(
        ["user_id", "amount"], ascending=[True, False], kind="stable"
    )
    return totals.drop_duplicates("user_id").set_index("user_id")


def _income_features(
    income: pd.DataFrame, out: pd.DataFrame, index: pd.Index, days: int
) -> pd.DataFrame:
    months = days / DAYS_PER_MONTH
    total = _sum(income, index)
    main = _main_source(income)["amount"].reindex(index, fill_value=0)
    return pd.DataFrame(
        {
            "income_monthly": total / months,
            "income_rows_per_month": _count(income, index) / months,
            "side_income_share": 1 - _ratio(main, total),
            "savings_rate": _ratio(_sum(out[out["category"] == "savings"], index), total),
            "investment_rate": _ratio(_sum(out[out["category"] == "investment"], index), total),
            "outflow_income": _ratio(_sum(out, index), total),
        }
    )


def _spend_features(spend: pd.DataFrame, index: pd.Index, days: int) -> pd.DataFrame:
    months = days / DAYS_PER_MONTH
    everyday = spend[(spend["category"] != "transfer") & (spend["method"] != "auto_debit")]
    tickets = spend.groupby("user_id")["amount"]
    counts = spend.groupby("user_id")["merchant"].value_counts()
    return pd.DataFrame(
        {
            "spend_monthly": _sum(spend, index) / months,
            "everyday_spend_monthly": _sum(everyday, index) / months,
            "txn_per_day": _count(spend, index) / days,
            "mean_ticket": tickets.mean().reindex(index),
            "median_ticket": tickets.median().reindex(index),
            "distinct_merchants": spend.groupby("user_id")["merchant"].nunique().reindex(index),
            "distinct_categories": spend.groupby("user_id")["category"].nunique().reindex(index),
            "top_merchant_share": _ratio(
                counts.groupby("user_id").max().reindex(index), _count(spend, index)
            ),
        }
    )


def _category_features(spend: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    amounts = spend.pivot_table("amount", "user_id", "category", aggfunc="sum", fill_value=0)
    counts = spend.pivot_table("amount", "user_id", "category", aggfunc="size", fill_value=0)
    columns = {}
    for kind, table in (("amount", amounts), ("count", counts)):
        table = table.reindex(index=index, columns=list(SHARE_CATEGORIES), fill_value=0)
        shares = table.div(table.sum(axis=1).where(lambda s: s > 0), axis=0)
        columns |= {f"{c}_{kind}_share": shares[c] for c in SHARE_CATEGORIES}
    return pd.DataFrame(columns, index=index)


def _time_features(spend: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    hour = spend["ts"].dt.hour
    flags = {"weekend_share": spend["ts"].dt.day_of_week >= 5}
    for band, (low, high) in HOUR_BANDS.items():
        inside = (hour >= low) & (hour < high) if low < high else (hour >= low) | (hour < high)
        flags[f"hour_{band}_share"] = inside
    frame = pd.DataFrame(flags).astype(float).assign(user_id=spend["user_id"].to_numpy())
    return frame.groupby("user_id").mean().reindex(index)


def _method_features(out: pd.DataFrame, index: pd.Index, days: int) -> pd.DataFrame:
    months = days / DAYS_PER_MONTH
    rows = _count(out, index)
    auto = out[out["method"] == "auto_debit"]
    columns = {
        f"{m}_share": _ratio(_count(out[out["method"] == m], index), rows)
        for m in ("card", "transfer", "cash")
    }
    columns |= {
        "auto_debit_per_month": _count(auto, index) / months,
        "auto_debit_amount_monthly": _sum(auto, index) / months,
    }
    return pd.DataFrame(columns)


def _rhythm_features(
    spend: pd.DataFrame,
    income: pd.DataFrame,
    index: pd.Index,
    first: pd.Timestamp,
    last: pd.Timestamp,
) -> pd.DataFrame:
    month = spend["ts"].dt.to_period("M")
    monthly = spend.assign(month=month).pivot_table(
        "amount", "user_id", "month", aggfunc="sum", fill_value=0
    )
    monthly = monthly.reindex(index=index, fill_value=0)
    return pd.DataFrame(
        {
            "spend_month_cv": _ratio(monthly.std(axis=1, ddof=0), monthly.mean(axis=1)),
            "max_inactive_days": _max_inactive(spend, index, first, last),
            "payday_share": _payday_share(spend, income, index),
        }
    )


def _max_inactive(
    spend: pd.DataFrame, index: pd.Index, first: pd.Timestamp, last: pd.Timestamp
) -> pd.Series:
    """Longest run of days without spending, the period's edges included."""
    day = (spend["ts"].dt.normalize() - first).dt.days
    active = pd.DataFrame({"user_id": spend["user_id"].to_numpy(), "day": day.to_numpy()})
    active = active.drop_duplicates().sort_values(["user_id", "day"])
    gaps = active.groupby("user_id")["day"].diff().sub(1)
    inner = gaps.groupby(active["user_id"]).max().reindex(index).fillna(0)
    head = active.groupby("user_id")["day"].min().reindex(index)
    tail = (last - first).days - active.groupby("user_id")["day"].max().reindex(index)
    span = float((last - first).days + 1)
    return pd.concat([inner, head, tail], axis=1).max(axis=1).fillna(span)


def _payday_share(spend: pd.DataFrame, income: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Share of spending (amount) in the 7 days from the day of month of the main income."""
    main = _main_source(income)["merchant"]
    salary = income[income["merchant"].to_numpy() == main.reindex(income["user_id"]).to_numpy()]
    dom = salary.assign(dom=salary["ts"].dt.day).groupby("user_id")["dom"]
    paydays = dom.agg(lambda s: s.mode().iloc[0])
    payday = paydays.reindex(spend["user_id"]).to_numpy()
    since = (spend["ts"].dt.day.to_numpy() - payday) % spend["ts"].dt.days_in_month.to_numpy()
    near = spend.loc[since < 7]
    share = _ratio(_sum(near, index), _sum(spend, index))
    return share.where(index.isin(paydays.index))


def _demographics(users: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    users = users.set_index("user_id").reindex(index)
    return pd.DataFrame(
        {
            "age": users["age"].astype(float),
            "gender_f": users["gender"].map({"f": 1.0, "m": 0.0}),
            "occupation_code": _codes(users["occupation"]),
            "region_code": _codes(users["region"]),
            "declared_income": users["monthly_income"].astype(float),
        },
        index=index,
    )


def _codes(values: pd.Series) -> pd.Series:
    """Sorted category codes (-1 for null), so a tree can split on a categorical column."""
    codes = pd.Categorical(values, categories=sorted(values.dropna().unique())).codes
    return pd.Series(codes.astype(float), index=values.index)


# --------------------------------------------------------------------------- search


@dataclass(frozen=True)
class Score:
    """Cross-validated macro-F1 of a depth-3 tree on one feature set."""

    features: tuple[str, ...]
    folds: tuple[float, ...]

    @property
    def mean(self) -> float:
        """Mean macro-F1 over the folds."""
        return float(np.mean(self.folds))

    @property
    def interval(self) -> tuple[float, float]:
        """95 % t-interval of the mean over the folds, clipped to [0, 1]."""
        n = len(self.folds)
        half = T_975.get(n - 1, 1.96) * float(np.std(self.folds, ddof=1)) / math.sqrt(n)
        return max(0.0, self.mean - half), min(1.0, self.mean + half)

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        low, high = self.interval
        return {
            "features": list(self.features),
            "macro_f1": round(self.mean, 4),
            "ci95": [round(low, 4), round(high, 4)],
            "folds": [round(f, 4) for f in self.folds],
        }

    def line(self) -> str:
        """One printable line: features, macro-F1 and interval."""
        low, high = self.interval
        return f"{' + '.join(self.features)}: macro-F1 {self.mean:.3f} [{low:.3f}, {high:.3f}]"


def macro_f1(truth: np.ndarray, predicted: np.ndarray, classes: int) -> float:
    """Macro-F1 over the classes present in truth or prediction (as scikit-learn)."""
    matrix = np.bincount(truth * classes + predicted, minlength=classes * classes)
    matrix = matrix.reshape(classes, classes)
    tp = np.diag(matrix)
    denominator = matrix.sum(axis=0) + matrix.sum(axis=1)
    present = denominator > 0
    return float(np.mean(2 * tp[present] / denominator[present]))


def _fold_scores(
    x: np.ndarray, y: np.ndarray, folds: Sequence[tuple[np.ndarray, np.ndarray]], k: int
) -> tuple[float, ...]:
    scores = []
    for train, test in folds:
        tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(x[train], y[train])
        scores.append(macro_f1(y[test], tree.predict(x[test]), k))
    return tuple(scores)


def _score_chunk(
    x: np.ndarray,
    y: np.ndarray,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    names: Sequence[str],
    chunk: Sequence[tuple[int, ...]],
) -> list[Score]:
    k = int(y.max()) + 1
    return [
        Score(tuple(names[i] for i in c), _fold_scores(x[:, list(c)], y, folds, k)) for c in chunk
    ]


def score_sets(
    x: np.ndarray,
    y: np.ndarray,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    names: Sequence[str],
    sets: Iterable[tuple[int, ...]],
    jobs: int,
) -> list[Score]:
    """Scores of feature sets (column index tuples), best first."""
    sets = list(sets)
    size = max(1, math.ceil(len(sets) / (jobs * 8)))
    chunks = [sets[i : i + size] for i in range(0, len(sets), size)]
    scored = Parallel(n_jobs=jobs)(
        delayed(_score_chunk)(x, y, folds, names, chunk) for chunk in chunks
    )
    return sorted((s for part in scored for s in part), key=lambda s: -s.mean)


def candidate_triples(
    pairs: list[Score], names: Sequence[str], top: int, extend: int
) -> tuple[list[tuple[int, ...]], list[str]]:
    """Triples to score: all among the top features (by best pair), and extended top pairs."""
    position = {name: i for i, name in enumerate(names)}
    rank: dict[str, float] = {}
    for pair in pairs:  # best first: the first pair that names a feature is its best
        for name in pair.features:
            rank.setdefault(name, pair.mean)
    leaders = sorted(rank, key=lambda n: -rank[n])[:top]
    triples = {tuple(sorted(position[n] for n in t)) for t in itertools.combinations(leaders, 3)}
    for pair in pairs[:extend]:
        a, b = (position[n] for n in pair.features)
        triples |= {tuple(sorted((a, b, c))) for c in range(len(names)) if c not in (a, b)}
    return sorted(triples), leaders


# --------------------------------------------------------------------------- main


def load(args: argparse.Namespace, tmp: str) -> tuple[Path, dict]:
    """The dataset directory (generated unless ``--data``) and how it was obtained."""
    if args.data is not None:
        return args.data, {"data": str(args.data)}
    from sim.agents.generate import generate_dataset

    out = Path(tmp) / "population"
    began = time.perf_counter()
    generate_dataset(
        out,
        users=args.users,
        days=args.days,
        start="2024-01-01",
        seed=args.seed,
        workers=args.workers,
        progress=False,
    )
    info = {"users": args.users, "days": args.days, "seed": args.seed}
    return out, info | {"generate_s": round(time.perf_counter() - began, 1)}


def run(args: argparse.Namespace, data: Path, source: dict) -> dict:
    """Compute the features, search the feature sets, print and return the summary."""
    dataset = read_dataset(data)
    began = time.perf_counter()
    users = dataset.frame("users", columns=USER_COLUMNS)
    features = user_features(dataset.frame("transactions", columns=TXN_COLUMNS), users)
    feature_s = time.perf_counter() - began
    names = list(features.columns)
    labels = pd.Categorical(users["spending_type"])
    x, y = features.to_numpy(dtype=float), labels.codes.astype(np.int64)
    splitter = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    folds = list(splitter.split(x, y))
    majority = np.full_like(y, np.bincount(y).argmax())
    print(f"population: {source}; {len(users)} users, {dataset.rows('transactions')} rows")
    print(f"types: {dict(zip(labels.categories, np.bincount(y).tolist(), strict=True))}")
    print(f"features: {len(names)} per user ({feature_s:.1f} s)")
    began = time.perf_counter()
    singles = score_sets(x, y, folds, names, [(i,) for i in range(len(names))], args.jobs)
    pairs = score_sets(x, y, folds, names, itertools.combinations(range(len(names)), 2), args.jobs)
    triples, leaders = candidate_triples(pairs, names, args.top, args.extend)
    scored = score_sets(x, y, folds, names, triples, args.jobs)
    search_s = time.perf_counter() - began
    best = scored[0]
    others = [s for s in scored if not set(s.features) & set(pairs[0].features)]
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    tree.fit(x[:, [names.index(n) for n in best.features]], y)
    print(f"best single: {singles[0].line()}")
    print(f"best pair:   {pairs[0].line()}")
    print(f"best triple: {best.line()}")
    if others:
        print(f"best triple without the best pair's features: {others[0].line()}")
    print(f"majority-class macro-F1 {macro_f1(y, majority, int(y.max()) + 1):.3f}")
    print(
        f"tried {len(singles)} singles, {len(pairs)} pairs, {len(triples)} triples (every "
        f"triple of the top {len(leaders)} features by best pair, plus the top {args.extend} "
        f"pairs extended by every feature) in {search_s:.1f} s"
    )
    verdict = "FINGERPRINT" if best.mean >= THRESHOLD else "no fingerprint"
    print(f"{verdict}: best triple {best.mean:.3f} vs threshold {THRESHOLD:.2f}")
    print("next best triples:")
    for score in scored[1:6]:
        print(f"  {score.line()}")
    print("best triple's tree (all users):")
    print(export_text(tree, feature_names=list(best.features), class_names=list(labels.categories)))
    return {
        "benchmark": "fingerprint",
        "source": source,
        "users": len(users),
        "features": len(names),
        "folds": args.folds,
        "threshold": THRESHOLD,
        "fingerprint": best.mean >= THRESHOLD,
        "best_single": singles[0].to_dict(),
        "best_pair": pairs[0].to_dict(),
        "best_triple": best.to_dict(),
        "best_triple_without_best_pair": others[0].to_dict() if others else None,
        "top_triples": [s.to_dict() for s in scored[:5]],
        "tried": {"singles": len(singles), "pairs": len(pairs), "triples": len(triples)},
        "top_features": leaders,
        "feature_s": round(feature_s, 1),
        "search_s": round(search_s, 1),
    }


def main() -> None:
    """Parse the options, get the population, run the search, print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--days", type=int, default=240)
    parser.add_argument("--seed", type=int, default=11, help="population and fold seed")
    parser.add_argument("--workers", type=int, default=2, help="generator worker processes")
    parser.add_argument("--data", type=Path, help="use this dataset instead of generating one")
    parser.add_argument("--jobs", type=int, default=2, help="parallel scoring processes")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--top", type=int, default=30, help="features searched exhaustively")
    parser.add_argument("--extend", type=int, default=20, help="best pairs extended by one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, source = load(args, tmp)
        summary = run(args, data, source)
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
