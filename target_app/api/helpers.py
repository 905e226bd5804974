"""Request parsing shared by the API views: JSON bodies and query strings through specs."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from target_app.errors import BadRequest
from target_app.validation import Spec


def json_body() -> Any:
    """The decoded JSON body (an empty body is ``{}``); 400 when it is not JSON."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest("request body is not valid JSON", "body") from None


def body(spec: Spec, *, partial: bool = False) -> dict[str, Any]:
    """The JSON body validated by ``spec``."""
    return spec.parse(json_body(), partial=partial)


def query(spec: Spec) -> dict[str, Any]:
    """The query string validated by ``spec``."""
    return spec.parse(request.args, mode="query")
