"""App usage: per-user features from the request log and whether they help type the users."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from analysis import app_usage
from analysis.app_usage import USAGE_FEATURES, chance_macro_f1, usage_evaluation, usage_features

API = "/api/v1"
READ = f"{API}/notifications/<int:notification_id>/read"

# (user, source, method, route, status): user 1 over the API in two sessions, user 2
# through the pages, user 3 only uploads history and is read back, user 4 never logs in.
ROWS: list[tuple[int | None, str, str, str, int]] = [
    (1, "locust", "POST", f"{API}/auth/login", 200),
    (1, "locust", "GET", f"{API}/spendings", 200),
    (1, "locust", "GET", f"{API}/analysis", 200),
    (1, "locust", "GET", f"{API}/notifications", 200),
    (1, "locust", "POST", READ, 200),
    (1, "locust", "POST", f"{API}/spendings", 201),
    (1, "locust", "POST", f"{API}/auth/logout", 204),
    (1, "locust", "POST", f"{API}/auth/login", 200),
    (1, "locust", "GET", f"{API}/spendings", 200),
    (1, "locust", "GET", f"{API}/type", 200),
    (1, "locust", "POST", f"{API}/goals", 201),
    (1, "locust", "POST", f"{API}/spendings", 500),
    (1, "history", "POST", f"{API}/spendings/batch", 201),
    (1, "api", "GET", f"{API}/spendings", 200),
    (None, "browser", "GET", "/login/", 200),
    (2, "browser", "POST", "/signup/", 302),
    (2, "browser", "GET", "/mydata/start/", 200),
    (2, "browser", "GET", "/spending-history/", 200),
    (2, "browser", "GET", "/spending-history/<day>/", 200),
    (2, "browser", "GET", "/assets/", 200),
    (2, "browser", "GET", "/mypage/", 200),
    (2, "browser", "POST", "/spending/new/", 302),
    (2, "browser", "POST", "/logout/", 302),
    (3, "history", "POST", f"{API}/auth/login", 200),
    (3, "history", "POST", f"{API}/spendings/batch", 201),
    (3, "api", "GET", f"{API}/type", 200),
    (4, "locust", "GET", f"{API}/profile", 200),
]


def _timestamps() -> list[pd.Timestamp]:
    """User 1: 21:00 every 10 s, then the next morning; the rest on 8 January, a minute apart."""
    evening = pd.date_range("2025-01-07 21:00:00", periods=7, freq="10s")
    morning = pd.date_range("2025-01-08 09:00:00", periods=5, freq="10s")
    others = pd.date_range("2025-01-08 10:00:00", periods=len(ROWS) - 12, freq="60s")
    return [*evening, *morning, *others]


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=["user_id", "source", "method", "route", "status"])
    return frame.assign(
        ts=_timestamps(),
        user_id=frame["user_id"].astype("Int64"),
        run_id="r1",
        agent_id="a",
        latency_ms=1.0,
        bytes=100,
    )


@pytest.fixture(scope="module")
def features(events: pd.DataFrame) -> pd.DataFrame:
    return usage_features(events)


def test_only_users_with_live_requests_have_rows(features: pd.DataFrame) -> None:
    assert features.index.name == "user_id"
    assert features.index.tolist() == [1, 2, 4]
    assert tuple(features.columns) == USAGE_FEATURES
    assert (features.dtypes == "float64").all()
    assert not features.isna().any().any()


def test_api_user_counts_sessions_views_and_rates(features: pd.DataFrame) -> None:
    user = features.loc[1]
    expected = {
        "usage_sessions": 2.0,
        "usage_requests": 11.0,  # the failed write and the history/api rows do not count
        "usage_views": 5.0,
        "usage_views_per_session": 2.5,
        "usage_writes_per_session": 1.0,
        "usage_share_history": 0.4,
        "usage_share_analysis": 0.2,
        "usage_share_type": 0.2,
        "usage_share_assets": 0.0,
        "usage_share_notifications": 0.2,
        "usage_share_profile": 0.0,
        "usage_notification_reads_per_session": 0.5,
        "usage_logout_share": 0.5,
        "usage_active_hours": 2.0,
        "usage_mean_gap_s": (12 * 3600 + 30) / 10,
        "usage_failure_share": 1 / 12,
    }
    assert user.to_dict() == pytest.approx(expected)


def test_page_user_counts_html_routes(features: pd.DataFrame) -> None:
    user = features.loc[2]
    assert user["usage_sessions"] == 1.0
    assert user["usage_requests"] == 8.0
    assert user["usage_views"] == 4.0
    assert user["usage_share_history"] == 0.5
    assert user["usage_share_assets"] == user["usage_share_profile"] == 0.25
    assert user["usage_writes_per_session"] == 1.0
    assert user["usage_logout_share"] == 1.0
    assert user["usage_active_hours"] == 1.0
    assert user["usage_mean_gap_s"] == 60.0
    assert user["usage_failure_share"] == 0.0


def test_user_without_a_login_divides_by_one_session(features: pd.DataFrame) -> None:
    user = features.loc[4]
    assert user["usage_sessions"] == 0.0
    assert user["usage_views_per_session"] == 1.0
    assert user["usage_share_profile"] == 1.0
    assert user["usage_mean_gap_s"] == 0.0


def test_no_live_requests_give_an_empty_frame(events: pd.DataFrame) -> None:
    empty = usage_features(events[events["source"] == "history"])
    assert empty.empty and tuple(empty.columns) == USAGE_FEATURES


# --------------------------------------------------------------------------- evaluation

TYPES = ("saver", "yolo", "investor")


def _population(users: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Noise spending features; the history-view share carries the type."""
    rng = np.random.default_rng(seed)
    ids = pd.Index(np.arange(100, 100 + users), name="user_id")
    labels = pd.Series(np.resize(TYPES, users), index=ids)
    spending = pd.DataFrame(rng.normal(size=(users, 2)), index=ids, columns=["noise_a", "noise_b"])
    usage = pd.DataFrame(rng.random((users, len(USAGE_FEATURES))), index=ids)
    usage.columns = pd.Index(USAGE_FEATURES)
    code = labels.map({name: i for i, name in enumerate(TYPES)})
    usage["usage_share_history"] = code / 3 + rng.random(users) * 0.1
    return spending, usage, labels


def _evaluate(users: int = 72, seed: int = 3, **kwargs: Any) -> dict[str, Any]:
    spending, usage, labels = _population(users, seed=0)
    spending = pd.concat([spending, spending.iloc[:2].set_axis([1, 2])])  # no usage: dropped
    return usage_evaluation(
        spending, usage, labels, spending_features=["noise_a", "noise_b"], seed=seed, **kwargs
    )


@pytest.fixture(scope="module")
def evaluation() -> dict[str, Any]:
    return _evaluate()


def test_usage_that_carries_the_type_beats_noise_spending(evaluation: dict[str, Any]) -> None:
    assert evaluation["users"] == 72 and evaluation["folds"] == 5
    variants = evaluation["variants"]
    assert set(variants) == set(app_usage.VARIANTS)
    both, base = variants["spending_and_usage"], variants["spending"]
    assert both["macro_f1"] > 0.8 > 0.6 > base["macro_f1"]
    assert both["ci95"][0] > base["ci95"][1]
    assert variants["usage_only"]["macro_f1"] > 0.8
    assert evaluation["verdict"].startswith("usage features add a measurable gain")
    for score in variants.values():
        low, high = score["ci95"]
        assert low <= score["macro_f1"] <= high
        assert score["chance_macro_f1"] == pytest.approx(1 / 3, abs=0.05)


def test_evaluation_is_reproducible_for_a_seed(evaluation: dict[str, Any]) -> None:
    assert _evaluate() == evaluation


def test_too_few_users_are_skipped_with_a_reason() -> None:
    result = _evaluate(users=12)
    assert result["users"] == 12
    assert "need 20" in result["skipped"]
    assert "variants" not in result


def test_a_type_with_one_user_is_skipped() -> None:
    spending, usage, labels = _population(30, seed=0)
    labels.iloc[0] = "stable"
    result = usage_evaluation(
        spending, usage, labels, spending_features=["noise_a"], seed=0, min_users=20
    )
    assert result == {
        "users": 30,
        "skipped": "spending types with a single user cannot be stratified: stable",
    }


def test_chance_is_the_mean_macro_f1_of_stratified_guesses() -> None:
    truth = np.array(["a"] * 30 + ["b"] * 10)
    rng = np.random.default_rng(np.random.SeedSequence(5).spawn(1)[0])
    guesses = rng.choice(2, size=(200, 40), p=[0.75, 0.25])
    expected = np.mean([f1_score(truth, np.array(["a", "b"])[g], average="macro") for g in guesses])
    assert chance_macro_f1(truth, seed=5, draws=200) == pytest.approx(expected)
