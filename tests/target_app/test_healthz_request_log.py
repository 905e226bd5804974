"""``/healthz?request_log=1`` tells a caller on this machine where the request log is, and
nobody else."""

from __future__ import annotations

from pathlib import Path

import pytest

from target_app import create_app

ASK = "/healthz?request_log=1"


def _health(client, address: str, path: str = ASK, **headers: str) -> dict:
    response = client.get(path, environ_base={"REMOTE_ADDR": address}, headers=headers)
    assert response.status_code == 200
    return response.json


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_a_loopback_caller_that_asks_learns_the_log_dir(app, client, address):
    answer = _health(client, address)
    expected = Path(app.config["REQUEST_LOG_DIR"]).resolve()
    assert answer == {"status": "ok", "database": "ok", "request_log": str(expected)}
    assert Path(answer["request_log"]).is_absolute()


@pytest.mark.parametrize("address", ["10.0.0.5", "192.168.1.20", "2001:db8::1", "::ffff:10.0.0.1"])
def test_a_remote_caller_never_sees_a_path(client, address):
    assert _health(client, address) == {"status": "ok", "database": "ok"}


def test_the_plain_health_check_is_unchanged(client):
    assert _health(client, "127.0.0.1", "/healthz") == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-Ip"])
def test_a_request_through_a_local_proxy_never_sees_a_path(client, header):
    answer = _health(client, "127.0.0.1", **{header: "203.0.113.9"})
    assert "request_log" not in answer


def test_nothing_is_said_when_the_log_is_off(app_config):
    app = create_app(app_config | {"REQUEST_LOG_DIR": None})
    try:
        assert "request_log" not in _health(app.test_client(), "127.0.0.1")
    finally:
        app.extensions["monilab"].db.dispose()
