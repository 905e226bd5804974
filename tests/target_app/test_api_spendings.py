"""API: spendings (idempotent create, batch, list, one), including concurrent retries."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from moni_helpers import spending
from sqlalchemy import func, select

from target_app.models import Spending
from target_app.services import spendings


def stored_count(app, **where) -> int:
    with app.extensions["monilab"].db.read() as session:
        query = select(func.count()).select_from(Spending).filter_by(**where)
        return session.scalar(query)


def test_create_then_replay_is_stored_once(app, alice):
    body = spending(client_txn_id="txn-1", memo="점심")
    first = alice.post("/api/v1/spendings", json=body)
    again = alice.post("/api/v1/spendings", json=body)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json == again.json
    assert first.json["spent_at"] == "2024-01-03T12:07:00+09:00"
    assert first.json["direction"] == "out" and first.json["method"] == "card"
    assert stored_count(app, client_txn_id="txn-1") == 1


def test_reusing_a_client_txn_id_for_other_fields_is_a_conflict(alice):
    alice.post("/api/v1/spendings", json=spending(client_txn_id="txn-2"))
    response = alice.post("/api/v1/spendings", json=spending(client_txn_id="txn-2", amount=1))
    assert response.status_code == 409 and response.json["field"] == "client_txn_id"


def test_same_client_txn_id_of_two_users_is_two_spendings(app, alice, bob):
    assert alice.post("/api/v1/spendings", json=spending(client_txn_id="same")).status_code == 201
    assert bob.post("/api/v1/spendings", json=spending(client_txn_id="same")).status_code == 201
    assert stored_count(app, client_txn_id="same") == 2


def test_offset_times_are_stored_as_korean_local_time(alice):
    response = alice.post("/api/v1/spendings", json=spending(spent_at="2024-01-03T03:07:00Z"))
    assert response.json["spent_at"] == "2024-01-03T12:07:00+09:00"
    naive = alice.post("/api/v1/spendings", json=spending(spent_at="2024-01-03T12:07"))
    assert naive.json["spent_at"] == "2024-01-03T12:07:00+09:00"


def test_concurrent_identical_posts_store_one_row(app, alice):
    body = spending(client_txn_id="race-1")
    barrier = threading.Barrier(8)

    def post(_: int):
        client = app.test_client()
        barrier.wait()
        return client.post("/api/v1/spendings", json=body, headers=alice.headers)

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(post, range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 7 + [201]
    assert len({r.get_data() for r in responses}) == 1  # every answer is the stored row
    assert stored_count(app, client_txn_id="race-1") == 1


def test_a_lost_insert_race_is_answered_with_the_stored_row(app, alice, monkeypatch):
    """The IntegrityError path: the lookup missed a row another request just committed."""
    db = app.extensions["monilab"].db
    data = spendings.SPENDING.parse(spending(client_txn_id="race-2"))
    with db.write() as session:
        stored, created = spendings.create(session, alice.id, data)
    assert created
    real = spendings.stored_by_txn
    calls = []

    def blind_first(connection, user_id, ids):
        calls.append(ids)
        return {} if len(calls) == 1 else real(connection, user_id, ids)

    monkeypatch.setattr(spendings, "stored_by_txn", blind_first)
    with db.write() as session:
        row, created = spendings.create(session, alice.id, data)
    assert not created and row.id == stored.id and len(calls) == 2
    assert stored_count(app, client_txn_id="race-2") == 1


def test_batch_is_atomic_and_idempotent(app, alice):
    items = [spending(client_txn_id=f"b-{i}", amount=1000 + i) for i in range(5)]
    first = alice.post("/api/v1/spendings/batch", json={"items": items})
    assert first.status_code == 201
    assert first.json["created"] == 5 and first.json["replayed"] == 0
    assert [item["status"] for item in first.json["items"]] == [201] * 5
    again = alice.post("/api/v1/spendings/batch", json={"items": items})
    assert again.status_code == 200 and again.json["replayed"] == 5
    assert [i["spending"] for i in again.json["items"]] == [
        i["spending"] for i in first.json["items"]
    ]
    mixed = alice.post(
        "/api/v1/spendings/batch", json={"items": [*items[:2], spending(client_txn_id="b-new")]}
    )
    assert mixed.status_code == 201 and mixed.json["created"] == 1
    assert stored_count(app, user_id=alice.id) == 6


def test_batch_with_one_bad_item_stores_nothing(app, alice):
    items = [spending(), spending(amount=0), spending()]
    response = alice.post("/api/v1/spendings/batch", json={"items": items})
    assert response.status_code == 422
    assert response.json["field"] == "items[1].amount"
    assert stored_count(app, user_id=alice.id) == 0


def test_batch_repeating_an_id_stores_it_once(app, alice):
    item = spending(client_txn_id="dup")
    response = alice.post("/api/v1/spendings/batch", json={"items": [item, item]})
    assert response.status_code == 201
    assert [i["status"] for i in response.json["items"]] == [201, 200]
    assert stored_count(app, client_txn_id="dup") == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "items"),
        ({"items": []}, "items"),
        ({"items": "x"}, "items"),
        ({"items": [spending()] * (spendings.MAX_BATCH + 1)}, "items"),
        ({"items": [spending()], "extra": 1}, "extra"),
    ],
)
def test_bad_batches_are_refused_naming_the_field(alice, payload, field):
    response = alice.post("/api/v1/spendings/batch", json=payload)
    assert response.status_code == 422 and response.json["field"] == field


def test_list_filters_and_paginates(alice):
    days = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-02-01"]
    for i, day in enumerate(days):
        category = "coffee" if i % 2 else "food"
        alice.post(
            "/api/v1/spendings",
            json=spending(spent_at=f"{day}T09:00:00+09:00", category=category, amount=100 + i),
        )
    everything = alice.get("/api/v1/spendings").json
    assert everything["total"] == 4 and everything["limit"] == 50 and everything["offset"] == 0
    assert [s["amount"] for s in everything["items"]] == [103, 102, 101, 100]  # newest first
    january = alice.get("/api/v1/spendings?from=2024-01-02&to=2024-01-31").json
    assert [s["amount"] for s in january["items"]] == [102, 101]
    coffee = alice.get("/api/v1/spendings?category=coffee").json
    assert {s["category"] for s in coffee["items"]} == {"coffee"} and coffee["total"] == 2
    page = alice.get("/api/v1/spendings?limit=1&offset=1").json
    assert page["total"] == 4 and [s["amount"] for s in page["items"]] == [102]


def test_get_one_and_cross_user_access_is_404(alice, bob):
    created = alice.post("/api/v1/spendings", json=spending()).json
    assert alice.get(f"/api/v1/spendings/{created['id']}").json == created
    stolen = bob.get(f"/api/v1/spendings/{created['id']}")
    missing = alice.get("/api/v1/spendings/999999")
    assert stolen.status_code == missing.status_code == 404
    assert bob.get("/api/v1/spendings").json["total"] == 0
