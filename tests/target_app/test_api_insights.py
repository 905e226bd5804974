"""API: mydata start, assets, analysis and the spending type (with and without a model)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import joblib
import pandas as pd
import pytest
from moni_helpers import spending

from target_app import create_app
from target_app.services.spending_type import TypeModelSlot


class TinyTypeModel:
    """A real (if trivial) artifact: coffee lovers are yolo, everyone else a saver."""

    min_spendings = 3

    def predict_user(self, spendings: pd.DataFrame) -> str:
        expected = {"txn_id", "user_id", "ts", "amount", "category", "direction"}
        assert expected <= set(spendings.columns)
        share = (spendings["category"] == "coffee").mean()
        return "yolo" if share > 0.5 else "saver"


class BrokenModel:
    """Returns a type that does not exist."""

    def predict_user(self, spendings: pd.DataFrame) -> str:
        return "millionaire"


def test_mydata_start_is_idempotent(alice):
    first = alice.post("/api/v1/mydata/start", json={"opening_balance": 1_000_000})
    again = alice.post("/api/v1/mydata/start", json={"opening_balance": 5})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json["accounts"] == again.json["accounts"]
    assert {a["kind"] for a in first.json["accounts"]} == {"checking", "securities"}
    assert again.json["created"] is False


def test_concurrent_mydata_starts_link_the_accounts_once(app, alice):
    barrier = threading.Barrier(6)

    def start(_: int) -> int:
        client = app.test_client()
        barrier.wait()
        return client.post("/api/v1/mydata/start", json={}, headers=alice.headers).status_code

    with ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(start, range(6))) == [200] * 5 + [201]
    assert len(alice.post("/api/v1/mydata/start", json={}).json["accounts"]) == 2


def test_assets_follow_opening_balance_and_flows(alice, bob):
    assert alice.get("/api/v1/assets").json == {
        "mydata_started": False,
        "total": 0,
        "holdings": [
            {
                "kind": "checking",
                "label": "입출금",
                "institution": None,
                "balance": 0,
                "account_id": None,
            },
            {
                "kind": "securities",
                "label": "증권",
                "institution": None,
                "balance": 0,
                "account_id": None,
            },
            {
                "kind": "savings",
                "label": "적금·저축",
                "institution": None,
                "balance": 0,
                "account_id": None,
            },
        ],
    }
    alice.post(
        "/api/v1/mydata/start", json={"opening_balance": 1_000_000, "securities_balance": 500}
    )
    alice.post(
        "/api/v1/spendings", json=spending(amount=3_000_000, category="income", direction="in")
    )
    alice.post("/api/v1/spendings", json=spending(amount=200_000, category="investment"))
    alice.post("/api/v1/spendings", json=spending(amount=100_000, category="savings"))
    alice.post("/api/v1/spendings", json=spending(amount=50_000, category="food"))
    holdings = {h["kind"]: h["balance"] for h in alice.get("/api/v1/assets").json["holdings"]}
    assert holdings == {"checking": 3_650_000, "securities": 200_500, "savings": 100_000}
    assert alice.get("/api/v1/assets").json["total"] == 3_950_500
    assert bob.get("/api/v1/assets").json["total"] == 0  # alice's money is not bob's


def test_analysis_totals_shares_patterns_and_change(alice):
    rows = [
        ("2024-01-10T12:00:00+09:00", 100_000, "food"),  # Wednesday
        ("2024-02-05T08:30:00+09:00", 30_000, "coffee"),  # Monday
        ("2024-02-05T12:00:00+09:00", 90_000, "food"),
        ("2024-02-10T19:00:00+09:00", 80_000, "shopping"),  # Saturday
    ]
    for spent_at, amount, category in rows:
        alice.post(
            "/api/v1/spendings", json=spending(spent_at=spent_at, amount=amount, category=category)
        )
    alice.post("/api/v1/spendings", json=spending(amount=9, category="income", direction="in"))
    result = alice.get("/api/v1/analysis").json
    assert result["month"] == "2024-02"  # the latest spending's month
    assert len(result["monthly"]) == 12 and result["monthly"][-1] == {
        "month": "2024-02",
        "spent": 200_000,
        "count": 3,
    }
    assert result["monthly"][-2]["spent"] == 100_000
    assert [c["category"] for c in result["categories"]] == ["food", "shopping", "coffee"]
    assert result["categories"][0]["share"] == pytest.approx(0.45)
    weekdays = {w["label"]: w["spent"] for w in result["weekdays"]}
    assert weekdays == {
        "월": 120_000,
        "화": 0,
        "수": 100_000,
        "목": 0,
        "금": 0,
        "토": 80_000,
        "일": 0,
    }
    hours = {h["hour"]: h["count"] for h in result["hours"] if h["count"]}
    assert hours == {8: 1, 12: 2, 19: 1}
    assert result["change"]["vs_previous_month_pct"] == 100.0
    assert result["insights"]
    january = alice.get("/api/v1/analysis?month=2024-01").json
    assert january["month"] == "2024-01" and january["monthly"][-1]["spent"] == 100_000


def test_analysis_of_a_user_without_spendings(bob):
    result = bob.get("/api/v1/analysis").json
    assert result["categories"] == [] and result["change"]["vs_previous_month_pct"] is None


def test_type_without_a_model_is_not_enough_data(alice):
    response = alice.get("/api/v1/type")
    assert response.status_code == 200
    assert response.json["status"] == "not_enough_data"
    assert "no spending type model" in response.json["reason"]


@pytest.fixture
def typed_app(app_config, tmp_path):
    """An app whose MONILAB_TYPE_MODEL is a joblib artifact written here."""
    path = tmp_path / "type-model.joblib"
    joblib.dump(TinyTypeModel(), path)
    application = create_app({**app_config, "MONILAB_TYPE_MODEL": str(path)})
    yield application
    application.extensions["monilab"].db.dispose()


def test_type_is_served_from_the_model_artifact(typed_app):
    from moni_helpers import sign_up

    user = sign_up(typed_app.test_client())
    user.post("/api/v1/spendings", json=spending(category="coffee"))
    too_few = user.get("/api/v1/type").json
    assert too_few["status"] == "not_enough_data" and too_few["min_spendings"] == 3
    for _ in range(3):
        user.post("/api/v1/spendings", json=spending(category="coffee"))
    answer = user.get("/api/v1/type").json
    assert answer["status"] == "ok" and answer["type"] == "yolo"
    assert answer["name"] == "YOLO형" and answer["spendings"] == 4
    assert user.get("/api/v1/profile").json["spending_type"] == "yolo"


def test_a_missing_or_bad_artifact_is_reported(app_config, tmp_path, caplog):
    with pytest.raises(FileNotFoundError):
        create_app({**app_config, "MONILAB_TYPE_MODEL": str(tmp_path / "nope.joblib")})
    junk = tmp_path / "junk.joblib"
    junk.write_bytes(b"not a pickle")
    model, reason = TypeModelSlot(junk).get()
    assert model is None and "could not be loaded" in reason
    joblib.dump(BrokenModel(), tmp_path / "broken.joblib")
    model, reason = TypeModelSlot(tmp_path / "broken.joblib").get()
    assert reason is None and model.predict_user(pd.DataFrame()) == "millionaire"
