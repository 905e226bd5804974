"""API: bad input is a 4xx JSON answer naming the field, never a 500."""

from __future__ import annotations

import pytest
from moni_helpers import spending

from target_app.config import MAX_REQUEST_BYTES


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"amount": "1000"}, "amount", 422),
        ({"amount": True}, "amount", 422),
        ({"amount": 1.5}, "amount", 422),
        ({"amount": 0}, "amount", 422),
        ({"amount": -5}, "amount", 422),
        ({"amount": 10**30}, "amount", 422),
        ({"amount": None}, "amount", 422),
        ({"category": "champagne"}, "category", 422),
        ({"direction": "sideways"}, "direction", 422),
        ({"method": "barter"}, "method", 422),
        ({"spent_at": "yesterday"}, "spent_at", 422),
        ({"spent_at": "2024-02-30T10:00:00+09:00"}, "spent_at", 422),
        ({"spent_at": "2024-01-01T25:00:00"}, "spent_at", 422),
        ({"spent_at": "1850-01-01T10:00:00"}, "spent_at", 422),
        ({"spent_at": 1704067200}, "spent_at", 422),
        ({"merchant": "x" * 101}, "merchant", 422),
        ({"memo": "nul\x00byte"}, "memo", 422),
        ({"client_txn_id": ""}, "client_txn_id", 422),
        ({"surprise": 1}, "surprise", 422),
    ],
)
def test_bad_spending_fields_are_named(alice, change, field, status):
    response = alice.post("/api/v1/spendings", json={**spending(), **change})
    assert response.status_code == status
    assert response.json["field"] == field
    assert field in response.json["error"]


@pytest.mark.parametrize("missing", ["spent_at", "amount", "category"])
def test_missing_required_fields_are_named(alice, missing):
    body = spending()
    del body[missing]
    response = alice.post("/api/v1/spendings", json=body)
    assert response.status_code == 422 and response.json["field"] == missing


@pytest.mark.parametrize(
    "raw", [b"{not json", b"[1, 2]", b'"text"', b"null", b"[" * 100_000, b"\xff\xfe"]
)
def test_malformed_bodies_are_400(alice, raw):
    response = alice.post(
        "/api/v1/spendings", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.is_json and response.json["error"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("from=2024-13-01", "from"),
        ("to=tomorrow", "to"),
        ("category=champagne", "category"),
    ],
)
def test_bad_query_values_are_named(alice, query, field):
    response = alice.get(f"/api/v1/spendings?{query}")
    assert response.status_code == 422 and response.json["field"] == field


def test_other_bad_inputs(client, alice):
    assert alice.get("/api/v1/analysis?month=2024-1").json["field"] == "month"
    assert alice.get("/api/v1/notifications?unread=maybe").json["field"] == "unread"
    signup = client.post("/api/v1/auth/signup", json={"email": "no-at-sign", "password": "x"})
    assert signup.status_code == 422 and signup.json["field"] == "email"
    short = client.post(
        "/api/v1/auth/signup", json={"email": "a@b.c", "password": "short", "name": "n"}
    )
    assert short.json["field"] == "password"
    goal = alice.post("/api/v1/goals", json={"title": "t", "target_amount": 1, "deadline": "soon"})
    assert goal.status_code == 422 and goal.json["field"] == "deadline"
    assert alice.patch("/api/v1/goals/1", json={"achieved": "yes"}).json["field"] == "achieved"
    mydata = alice.post("/api/v1/mydata/start", json={"opening_balance": -1})
    assert mydata.json["field"] == "opening_balance"


def test_huge_ids_in_paths_are_404(alice):
    for path in ("/api/v1/spendings/99999999999999999999", "/api/v1/spendings/2147483648"):
        response = alice.get(path)
        assert response.status_code == 404 and response.is_json
    assert alice.post("/api/v1/notifications/99999999999999999999/read").status_code == 404


def test_routing_errors_under_api_are_json(client, alice):
    unknown = client.get("/api/v1/nope")
    assert unknown.status_code == 404 and unknown.is_json and unknown.json["error"]
    wrong_method = client.delete("/api/v1/spendings")
    assert wrong_method.status_code == 405 and wrong_method.is_json
    assert "POST" in wrong_method.headers["Allow"]
    too_big = alice.post(
        "/api/v1/spendings", data=b"x" * (MAX_REQUEST_BYTES + 1), content_type="application/json"
    )
    assert too_big.status_code == 413 and too_big.is_json


def test_unexpected_errors_are_json_500(app, alice, monkeypatch):
    from target_app.services import assets

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(assets, "summary", explode)
    response = alice.get("/api/v1/assets")
    assert response.status_code == 500
    assert response.json == {"error": "internal server error", "field": None}


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_a_dead_database(app, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from target_app.api import meta

    class DeadSession:
        def execute(self, *args, **kwargs):
            raise OperationalError("SELECT 1", {}, Exception("down"))

    monkeypatch.setattr(meta, "read_db", DeadSession)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "error"


def test_a_busy_database_is_503_with_retry_after(alice, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from target_app.services import spendings

    def locked(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(spendings, "store", locked)
    response = alice.post("/api/v1/spendings", json=spending())
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json["error"].startswith("the database is busy")
