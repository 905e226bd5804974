"""Helpers of the Moni app tests: API users, request bodies, CSRF tokens."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PASSWORD = "correct-horse-1"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class ApiUser:
    """A signed-up API user: its test client, bearer token and user id."""

    client: FlaskClient
    token: str
    id: int
    email: str

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        """A request with this user's token."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        """GET with the token."""
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        """POST with the token."""
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        """PATCH with the token."""
        return self.call("PATCH", path, **kwargs)


def sign_up(client: FlaskClient, name: str = "alice", **extra: Any) -> ApiUser:
    """Sign a user up through the API."""
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    response = client.post(
        "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "name": name, **extra}
    )
    assert response.status_code == 201, response.json
    return ApiUser(client, response.json["token"], response.json["user"]["id"], email)


def spending(**overrides: Any) -> dict[str, Any]:
    """A valid spending body (an override of None leaves the field out)."""
    body = {
        "spent_at": "2024-01-03T12:07:00+09:00",
        "amount": 41900,
        "category": "food",
        "merchant": "이자카야",
        "client_txn_id": uuid.uuid4().hex,
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def csrf_token(page: TestResponse) -> str:
    """The CSRF token of a rendered form."""
    match = _CSRF_RE.search(page.get_data(as_text=True))
    assert match, "no csrf_token field in the page"
    return match.group(1)
