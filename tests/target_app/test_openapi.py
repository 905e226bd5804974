"""The OpenAPI document: valid, and it lists every API route the app serves."""

from __future__ import annotations

import re

import schemathesis


def _app_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule == "/healthz":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_document_lists_exactly_the_app_routes(app, client):
    document = client.get("/api/v1/openapi.json").json
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented == _app_routes(app)


def test_document_is_a_valid_openapi_3_schema(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = {result.ok().label for result in schema.get_all_operations()}
    expected = {f"{m.upper()} {p}" for m, p in _app_routes(app)} - {"GET /api/v1/openapi.json"}
    assert operations == expected  # schemathesis leaves out the document's own path


def test_secured_operations_declare_401_and_bearer_auth(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            public = operation.get("security") == []
            assert public or "401" in operation["responses"], (method, path)
            if "requestBody" in operation:
                assert "422" in operation["responses"] and "400" in operation["responses"]


def test_each_path_is_described_by_one_api_area():
    from target_app.openapi import _AREAS

    paths = [path for area in _AREAS for path in area()]
    assert len(paths) == len(set(paths))
