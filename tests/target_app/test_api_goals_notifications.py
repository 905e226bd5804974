"""API: goals and notifications (the daily anomaly alert, once per user and day)."""

from __future__ import annotations

from moni_helpers import spending
from sqlalchemy import func, select

from target_app.models import Notification


def test_goals_create_list_update(alice):
    created = alice.post(
        "/api/v1/goals", json={"title": "오천만원 모으기", "target_amount": 50_000_000}
    )
    assert created.status_code == 201
    goal = created.json
    assert goal["deadline"] is None and goal["achieved"] is False and goal["progress"] == 0
    updated = alice.patch(
        f"/api/v1/goals/{goal['id']}", json={"deadline": "2026-12-31", "achieved": True}
    )
    assert updated.status_code == 200
    assert updated.json["deadline"] == "2026-12-31" and updated.json["achieved"] is True
    assert alice.get("/api/v1/goals").json["items"] == [updated.json]
    cleared = alice.patch(f"/api/v1/goals/{goal['id']}", json={"deadline": None})
    assert cleared.json["deadline"] is None


def test_goal_progress_uses_total_assets(alice):
    alice.post("/api/v1/mydata/start", json={"opening_balance": 2_500_000})
    goal = alice.post("/api/v1/goals", json={"title": "천만원", "target_amount": 10_000_000}).json
    assert goal["progress"] == 0.25


def test_goals_of_another_user_are_404(alice, bob):
    goal = alice.post("/api/v1/goals", json={"title": "t", "target_amount": 1}).json
    assert bob.patch(f"/api/v1/goals/{goal['id']}", json={"title": "mine"}).status_code == 404
    assert bob.get("/api/v1/goals").json == {"items": []}
    assert alice.get("/api/v1/goals").json["items"][0]["title"] == "t"


def _history(user, days: int, amount: int = 10_000) -> None:
    for day in range(1, days + 1):
        user.post(
            "/api/v1/spendings",
            json=spending(spent_at=f"2024-03-{day:02d}T12:00:00+09:00", amount=amount),
        )


def test_anomaly_alert_is_sent_once_a_day(app, alice):
    _history(alice, 10)  # a steady 10,000 KRW of food a day from 1 to 10 March
    alice.post(
        "/api/v1/spendings", json=spending(spent_at="2024-03-11T20:00:00+09:00", amount=95_000)
    )
    alice.post("/api/v1/spendings", json=spending(spent_at="2024-03-12T09:00:00+09:00", amount=5))
    first = alice.get("/api/v1/notifications").json["items"]
    assert len(first) == 1
    alert = first[0]
    assert alert["day"] == "2024-03-11" and alert["kind"] == "anomaly" and alert["read"] is False
    assert alert["message"] == "어제 식비에서 85,000원만큼 과소비가 발생했어요 T.T"
    assert alice.get("/api/v1/notifications").json["items"] == first  # not twice
    with app.extensions["monilab"].db.read() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 1


def test_a_quiet_day_gets_the_no_anomaly_message(alice):
    _history(alice, 6)
    alice.post("/api/v1/spendings", json=spending(spent_at="2024-03-07T09:00:00+09:00", amount=5))
    (alert,) = alice.get("/api/v1/notifications").json["items"]
    assert (
        alert["day"] == "2024-03-06" and alert["message"] == "어제는 충동적인 소비가 없었어요 >,<!"
    )


def test_mark_read_and_cross_user_404(alice, bob):
    _history(alice, 2)
    (alert,) = alice.get("/api/v1/notifications").json["items"]
    assert bob.post(f"/api/v1/notifications/{alert['id']}/read").status_code == 404
    read = alice.post(f"/api/v1/notifications/{alert['id']}/read")
    assert read.status_code == 200 and read.json["read"] is True and read.json["read_at"]
    assert alice.post(f"/api/v1/notifications/{alert['id']}/read").json == read.json
    assert alice.get("/api/v1/notifications?unread=true").json == {"items": []}
    assert bob.get("/api/v1/notifications").json == {"items": []}
