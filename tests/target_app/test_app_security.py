"""Security hardening (issue 19): what a password change, a logout and a copied cookie can
still open, the headers on every answer, and the cookie flags for HTTPS."""

from __future__ import annotations

import json
import sqlite3
import statistics
import threading
import time

import pytest
import requests
from flask.testing import FlaskClient
from moni_helpers import PASSWORD, csrf_token, sign_up

from monilab.lab.appprocess import AppProcess
from target_app import create_app
from target_app.config import SESSION_LIFETIME
from target_app.errors import TooManyRequests
from target_app.throttle import HashSlots, LoginThrottle


def _page_login(client: FlaskClient, email: str) -> None:
    token = csrf_token(client.get("/login/"))
    done = client.post("/login/", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert done.status_code == 302, done.get_data(as_text=True)[:300]


def _copy_cookies(source: FlaskClient, target: FlaskClient) -> None:
    for cookie in source._cookies.values():  # the test client's cookie jar
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain)


def test_a_password_change_ends_every_other_token_and_page_session(app):
    alice = sign_up(app.test_client(), "alice")
    other = (
        app.test_client()
        .post("/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD})
        .json["token"]
    )
    page = app.test_client()
    _page_login(page, alice.email)
    assert page.get("/mypage/").status_code == 200

    change = {"current_password": PASSWORD, "new_password": "a-new-passphrase-9"}
    assert alice.post("/api/v1/profile/password", json=change).status_code == 204

    assert alice.get("/api/v1/profile").status_code == 200  # the token that asked stays
    stale = app.test_client().get("/api/v1/profile", headers={"Authorization": f"Bearer {other}"})
    assert stale.status_code == 401
    assert page.get("/mypage/").status_code == 302  # back to the login page


def test_a_copied_session_cookie_dies_with_the_logout(app):
    alice = sign_up(app.test_client(), "alice")
    page, thief = app.test_client(), app.test_client()
    _page_login(page, alice.email)
    _copy_cookies(page, thief)
    assert thief.get("/mypage/").status_code == 200
    token = csrf_token(page.get("/logout/"))
    assert page.post("/logout/", data={"csrf_token": token}).status_code == 302
    assert thief.get("/mypage/").status_code == 302


def test_a_page_password_change_keeps_this_session_only(app):
    alice = sign_up(app.test_client(), "alice")
    page, elsewhere = app.test_client(), app.test_client()
    _page_login(page, alice.email)
    _page_login(elsewhere, alice.email)
    token = csrf_token(page.get("/profile/edit/"))
    form = {
        "csrf_token": token,
        "name": "alice",
        "email": alice.email,
        "current_password": PASSWORD,
        "new_password": "a-new-passphrase-9",
    }
    assert page.post("/profile/edit/", data=form).status_code == 302
    assert page.get("/mypage/").status_code == 200
    assert elsewhere.get("/mypage/").status_code == 302
    assert alice.get("/api/v1/profile").status_code == 401  # no API token survives it


def test_page_sessions_are_bounded(app):
    alice = sign_up(app.test_client(), "alice")
    page = app.test_client()
    token = csrf_token(page.get("/login/"))
    done = page.post(
        "/login/", data={"csrf_token": token, "email": alice.email, "password": PASSWORD}
    )
    cookie = done.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.permanent_session_lifetime == SESSION_LIFETIME


@pytest.mark.parametrize("path", ["/login/", "/api/v1/healthz", "/healthz"])
def test_every_answer_has_the_security_headers(client, path):
    headers = client.get(path).headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_private_answers_are_not_stored(app, client):
    alice = sign_up(app.test_client(), "alice")
    assert alice.get("/api/v1/profile").headers["Cache-Control"] == "no-store"
    _page_login(client, alice.email)
    assert client.get("/mypage/").headers["Cache-Control"] == "no-store"


def test_secure_cookies_for_https(app_config, monkeypatch):
    monkeypatch.setenv("MONILAB_SECURE_COOKIES", "1")
    secure = create_app(app_config)
    page = secure.test_client()
    assert "Secure" in page.get("/login/").headers["Set-Cookie"]
    secure.extensions["monilab"].db.dispose()


def test_an_older_database_gets_the_session_version_column(app_config, tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(254) UNIQUE, "
            "name VARCHAR(50), password_hash VARCHAR(255), persona VARCHAR(64), "
            "agent_id VARCHAR(128), run_id VARCHAR(128), age SMALLINT, gender VARCHAR(1), "
            "occupation VARCHAR(64), region VARCHAR(64), monthly_income BIGINT, "
            "spending_type_code VARCHAR(32), created_at DATETIME)"
        )
    old = create_app({**app_config, "DATABASE_URL": f"sqlite:///{path}"})
    alice = sign_up(old.test_client(), "alice")
    assert alice.get("/api/v1/profile").status_code == 200
    old.extensions["monilab"].db.dispose()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("12345678", "most common passwords"),
        ("password", "most common passwords"),
        ("aaaaaaaa1", "at least 4 different characters"),
        ("weakling-2024", "must not contain your email or name"),
    ],
)
def test_weak_passwords_are_refused_with_a_clear_422(client, password, message):
    body = {"email": "weakling@example.com", "password": password, "name": "kim"}
    answer = client.post("/api/v1/auth/signup", json=body)
    assert answer.status_code == 422 and message in answer.json["error"]
    assert answer.json["field"] == "password"


def test_a_weak_new_password_is_refused(app):
    alice = sign_up(app.test_client(), "alice")
    change = {"current_password": PASSWORD, "new_password": "qwerty123"}
    answer = alice.post("/api/v1/profile/password", json=change)
    assert answer.status_code == 422 and answer.json["field"] == "new_password"


def _chunks(data: bytes, size: int = 65536):
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.integration
def test_a_chunked_body_over_the_limit_is_413_not_cut(tmp_path):
    items = [
        {"spent_at": "2024-01-03T12:07:00+09:00", "amount": 100, "category": "food",
         "merchant": "m", "client_txn_id": f"t{i}"}
        for i in range(20_000)
    ]  # fmt: skip
    big = json.dumps({"items": items}).encode()
    small = json.dumps({"items": items[:50]}).encode()
    assert len(big) > (1 << 20) > len(small)
    with AppProcess(tmp_path / "app", workers=1) as app:
        body = {"email": "chunky@example.com", "password": PASSWORD, "name": "c"}
        token = requests.post(f"{app.url}/api/v1/auth/signup", json=body, timeout=30).json()
        headers = {"Authorization": f"Bearer {token['token']}", "Content-Type": "application/json"}
        url = f"{app.url}/api/v1/spendings/batch"
        refused = requests.post(url, data=_chunks(big), headers=headers, timeout=60)
        assert refused.status_code == 413 and "larger than" in refused.json()["error"]
        stored = requests.post(url, data=_chunks(small), headers=headers, timeout=60)
        assert stored.status_code == 201 and stored.json()["created"] == 50
        listed = requests.get(f"{app.url}/api/v1/spendings", headers=headers, timeout=30).json()
        assert listed["total"] == 50  # nothing of the refused body was stored


def test_wrong_passwords_are_throttled_per_account_with_retry_after(app, client):
    alice = sign_up(app.test_client(), "alice")
    wrong = {"email": alice.email, "password": "not-the-password"}
    statuses = [client.post("/api/v1/auth/login", json=wrong).status_code for _ in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    refused = client.post("/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD})
    assert refused.status_code == 429  # even the right one waits: no guessing through it
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    assert "too many failed logins" in refused.json["error"]
    assert alice.get("/api/v1/profile").status_code == 200  # tokens already issued still work


def test_the_page_login_is_throttled_too(app, client):
    alice = sign_up(app.test_client(), "alice")
    for _ in range(10):
        token = csrf_token(client.get("/login/"))
        bad = {"csrf_token": token, "email": alice.email, "password": "not-the-password"}
        assert client.post("/login/", data=bad).status_code == 401
    token = csrf_token(client.get("/login/"))
    good = {"csrf_token": token, "email": alice.email, "password": PASSWORD}
    answer = client.post("/login/", data=good)
    assert answer.status_code == 429 and "Retry-After" in answer.headers


def test_the_throttle_window_slides_and_a_success_clears_it():
    now = [0.0]
    guard = LoginThrottle(per_account=2, per_address=5, window_s=60, clock=lambda: now[0])
    guard.failed("a@x.test", "1.2.3.4")
    guard.failed("A@x.test ", "1.2.3.4")  # the same account, however it is typed
    with pytest.raises(TooManyRequests) as caught:
        guard.check("a@x.test", "1.2.3.4")
    assert caught.value.retry_after == 61
    now[0] = 61.0
    guard.check("a@x.test", "1.2.3.4")  # the failures left the window
    guard.failed("a@x.test", "1.2.3.4")
    guard.succeeded("a@x.test")
    guard.check("a@x.test", "1.2.3.4")
    for n in range(5):
        guard.failed(f"u{n}@x.test", "9.9.9.9")
    with pytest.raises(TooManyRequests, match="this address"):
        guard.check("someone-new@x.test", "9.9.9.9")


def test_no_hashing_slot_in_time_is_a_429():
    slots = HashSlots(slots=1, wait_s=0.05)
    with slots.slot(), pytest.raises(TooManyRequests) as caught, slots.slot():
        pass
    assert caught.value.retry_after == 1
    with slots.slot():  # freed again
        pass


@pytest.mark.integration
def test_a_flood_of_wrong_logins_does_not_starve_a_signed_in_user(tmp_path):
    """16 threads of wrong logins (scrypt, the default hash) for 6 s; meanwhile a signed-in
    user's GET /api/v1/goals stays fast: median under 250 ms (it was 1.1 s before)."""
    with AppProcess(tmp_path / "app", workers=2, threads=4) as app:
        body = {"email": "victim@example.com", "password": PASSWORD, "name": "v"}
        token = requests.post(f"{app.url}/api/v1/auth/signup", json=body, timeout=30).json()
        headers = {"Authorization": f"Bearer {token['token']}"}
        stop = time.monotonic() + 6
        statuses: list[int] = []

        def flood() -> None:
            with requests.Session() as http:
                n = 0
                while time.monotonic() < stop:
                    n += 1
                    wrong = {
                        "email": f"guess{n}-{threading.get_ident()}@x.test",
                        "password": "nope-1234",
                    }
                    statuses.append(
                        http.post(
                            f"{app.url}/api/v1/auth/login", json=wrong, timeout=30
                        ).status_code
                    )

        threads = [threading.Thread(target=flood) for _ in range(16)]
        for thread in threads:
            thread.start()
        latencies = []
        with requests.Session() as http:
            while time.monotonic() < stop:
                started = time.monotonic()
                assert http.get(f"{app.url}/api/v1/goals", headers=headers, timeout=30).ok
                latencies.append(time.monotonic() - started)
                time.sleep(0.05)
        for thread in threads:
            thread.join()
    assert set(statuses) <= {401, 429} and statuses.count(429) > statuses.count(401)
    assert statistics.median(latencies) < 0.25, sorted(latencies)
