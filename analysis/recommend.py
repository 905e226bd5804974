"""Financial product recommendations by user-based collaborative filtering (seed 000, 5.2).

Holdings are derived from what users do, not from a survey: a user *holds* a product when
the transactions show at least one outgoing

- ``savings`` transfer to it (적금, 청약, 모으기: kind ``savings``),
- ``investment`` transfer to it (증권 계좌, 가상자산 거래소: kind ``investment``),
- ``auto_debit`` in ``health`` to it (보험료: kind ``insurance``).

Goals are not in the offline dataset (they live in the agents' decision stream and the app),
so they are not holdings here.

Similar users are the nearest neighbours (cosine) on standardised behaviour features
(:func:`analysis.features.user_features`) next to the holdings vector; a product's score is
the similarity-weighted share of neighbours holding it. Products the user already holds are
never recommended. As in the seed, YOLO users (``yolo``) get savings products instead
(``yolo_policy``): CF scores restricted to kind ``savings``, popularity breaking ties.

Evaluation (:func:`evaluate`) hides half of each held-out user's holdings (at least one) and
measures hit rate, precision and recall at k against a popularity baseline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from analysis.features import check_transactions, user_features

KIND_LABELS = {"savings": "적금·저축", "investment": "투자", "insurance": "보험"}
SAVINGS_TYPE_POLICY = "yolo"
"""The type that gets savings products rather than CF (seed: 저축을 유도하는 적금 추천)."""
MIN_SPENDINGS = 30
"""Spendings a user needs before the app artifact recommends anything."""


def product_events(tx: pd.DataFrame) -> pd.DataFrame:
    """Outgoing rows that show a product: ``user_id, product, kind`` (one row per event)."""
    out = tx[(tx["direction"] == "out") & tx["merchant"].notna()]
    kind = pd.Series(None, index=out.index, dtype="object")
    kind[out["category"] == "savings"] = "savings"
    kind[out["category"] == "investment"] = "investment"
    kind[(out["method"] == "auto_debit") & (out["category"] == "health")] = "insurance"
    keep = kind.notna()
    return pd.DataFrame(
        {"user_id": out["user_id"][keep], "product": out["merchant"][keep], "kind": kind[keep]}
    )


def holdings(tx: pd.DataFrame, users: pd.Index | None = None) -> pd.DataFrame:
    """A boolean user × product matrix (users without any product are rows of False)."""
    events = product_events(tx).drop_duplicates(["user_id", "product"])
    matrix = pd.crosstab(events["user_id"], events["product"]).astype(bool)
    if users is not None:
        matrix = matrix.reindex(users, fill_value=False)
    matrix.columns.name = "product"
    return matrix


def catalog(tx: pd.DataFrame) -> pd.Series:
    """Product → kind for every product seen."""
    events = product_events(tx).drop_duplicates("product")
    return events.set_index("product")["kind"].sort_index()


class ProductRecommender(BaseEstimator):
    """User-based collaborative filtering over held products.

    Args:
        n_neighbors: Similar users consulted.
        top_k: Products recommended.
        holdings_weight: Weight of the holdings block against the (standardised) features.
        yolo_policy: Give YOLO users savings products (the seed's rule).
    """

    def __init__(
        self,
        n_neighbors: int = 30,
        top_k: int = 3,
        holdings_weight: float = 2.0,
        yolo_policy: bool = True,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.top_k = top_k
        self.holdings_weight = holdings_weight
        self.yolo_policy = yolo_policy

    def _matrix(self, features: pd.DataFrame, held: pd.DataFrame) -> np.ndarray:
        x = self.scaler_.transform(features[self.features_].to_numpy(float))
        x = np.nan_to_num(x) / np.sqrt(len(self.features_))
        h = held.reindex(columns=self.products_, fill_value=False).to_numpy(float)
        return np.hstack([x, self.holdings_weight * h / np.sqrt(len(self.products_))])

    def fit(
        self, features: pd.DataFrame, held: pd.DataFrame, kinds: pd.Series
    ) -> ProductRecommender:
        """Learn the neighbour pool from users' features and holdings.

        Args:
            features: :func:`user_features` rows (index user_id).
            held: :func:`holdings` matrix for the same users.
            kinds: Product → kind (:func:`catalog`).
        """
        held = held.reindex(features.index, fill_value=False)
        self.features_ = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]
        self.products_ = list(held.columns)
        self.kinds_ = kinds.reindex(self.products_).fillna("savings").to_numpy(str)
        self.scaler_ = StandardScaler().fit(features[self.features_].to_numpy(float))
        self.pool_ = held.to_numpy(bool)
        self.popularity_ = self.pool_.mean(axis=0)
        self.neighbours_ = NearestNeighbors(
            n_neighbors=min(self.n_neighbors, len(features)), metric="cosine"
        ).fit(self._matrix(features, held))
        return self

    def scores(self, features: pd.DataFrame, held: pd.DataFrame) -> np.ndarray:
        """CF score of every product for every user (-inf where the user holds it)."""
        held = held.reindex(index=features.index, columns=self.products_, fill_value=False)
        distance, index = self.neighbours_.kneighbors(self._matrix(features, held))
        weight = np.clip(1.0 - distance, 1e-6, None)
        score = np.einsum("un,unp->up", weight, self.pool_[index]) / weight.sum(axis=1)[:, None]
        return np.where(held.to_numpy(bool), -np.inf, score)

    def recommend(
        self,
        features: pd.DataFrame,
        held: pd.DataFrame,
        types: pd.Series | None = None,
        k: int | None = None,
    ) -> list[list[str]]:
        """The top-k products per user (CF; savings only for YOLO users under the policy)."""
        k = k or self.top_k
        score = self.scores(features, held) + 1e-3 * self.popularity_  # popularity breaks ties
        if self.yolo_policy and types is not None:
            yolo = (types.reindex(features.index) == SAVINGS_TYPE_POLICY).to_numpy()
            score[np.ix_(yolo, self.kinds_ != "savings")] = -np.inf
        order = np.argsort(-score, axis=1, kind="stable")[:, :k]
        return [
            [self.products_[j] for j in row if np.isfinite(score[i, j])]
            for i, row in enumerate(order)
        ]

    def popular(self, held: pd.DataFrame, k: int | None = None) -> list[list[str]]:
        """The baseline: the k most held products the user does not hold."""
        k = k or self.top_k
        holds = held.reindex(columns=self.products_, fill_value=False).to_numpy(bool)
        score = np.where(holds, -np.inf, self.popularity_[None, :])
        order = np.argsort(-score, axis=1, kind="stable")[:, :k]
        return [[self.products_[j] for j in row if not holds[i, j]] for i, row in enumerate(order)]


def _hide(held: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, list[set[str]]]:
    """Hide half of each user's holdings (at least one); users with fewer than 2 are skipped."""
    visible = held.copy()
    hidden: list[set[str]] = []
    for user, row in held.iterrows():
        products = list(row.index[row.to_numpy(bool)])
        n = max(1, len(products) // 2)
        chosen = set(rng.choice(products, size=n, replace=False)) if len(products) >= 2 else set()
        visible.loc[user, list(chosen)] = False
        hidden.append(chosen)
    return visible, hidden


def _at_k(recommended: list[list[str]], hidden: list[set[str]], k: int) -> dict[str, float]:
    pairs = [(r, h) for r, h in zip(recommended, hidden, strict=True) if h]
    hits = [len(set(r[:k]) & h) for r, h in pairs]
    return {
        "hit_rate": float(np.mean([x > 0 for x in hits])) if hits else 0.0,
        "precision": float(np.mean([x / k for x in hits])) if hits else 0.0,
        "recall": float(np.mean([x / len(h) for x, (_, h) in zip(hits, pairs, strict=True)]))
        if hits
        else 0.0,
        "users": len(pairs),
    }


def evaluate(
    features: pd.DataFrame,
    held: pd.DataFrame,
    kinds: pd.Series,
    types: pd.Series,
    *,
    ks: tuple[int, ...] = (1, 3, 5),
    random_state: int = 0,
    **params: Any,
) -> tuple[dict[str, Any], ProductRecommender]:
    """Hit rate / precision / recall at k of CF (with and without the YOLO policy) against
    popularity, on held-out users (25 %) with half of their holdings hidden."""
    train_users, test_users = train_test_split(
        features.index, test_size=0.25, random_state=random_state, stratify=types[features.index]
    )
    model = ProductRecommender(**params).fit(
        features.loc[train_users], held.loc[train_users], kinds
    )
    visible, hidden = _hide(held.loc[test_users], np.random.default_rng(random_state))
    test_features, test_types = features.loc[test_users], types.loc[test_users]
    k_max = max(ks)
    plain = model.recommend(test_features, visible, None, k_max)
    policy = model.recommend(test_features, visible, test_types, k_max)
    popular = model.popular(visible, k_max)
    out: dict[str, Any] = {
        "products": len(model.products_),
        "kinds": pd.Series(model.kinds_).value_counts().to_dict(),
        "holdings_per_user": float(held.sum(axis=1).mean()),
        "train_users": len(train_users),
        "test_users": len(test_users),
    }
    for k in ks:
        out[f"at_{k}"] = {
            "collaborative_filtering": _at_k(plain, hidden, k),
            "cf_with_yolo_policy": _at_k(policy, hidden, k),
            "popularity": _at_k(popular, hidden, k),
        }
    yolo = (test_types == SAVINGS_TYPE_POLICY).to_numpy()
    kind_of = dict(zip(model.products_, model.kinds_, strict=True))
    yolo_recs = [p for r, y in zip(policy, yolo, strict=True) if y for p in r]
    out["yolo_users"] = int(yolo.sum())
    out["yolo_recommendations_savings_share"] = (
        float(np.mean([kind_of[p] == "savings" for p in yolo_recs])) if yolo_recs else None
    )
    return out, model


class RecommenderArtifact:
    """What the app loads: recommend products from one user's spendings.

    ``recommend_user(spendings, spending_type=None) -> list[dict]`` with ``product``,
    ``kind``, ``kind_label``, ``score`` (share of similar users holding it) and ``reason``.
    """

    min_spendings = MIN_SPENDINGS

    def __init__(self, model: ProductRecommender) -> None:
        self.model = model

    def recommend_user(
        self, spendings: pd.DataFrame, spending_type: str | None = None
    ) -> list[dict[str, Any]]:
        """Top-k products for the user whose spendings these are."""
        tx = check_transactions(spendings)
        feats = user_features(tx)
        held = holdings(tx, feats.index)
        types = pd.Series([spending_type], index=feats.index) if spending_type else None
        products = self.model.recommend(feats, held, types)[0]
        score = self.model.scores(feats, held)[0]
        index = {p: i for i, p in enumerate(self.model.products_)}
        out = []
        for product in products:
            kind = str(self.model.kinds_[index[product]])
            yolo = spending_type == SAVINGS_TYPE_POLICY and self.model.yolo_policy
            out.append(
                {
                    "product": product,
                    "kind": kind,
                    "kind_label": KIND_LABELS.get(kind, kind),
                    "score": round(float(score[index[product]]), 4),
                    "reason": "savings_for_yolo" if yolo else "similar_users",
                }
            )
        return out
