"""``monilab target init``: a target file drafted from an OpenAPI document loads, and its
guesses find Moni's own operations and a Ledgerly-like app's (no network)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from monilab.cli.main import main
from monilab.contracts.errors import MonilabError
from sim.targets.openapi import draft_target, read_openapi, toml_value
from sim.targets.spec import TargetSpec, load_target
from target_app.openapi import openapi_document


def _draft(tmp_path: Path, document: dict[str, Any]) -> tuple[str, dict[str, Any], TargetSpec]:
    text = draft_target(document, "openapi.json")
    path = tmp_path / "draft.toml"
    path.write_text(text, encoding="utf-8")
    return text, tomllib.loads(text), load_target(path)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _answer(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "ok", **_json(schema)}


LEDGERLY: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Ledgerly", "version": "1"},
    "security": [{"session": []}],
    "paths": {
        "/health": {"get": {"security": [], "responses": {"200": {"description": "up"}}}},
        "/register": {
            "post": {
                "operationId": "register",
                "requestBody": {"$ref": "#/components/requestBodies/Credentials"},
                "responses": {"201": _answer(_ref("User")), "409": {"description": "taken"}},
            }
        },
        "/session": {
            "post": {
                "summary": "Log in",
                "requestBody": {"$ref": "#/components/requestBodies/Credentials"},
                "responses": {"200": _answer(_ref("Session"))},
            },
            "delete": {"summary": "Log out", "responses": {"204": {"description": "bye"}}},
        },
        "/transfers": {
            "post": {
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": _json(_ref("TransferInput")),
                "responses": {
                    "201": _answer(_ref("Transfer")),
                    "200": _answer(_ref("Transfer")),
                },
            },
            "get": {
                "parameters": [
                    {"name": "month", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"maximum": 500}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {"200": {"$ref": "#/components/responses/TransferPage"}},
            },
        },
        "/balance": {"get": {"responses": {"200": _answer({"type": "object"})}}},
    },
    "components": {
        "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"}},
        "parameters": {
            "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": True}
        },
        "requestBodies": {"Credentials": _json(_ref("Credentials"))},
        "responses": {"TransferPage": _answer(_ref("TransferPage"))},
        "schemas": {
            "Credentials": {
                "type": "object",
                "required": ["email", "password"],
                "properties": {"email": {}, "password": {}, "name": {}},
            },
            "User": {"type": "object", "properties": {"id": {}, "friend": _ref("User")}},
            "Session": {"type": "object", "properties": {"csrf_token": {"type": "string"}}},
            "TransferInput": {
                "type": "object",
                "required": ["amount", "at", "currency"],
                "properties": {
                    "amount": {"type": "integer"},
                    "at": {"type": "string", "format": "date-time"},
                    "merchant": {"type": "string"},
                    "currency": {"type": "string"},
                },
            },
            "Transfer": {
                "allOf": [_ref("TransferInput"), {"properties": {"reference": {}}}],
            },
            "TransferPage": {
                "type": "object",
                "properties": {
                    "items": {"type": "array", "items": _ref("Transfer")},
                    "total": {"type": "integer"},
                },
            },
        },
    },
}


def test_the_draft_from_moni_finds_moni_s_operations(tmp_path: Path) -> None:
    text, data, spec = _draft(tmp_path, openapi_document())
    actions = data["actions"]
    assert "# GUESS:" in text and not spec.skip
    assert actions["signup"]["path"] == "/api/v1/auth/signup"
    assert actions["signup"]["exists"] == [409]
    assert actions["login"]["path"] == "/api/v1/auth/login"
    assert actions["login"]["capture"] == {"token": {"json": "/token"}}
    assert data["session"] == {"style": "bearer", "token": "token"}
    write = actions["add_spending"]
    assert (write["method"], write["path"]) == ("POST", "/api/v1/spendings")
    assert write["key"] == "{{ action.client_txn_id }}"
    assert write["json"]["client_txn_id"] == "{{ action.client_txn_id }}"
    assert actions["add_spendings"]["path"] == "/api/v1/spendings/batch"
    assert actions["add_spendings"]["json"] == {"items": "{{ batch }}"}
    history = actions["view_history"]
    assert (history["method"], history["path"]) == ("GET", "/api/v1/spendings")
    assert data["readback"]["items"] == "/items" and data["readback"]["total"] == "/total"
    assert data["target"] == {"name": "moni-api", "health": "/healthz", "batch_size": 500}


def test_the_draft_from_a_ledgerly_like_app(tmp_path: Path) -> None:
    text, data, spec = _draft(tmp_path, LEDGERLY)
    assert spec.session.style == "cookie" and spec.session.csrf_header == "X-CSRF-Token"
    assert data["actions"]["login"]["capture"] == {"csrf": {"json": "/csrf_token"}}
    assert spec.health == "/health"
    write = data["actions"]["add_spending"]
    assert write["idempotency_header"] == "Idempotency-Key" and write["path"] == "/transfers"
    assert write["json"]["at"] == "{{ with_offset(action.ts, '+09:00') }}"
    assert write["json"]["currency"] == "TODO" and "body currency: required" in text
    assert data["actions"]["logout"]["method"] == "DELETE"
    assert data["actions"]["view_assets"]["path"] == "/balance"
    assert data["readback"]["key"] == "{{ item.reference }}"
    assert data["readback"]["query"] == {"limit": 500, "offset": "{{ page.offset }}"}
    assert spec.skip == {
        "mydata_start", "add_spendings", "view_analysis", "view_type", "view_profile",
        "set_goal", "read_notifications",
    }  # fmt: skip
    assert "# no matching operation found" in text


def test_signup_and_login_get_placeholders_when_nothing_matches(tmp_path: Path) -> None:
    document = {"openapi": "3.1.0", "info": {"title": "Empty!"}, "paths": {}}
    text, data, spec = _draft(tmp_path, document)
    assert data["actions"]["signup"]["path"] == "/TODO-signup"
    assert data["actions"]["login"]["path"] == "/TODO-login"
    assert "# GUESS: nothing found, edit me" in text
    assert spec.session.style == "none" and spec.health is None and spec.readback is None


def test_toml_strings_are_escaped() -> None:
    tricky = 'a "quote" \\ back\nnew\x7f 한글'
    assert tomllib.loads(f"x = {toml_value(tricky)}")["x"] == tricky
    assert tomllib.loads(f"x = {toml_value({'a b': [1, True]})}")["x"] == {"a b": [1, True]}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ('{"swagger": "2.0", "paths": {}}', "Swagger 2"),
        ('{"openapi": "3.0.0"}', "no 'paths' object"),
        ("just: [a, yaml", "neither JSON nor YAML"),
    ],
)
def test_a_bad_document_is_refused_in_one_line(tmp_path: Path, content, problem) -> None:
    path = tmp_path / "api.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(MonilabError) as caught:
        read_openapi(str(path))
    assert str(caught.value).startswith(f"OpenAPI document {path}: ")
    assert problem in str(caught.value) and "\n" not in str(caught.value)


def test_yaml_documents_are_read(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / "api.yaml"
    path.write_text("openapi: 3.0.0\npaths:\n  /ping:\n    get: {}\n", encoding="utf-8")
    assert read_openapi(str(path))["paths"] == {"/ping": {"get": {}}}


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["target", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_target_init_writes_a_draft_that_loads(tmp_path: Path, capsys) -> None:
    source, out = tmp_path / "openapi.json", tmp_path / "moni.toml"
    source.write_text(json.dumps(openapi_document()), encoding="utf-8")
    code, stdout, _ = _cli(capsys, "init", "--openapi", str(source), "--out", str(out))
    assert code == 0 and f"wrote {out}" in stdout and "0 actions skipped" in stdout
    assert load_target(out).action("add_spending") is not None
    code, _, err = _cli(capsys, "init", "--openapi", str(source), "--out", str(out))
    assert code == 2 and len(err.splitlines()) == 1 and "--overwrite" in err
    code, stdout, _ = _cli(capsys, "init", "--openapi", str(source))
    assert code == 0 and stdout.startswith("# Target file drafted")


def test_target_command_mistakes_are_one_line(tmp_path: Path, capsys) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("{this is not json", encoding="utf-8")
    code, _, err = _cli(capsys, "init", "--openapi", str(text_file))
    assert code == 2 and len(err.splitlines()) == 1 and "not valid JSON" in err
    code, _, err = _cli(capsys, "check", "--target", "x.toml")
    assert (
        code == 2 and err.strip() == "monilab target: error: target check needs --target and --host"
    )
    code, _, err = _cli(capsys, "init")
    assert code == 2 and "target init needs --openapi" in err


def test_a_url_is_fetched_with_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    calls: list[tuple[str, float]] = []

    class Answer:
        status_code = 200
        text = json.dumps(LEDGERLY)

    def fake_get(url: str, timeout: float) -> Answer:
        calls.append((url, timeout))
        return Answer()

    monkeypatch.setattr(requests, "get", fake_get)
    assert read_openapi("http://app.test/openapi.json")["info"]["title"] == "Ledgerly"
    assert calls == [("http://app.test/openapi.json", 10.0)]
