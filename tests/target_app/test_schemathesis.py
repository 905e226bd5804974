"""Property-based run of the whole API from its OpenAPI document (schemathesis 4.x).

Every operation is called with generated valid and invalid inputs, authenticated as a
fresh user; every built-in check must pass: no 5xx, answers conform to the document
(status, content type, body schema), invalid input is refused, valid input accepted and
a missing token refused. The number of examples per operation is bounded to keep the
suite fast (``MONILAB_SCHEMATHESIS_EXAMPLES`` raises it).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from moni_helpers import sign_up
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from target_app.openapi import openapi_document

EXAMPLES = int(os.environ.get("MONILAB_SCHEMATHESIS_EXAMPLES", "20"))
PASSWORD_STRENGTH = {("POST", "/api/v1/auth/signup"), ("POST", "/api/v1/profile/password")}
"""Operations whose schema-valid passwords may still be refused as weak (422, documented):
JSON Schema cannot say "not a common password", so "valid data accepted" is not checked."""


class AppProxy:
    """A WSGI app that forwards to the current test's app (which depends on the database)."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict, start_response: Any) -> Any:
        return self.app(environ, start_response)


PROXY = AppProxy()
# The document is built without an app, so it loads at import; calls (and the checks'
# own probes) go through the proxy to the database-parametrized app. (The lazy
# ``schemathesis.pytest.from_fixture`` loader does not work with pytest 9.)
schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = PROXY


@pytest.fixture
def fuzz_headers(app) -> dict[str, str]:
    """Route the proxy to this test's app; the bearer header of a fresh user."""
    PROXY.app = app
    return sign_up(app.test_client(), "fuzz").headers


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case, fuzz_headers):
    # A case generated with negative headers is one whose bearer token was deliberately left
    # out: adding it back would turn the case valid and fail "negative data rejection".
    negative_headers = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    weak = (case.method.upper(), case.path) in PASSWORD_STRENGTH
    case.call_and_validate(
        headers=None if negative_headers else fuzz_headers,
        excluded_checks=[positive_data_acceptance] if weak else None,
    )
