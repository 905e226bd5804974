"""Injected anomalies: prevalence, labels, behaviour per kind, and no leak through other fields."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import everyday
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import cross_val_score

from monilab.contracts.vocabulary import ANOMALY_KINDS
from sim.agents.anomalies import KIND_WEIGHTS, MAX_EPISODE_PROB, ROWS_PER_EPISODE
from sim.agents.population import Population


@pytest.fixture(scope="module")
def payments(quarter_frames) -> pd.DataFrame:
    tx, users = quarter_frames
    out = everyday(tx)
    out["persona"] = out.user_id.map(users.set_index("user_id").persona)
    return out


def test_labels_are_consistent(quarter_frames):
    tx, _ = quarter_frames
    assert (tx.is_anomaly == tx.anomaly_kind.notna()).all()
    assert set(tx.anomaly_kind.dropna()) == set(ANOMALY_KINDS)
    assert not tx[tx.is_anomaly].category.isin(["income", "savings", "investment"]).any()


def test_prevalence_follows_rate_and_propensity(payments, quarter_population):
    pop = quarter_population
    normal = payments[~payments.is_anomaly]
    per_day = normal.groupby(["user_id", normal.ts.dt.normalize()]).size().rename("k")
    per_day = per_day.reset_index()
    persona = per_day.user_id.map(payments.drop_duplicates("user_id").set_index("user_id").persona)
    propensity = persona.map(dict(zip(pop.tables.names, pop.tables.propensity, strict=True)))
    chance = np.minimum(MAX_EPISODE_PROB, pop.anomaly_rate * propensity * per_day.k)
    weight = sum(KIND_WEIGHTS.values())
    rows_per_episode = sum(w * ROWS_PER_EPISODE.get(k, 1) for k, w in KIND_WEIGHTS.items()) / weight
    expected = chance.sum() * rows_per_episode
    observed = payments.is_anomaly.sum()
    assert observed == pytest.approx(expected, rel=0.12)
    share = payments.groupby("persona").is_anomaly.mean()
    assert share["yolo_student"] > 1.8 * share["young_saver"]  # propensity 1.6 vs 0.6


def test_zero_rate_injects_nothing():
    pop = Population(users=60, seed=1, start="2024-01-01", days=20, anomaly_rate=0.0)
    assert not pop.transactions_table().column("is_anomaly").to_numpy().any()


def test_each_kind_behaves_as_described(payments):
    kind = payments.anomaly_kind
    normal = payments[~payments.is_anomaly]
    usual = normal.groupby(["user_id", "category"]).amount.median()

    hours = payments[kind == "unusual_hour"].ts.dt.hour
    assert hours.between(1, 4).mean() > 0.95

    spikes = payments[kind == "amount_spike"]
    ratio = (
        spikes.amount.to_numpy()
        / usual.reindex(list(zip(spikes.user_id, spikes.category, strict=True))).to_numpy()
    )
    assert np.nanmedian(ratio) > 3

    dupes = payments[kind == "duplicate_charge"]
    twins = dupes.merge(
        normal, on=["user_id", "merchant", "amount", "category"], suffixes=("", "_o")
    )
    gap = (twins.ts - twins.ts_o).dt.total_seconds()
    matched = twins[(gap >= 5) & (gap <= 180)].txn_id.nunique()
    assert matched == len(dupes)

    burst = payments[kind == "small_burst"].sort_values(["user_id", "ts"])
    gaps = burst.groupby("user_id").ts.diff().dt.total_seconds().dropna()
    assert (gaps[gaps < 3600] <= 240).mean() > 0.95
    assert burst.amount.median() < 5000


def test_no_leak_outside_behaviour(payments, quarter_population):
    """Anomalous rows differ only in amount, time, category and merchant novelty."""
    odd, normal = payments[payments.is_anomaly], payments[~payments.is_anomaly]
    method = pd.DataFrame(
        {
            "odd": odd.method.value_counts(normalize=True),
            "normal": normal.method.value_counts(normalize=True),
        }
    ).fillna(0)
    assert 0.5 * (method.odd - method.normal).abs().sum() < 0.03
    assert (odd.amount % 100 == 0).all() and (normal.amount % 100 == 0).all()
    assert abs((odd.amount % 1000 == 0).mean() - (normal.amount % 1000 == 0).mean()) < 0.03
    assert abs((odd.txn_id % 2).mean() - 0.5) < 0.03
    assert abs(odd.ts.dt.second.mean() - normal.ts.dt.second.mean()) < 1.5
    assert (odd.ts.dt.microsecond == 0).all() and (normal.ts.dt.microsecond == 0).all()
    assert abs((odd.ts.dt.second == 0).mean() - 1 / 60) < 0.01
    catalog = quarter_population.catalog
    for category, rows in odd.groupby("category"):
        vocabulary = {catalog.names[i] for i in catalog.merchants_of(category)}
        assert set(rows.merchant) <= vocabulary

    sample = pd.concat([odd, normal.sample(20_000, random_state=0)])
    features = pd.DataFrame(
        {
            "card": sample.method == "card",
            "cash": sample.method == "cash",
            "transfer": sample.method == "transfer",
            "txn_parity": sample.txn_id % 2,
            "second": sample.ts.dt.second,
            "hundreds_digit": sample.amount // 100 % 10,
        }
    )
    auc = cross_val_score(
        HistGradientBoostingClassifier(max_iter=60, random_state=0),
        features,
        sample.is_anomaly,
        cv=3,
        scoring="roc_auc",
    )
    assert auc.mean() < 0.56


def test_harder_kinds_behave_as_described(payments):
    kind = payments.anomaly_kind
    normal = payments[~payments.is_anomaly]
    near = payments[kind == "near_duplicate"]
    twins = near.merge(normal, on=["user_id", "merchant", "category"], suffixes=("", "_o"))
    gap = (twins.ts - twins.ts_o).dt.total_seconds()
    change = (twins.amount / twins.amount_o - 1).abs()
    close = twins[(gap >= 60) & (gap <= 1800) & (change > 0) & (change <= 0.2)]
    assert close.txn_id.nunique() >= 0.9 * len(near)

    ordinary = payments[kind == "ordinary_burst"].sort_values(["user_id", "ts"])
    assert ordinary.amount.median() > 2 * payments[kind == "small_burst"].amount.median()
    gaps = ordinary.groupby(["user_id", "merchant"]).ts.diff().dt.total_seconds().dropna()
    assert (gaps[gaps < 3600] <= 600).mean() > 0.95

    takeover = payments[kind == "account_takeover"]
    assert takeover.ts.dt.hour.between(0, 5).mean() > 0.95
    days = takeover.groupby("user_id").ts.agg(lambda t: t.dt.normalize().nunique())
    assert days.median() >= 3
    first_last = takeover.sort_values("ts").groupby("user_id").amount.agg(["first", "last"])
    assert (first_last["last"] > first_last["first"]).mean() > 0.7
