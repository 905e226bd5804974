"""Tests for analysis.anomaly_eval and analysis.anomaly_rules: past-only features, per-kind
metrics with intervals, every rule baseline, the headline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score

from analysis import anomaly, anomaly_eval, anomaly_rules


def _ledger(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 40 * 86_400, n)), "s")
    return pd.DataFrame(
        {
            "txn_id": np.arange(n),
            "user_id": rng.integers(0, 3, n),
            "ts": ts,
            "amount": (rng.integers(1, 80, n) * 100).astype(float),
            "category": rng.choice(["food", "coffee", "shopping"], n),
            "direction": "out",
            "merchant": rng.choice(["a", "b", "c", "d", "e"], n),
        }
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(20, 120), cut=st.floats(0.2, 0.9))
def test_features_at_t_do_not_change_when_later_rows_are_added(
    seed: int, n: int, cut: float
) -> None:
    full = _ledger(n, seed)
    head = full.iloc[: max(int(n * cut), 1)]
    early = anomaly.transaction_features(head).set_index("txn_id")
    late = anomaly.transaction_features(full).set_index("txn_id").loc[early.index]
    columns = list(anomaly.TXN_FEATURES)
    pd.testing.assert_frame_equal(early[columns], late[columns], check_exact=True)


def test_repeat_and_novelty_features_read_the_past_only() -> None:
    tx = _ledger(4, 0).assign(
        user_id=0,
        merchant=["a", "a", "b", "a"],
        amount=[1000.0, 1000.0, 5000.0, 1100.0],
        ts=pd.to_datetime(
            ["2024-01-01 10:00", "2024-01-01 10:02", "2024-01-01 11:00", "2024-01-03 03:00"]
        ),
    )
    f = anomaly.transaction_features(tx)
    assert f["merchant_novelty"].tolist()[:3] == [0.0, -np.log(2), 0.0]
    assert f["repeat_gap"].iloc[1] == pytest.approx(np.log1p(120))
    assert f["duplicates"].tolist() == [0, 1, 0, 0]
    assert f["night"].tolist() == [0, 0, 0, 1]
    rules = anomaly_rules.rule_scores(f)
    assert rules["repeat"].iloc[1] > 100 > rules["repeat"].iloc[0]
    assert rules["new_merchant"].iloc[2] >= 100 > rules["new_merchant"].iloc[1]
    assert rules["night"].iloc[3] >= 100
    assert anomaly_rules.median_k_alerts(f, k=3).tolist() == [False, False, True, False]


def _frame(n: int = 4000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    kind = np.where(rng.random(n) < 0.05, rng.integers(0, 2, n), -1)
    frame = pd.DataFrame({"user_id": rng.integers(0, 50, n), "kind": kind})
    signal = (kind >= 0).astype(float)
    for name in (*anomaly_eval.MODELS, *anomaly_eval.RULES, "stacked"):
        frame[name] = rng.random(n)
    frame["ensemble"] = signal + rng.random(n)  # a perfect model
    frame["repeat"] = (kind == 0) * 2.0 + rng.random(n)  # a rule good at kind 0 only
    return frame


def test_per_kind_metrics_intervals_and_headline() -> None:
    frame = _frame()
    choice = {"model": "ensemble", "rule": "repeat", "rule_per_kind": {"amount_spike": "repeat"}}
    out = anomaly_eval.evaluate(frame, choice, resamples=30)
    ens = out["methods"]["ensemble"]
    assert ens["all"]["pr_auc"] == 1.0 and ens["all"]["recall_at_budget"] > 0
    expected = average_precision_score(frame["kind"] >= 0, frame["median_k"])
    assert out["methods"]["median_k"]["all"]["pr_auc"] == pytest.approx(expected, abs=1e-4)
    low, high = out["methods"]["median_k"]["all"]["pr_auc_ci"]
    assert low <= high
    for method in (*anomaly_eval.MODELS, *anomaly_eval.RULES, *anomaly_eval.COMBINATIONS):
        assert set(out["methods"][method]) >= {"family", "all", "amount_spike", "small_burst"}
    assert out["methods"]["repeat"]["amount_spike"]["pr_auc"] == 1.0
    assert out["per_kind"]["amount_spike"]["best_rule"]["method"] == "repeat"
    head = out["headline"]
    assert head["best_model"] == "ensemble" and not head["rule_matches_model"]
    assert "beats" in head["verdict"]


def test_headline_says_when_a_rule_matches() -> None:
    frame = _frame()
    frame["repeat"] = frame["ensemble"]
    choice = {"model": "ensemble", "rule": "repeat", "rule_per_kind": {}}
    head = anomaly_eval.evaluate(frame, choice, resamples=20)["headline"]
    assert head["rule_matches_model"] and "matches" in head["verdict"]


def test_weighted_ap_equals_scikit_learn_with_ties() -> None:
    rng = np.random.default_rng(3)
    score = rng.integers(0, 5, 500).astype(float)
    y = rng.random(500) < 0.2
    order = np.argsort(-score, kind="stable")
    ordered = score[order]
    tie_end = np.flatnonzero(np.append(ordered[1:] != ordered[:-1], True))
    got = anomaly_eval._weighted_ap(order, tie_end, y, np.ones(500))
    assert got == pytest.approx(average_precision_score(y, score))
