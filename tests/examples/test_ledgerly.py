"""Ledgerly, the example app in ``examples/ledgerly``: the behaviour its target file relies on.

Cookie sessions, CSRF tokens, idempotent transfers, paging and JSON errors through Flask's
test client (fast, no network), the HTML forms, and one run of the real gunicorn server
over HTTP (``integration``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from examples.ledgerly import create_app
from sim.targets.spec import load_target

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "password-1"
BODY = {"amount": 1200, "category": "food", "merchant": "Cafe", "at": "2024-03-05T12:30:00"}
CSRF_IN_FORM = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(tmp_path / "ledgerly.sqlite3")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def register(client: FlaskClient, email: str = "ada@example.com") -> Any:
    return client.post("/register", json={"email": email, "password": PASSWORD, "name": "Ada"})


def log_in(client: FlaskClient, email: str = "ada@example.com") -> str:
    """Register (if needed) and log in; returns the CSRF token."""
    register(client, email)
    answer = client.post("/session", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.json
    return answer.json["csrf_token"]


def add(client: FlaskClient, token: str, key: str, body: dict[str, Any] = BODY) -> Any:
    headers = {"X-CSRF-Token": token, "Idempotency-Key": key}
    return client.post("/transfers", json=body, headers=headers)


def test_health(client: FlaskClient) -> None:
    answer = client.get("/health")
    assert (answer.status_code, answer.json) == (200, {"status": "ok"})


def test_register_log_in_and_log_out(client: FlaskClient) -> None:
    created = register(client, "Ada@Example.com")
    assert created.status_code == 201
    assert created.json == {"user": {"id": 1, "email": "ada@example.com", "name": "Ada"}}
    assert register(client, "ada@example.com").status_code == 409

    token = log_in(client)
    assert client.get("/me").json == {"user": created.json["user"]}
    assert client.get("/csrf").json == {"csrf_token": token}
    assert client.delete("/session", headers={"X-CSRF-Token": token}).status_code == 204
    assert client.get("/me").status_code == 401


def test_wrong_password_is_401(client: FlaskClient) -> None:
    register(client)
    answer = client.post("/session", json={"email": "ada@example.com", "password": "nope-nope"})
    assert answer.status_code == 401
    assert "error" in answer.json


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/transfers"), ("POST", "/transfers"), ("GET", "/balance"), ("GET", "/me")],
)
def test_no_session_is_401_json(client: FlaskClient, method: str, path: str) -> None:
    answer = client.open(path, method=method, json=BODY, headers={"Idempotency-Key": "k"})
    assert answer.status_code == 401
    assert answer.is_json and "error" in answer.json


def test_writes_need_the_csrf_token(client: FlaskClient) -> None:
    token = log_in(client)
    missing = client.post("/transfers", json=BODY, headers={"Idempotency-Key": "k1"})
    assert (missing.status_code, missing.json) == (403, {"error": "CSRF token missing or wrong"})
    assert add(client, "wrong", "k1").status_code == 403
    assert client.delete("/session").status_code == 403
    assert add(client, token, "k1").status_code == 201


def test_a_new_login_gets_a_new_token(client: FlaskClient) -> None:
    first = log_in(client)
    second = log_in(client)
    assert first != second
    assert add(client, first, "k").status_code == 403


def test_idempotency_key(client: FlaskClient) -> None:
    token = log_in(client)
    first = add(client, token, "txn-1")
    assert first.status_code == 201
    assert first.json == {"id": 1, "reference": "txn-1", **BODY}
    replay = add(client, token, "txn-1")
    assert (replay.status_code, replay.json) == (200, first.json)
    assert add(client, token, "txn-1", {**BODY, "amount": 1300}).status_code == 409
    assert client.get("/transfers").json["total"] == 1

    no_key = client.post("/transfers", json=BODY, headers={"X-CSRF-Token": token})
    assert no_key.status_code == 400 and "Idempotency-Key" in no_key.json["error"]
    assert add(client, token, "x" * 129).status_code == 400


def test_keys_belong_to_one_user(client: FlaskClient, app: Flask) -> None:
    assert add(client, log_in(client), "shared").status_code == 201
    other = app.test_client()
    assert add(other, log_in(other, "bob@example.com"), "shared").status_code == 201


def test_paging_month_filter_and_balance(client: FlaskClient) -> None:
    token = log_in(client)
    stamps = ["2024-02-28T09:00:00", "2024-03-01T08:00:00", "2024-03-15T20:00:00",
              "2024-03-15T20:00:00", "2024-04-01T00:00:00"]  # fmt: skip
    for i, at in enumerate(stamps):
        assert add(client, token, f"k{i}", {**BODY, "amount": i + 1, "at": at}).status_code == 201

    page = client.get("/transfers?limit=2").json
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 0)
    assert [item["reference"] for item in page["items"]] == ["k4", "k3"]
    rest = client.get("/transfers?limit=2&offset=2").json["items"]
    assert [item["reference"] for item in rest] == ["k2", "k1"]
    assert [i["reference"] for i in client.get("/transfers?offset=4").json["items"]] == ["k0"]

    march = client.get("/transfers?month=2024-03").json
    assert march["total"] == 3
    assert {item["reference"] for item in march["items"]} == {"k1", "k2", "k3"}
    assert client.get("/transfers?month=2024-12").json["total"] == 0
    assert client.get("/balance").json == {"spent": 15, "transfers": 5}


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "offset=-1", "month=2024-13"])
def test_bad_list_query_is_422(client: FlaskClient, query: str) -> None:
    log_in(client)
    assert client.get(f"/transfers?{query}").status_code == 422


@pytest.mark.parametrize(
    "change",
    [{"amount": 0}, {"amount": 10**9 + 1}, {"amount": "12"}, {"amount": True}, {"amount": 1.5},
     {"category": None}, {"category": ""}, {"category": 3}, {"merchant": 5},
     {"at": "yesterday"}, {"at": None}],
)  # fmt: skip
def test_bad_transfer_fields_are_422(client: FlaskClient, change: dict[str, Any]) -> None:
    answer = add(client, log_in(client), "k", {**BODY, **change})
    assert answer.status_code == 422
    assert answer.is_json and answer.json["error"]


@pytest.mark.parametrize(
    "body",
    [{"email": "not-an-email", "password": PASSWORD}, {"email": "a@b.co", "password": "short"},
     {"email": "a@b.co"}, {"password": PASSWORD}, {"email": "a@b.co", "password": 12345678}],
)  # fmt: skip
def test_bad_registration_is_422(client: FlaskClient, body: dict[str, Any]) -> None:
    assert client.post("/register", json=body).status_code == 422


def test_bodies_that_are_not_json_objects_are_400(client: FlaskClient) -> None:
    for data in ("{not json", "[1, 2]", "", "[" * 100_000, b"\xff\xfe"):
        answer = client.post("/register", data=data, content_type="application/json")
        assert answer.status_code == 400
        assert answer.is_json and answer.json["error"]


def test_an_over_large_body_is_413_json(client: FlaskClient) -> None:
    big = '{"email": "' + "a" * (1024 * 1024) + '"}'
    answer = client.post("/register", data=big, content_type="application/json")
    assert answer.status_code == 413
    assert answer.is_json and answer.json["error"]


def test_unknown_paths_and_methods_answer_json(client: FlaskClient) -> None:
    assert client.get("/nowhere").json["error"]
    assert client.put("/health").status_code == 405


def form_token(html: str) -> str:
    match = CSRF_IN_FORM.search(html)
    assert match, "no csrf_token in the form"
    return match.group(1)


def test_html_login_and_a_new_transfer(client: FlaskClient) -> None:
    register(client)
    page = client.get("/login").get_data(as_text=True)
    assert '<form method="post"' in page and '<label for="email">' in page
    credentials = {"email": "ada@example.com", "password": PASSWORD}
    assert client.post("/login", data=credentials).status_code == 403
    logged_in = client.post("/login", data={**credentials, "csrf_token": form_token(page)})
    assert logged_in.status_code == 302 and logged_in.location.endswith("/home")

    form = client.get("/transfers/new").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert key and 'data-testid="transfer-form"' in form
    fields = {"amount": "4500", "category": "transport", "merchant": "Metro",
              "at": "2024-03-02T08:15", "idempotency_key": key.group(1)}  # fmt: skip
    forbidden = client.post("/transfers/new", data=fields)
    assert forbidden.status_code == 403 and "CSRF" in forbidden.get_data(as_text=True)
    saved = client.post("/transfers/new", data={**fields, "csrf_token": form_token(form)})
    assert saved.status_code == 302 and saved.location.endswith("/home")
    again = client.post("/transfers/new", data={**fields, "csrf_token": form_token(form)})
    assert again.status_code == 302  # the same form twice: one transfer

    home = client.get("/home").get_data(as_text=True)
    assert 'data-testid="flash">saved<' in home and "Metro" in home
    listed = client.get("/transfers").json
    assert listed["total"] == 1
    assert listed["items"][0]["merchant"] == "Metro"
    assert listed["items"][0]["at"] == "2024-03-02T08:15:00"


def test_html_logout_needs_the_token(client: FlaskClient) -> None:
    log_in(client)
    home = client.get("/home").get_data(as_text=True)
    assert client.post("/logout").status_code == 403
    out = client.post("/logout", data={"csrf_token": form_token(home)})
    assert out.status_code == 302 and out.location.endswith("/login")
    assert client.get("/home").status_code == 302


def test_the_target_file_loads() -> None:
    target = load_target(ROOT / "examples" / "ledgerly" / "target.toml")
    assert target.name == "ledgerly" and target.session.style == "cookie"
    assert target.action("add_spending").idempotency_header == "Idempotency-Key"
    assert target.readback is not None


@pytest.mark.integration
def test_the_real_server_over_http(server: str) -> None:
    http = requests.Session()
    body = {"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}
    assert http.post(f"{server}/register", json=body, timeout=10).status_code == 201
    login = http.post(f"{server}/session", json=body, timeout=10)
    assert login.status_code == 200 and "ledgerly_session" in http.cookies
    headers = {"X-CSRF-Token": login.json()["csrf_token"], "Idempotency-Key": "txn-1"}
    first = http.post(f"{server}/transfers", json=BODY, headers=headers, timeout=10)
    assert first.status_code == 201, first.text
    replay = http.post(f"{server}/transfers", json=BODY, headers=headers, timeout=10)
    assert replay.status_code == 200
    for _ in range(6):  # new connections land on either worker: the secret is shared
        listed = requests.get(f"{server}/transfers", cookies=http.cookies, timeout=10)
        assert listed.status_code == 200 and listed.json()["total"] == 1
