"""API: sign-up, login, logout, password change, and token authentication."""

from __future__ import annotations

from moni_helpers import PASSWORD, sign_up

from target_app import create_app


def test_signup_returns_token_and_stores_lab_fields(client):
    response = client.post(
        "/api/v1/auth/signup",
        json={
            "email": "Kim@Example.com",
            "password": PASSWORD,
            "name": "김모니",
            "persona": "yolo_30s",
            "agent_id": "agent-7",
            "age": 31,
            "gender": "f",
            "monthly_income": 3_200_000,
        },
        headers={"X-Run-Id": "run-1"},
    )
    assert response.status_code == 201
    body = response.json
    assert body["token_type"] == "Bearer" and len(body["token"]) > 20
    assert body["user"]["email"] == "kim@example.com"
    assert body["user"]["persona"] == "yolo_30s"
    assert body["user"]["agent_id"] == "agent-7"
    assert "password_hash" not in body["user"]


def test_signup_twice_is_a_conflict_on_email(client, alice):
    response = client.post(
        "/api/v1/auth/signup", json={"email": alice.email, "password": PASSWORD, "name": "x"}
    )
    assert response.status_code == 409
    assert response.json["field"] == "email"


def test_login_gives_a_working_token(client, alice):
    response = client.post("/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD})
    assert response.status_code == 200
    token = response.json["token"]
    assert token != alice.token
    profile = client.get("/api/v1/profile", headers={"Authorization": f"Bearer {token}"})
    assert profile.status_code == 200 and profile.json["id"] == alice.id


def test_login_with_wrong_password_or_unknown_email_is_401(client, alice):
    wrong = client.post("/api/v1/auth/login", json={"email": alice.email, "password": "nope"})
    unknown = client.post("/api/v1/auth/login", json={"email": "x@y.z", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json  # no hint whether the email exists


def test_logout_revokes_the_token(alice):
    assert alice.post("/api/v1/auth/logout").status_code == 204
    assert alice.get("/api/v1/profile").status_code == 401


def test_a_token_revoked_on_one_worker_is_refused_by_another(app_config, alice):
    """Two app instances on one database stand for two server processes (no token cache)."""
    other = create_app({**app_config, "CREATE_TABLES": False})
    try:
        second = other.test_client()
        headers = alice.headers
        assert second.get("/api/v1/type", headers=headers).status_code == 200  # seen, then...
        assert alice.post("/api/v1/auth/logout").status_code == 204  # ...revoked on the first
        refused = second.get("/api/v1/type", headers=headers)
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
        assert alice.get("/api/v1/type").status_code == 401
    finally:
        other.extensions["monilab"].db.dispose()


def test_profile_is_loaded_for_the_token_owner_only(client, alice, bob):
    assert alice.get("/api/v1/profile").json["id"] == alice.id
    assert bob.get("/api/v1/profile").json["id"] == bob.id
    bad = client.get("/api/v1/profile", headers={"Authorization": f"Bearer {alice.token}x"})
    assert bad.status_code == 401


def test_every_protected_route_needs_a_token(client):
    protected = [
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/mydata/start"),
        ("POST", "/api/v1/spendings"),
        ("POST", "/api/v1/spendings/batch"),
        ("GET", "/api/v1/spendings"),
        ("GET", "/api/v1/spendings/1"),
        ("GET", "/api/v1/analysis"),
        ("GET", "/api/v1/type"),
        ("GET", "/api/v1/assets"),
        ("GET", "/api/v1/goals"),
        ("POST", "/api/v1/goals"),
        ("PATCH", "/api/v1/goals/1"),
        ("GET", "/api/v1/notifications"),
        ("POST", "/api/v1/notifications/1/read"),
        ("GET", "/api/v1/profile"),
        ("PATCH", "/api/v1/profile"),
        ("POST", "/api/v1/profile/password"),
    ]
    for method, path in protected:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
            response = client.open(path, method=method, json={}, headers=headers)
            assert response.status_code == 401, (method, path, headers)
            assert response.json["error"]
            assert response.headers["WWW-Authenticate"] == "Bearer"


def test_password_change_needs_the_current_password(client, alice):
    wrong = alice.post(
        "/api/v1/profile/password", json={"current_password": "nope", "new_password": "abcdefgh1"}
    )
    assert wrong.status_code == 403 and wrong.json["field"] == "current_password"
    ok = alice.post(
        "/api/v1/profile/password", json={"current_password": PASSWORD, "new_password": "abcdefgh1"}
    )
    assert ok.status_code == 204
    old = client.post("/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD})
    new = client.post("/api/v1/auth/login", json={"email": alice.email, "password": "abcdefgh1"})
    assert old.status_code == 401 and new.status_code == 200


def test_profile_get_and_edit(client, alice):
    response = alice.patch(
        "/api/v1/profile", json={"name": "앨리스", "region": "서울", "age": 29, "gender": None}
    )
    assert response.status_code == 200
    assert response.json["name"] == "앨리스" and response.json["region"] == "서울"
    assert alice.get("/api/v1/profile").json["age"] == 29
    other = sign_up(client, "carol")
    taken = alice.patch("/api/v1/profile", json={"email": other.email})
    assert taken.status_code == 409 and taken.json["field"] == "email"
