"""The OpenAPI 3.0 document of ``/api/v1`` (served at ``/api/v1/openapi.json``).

Request bodies and query parameters come from the same :class:`~target_app.validation.Spec`
objects the views validate with; response schemas are written here and checked by the
schemathesis test (``tests/target_app/test_schemathesis.py``) against real answers.
"""

from __future__ import annotations

import functools
from typing import Any

from target_app.openapi_schemas import SCHEMAS, obj, ref
from target_app.services import analysis, assets, goals, notifications, spendings, users
from target_app.services.common import MAX_ID
from target_app.validation import Spec


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(ref("Error"), description)


def _operation(
    summary: str,
    responses: dict[int, dict[str, Any]],
    *,
    body: dict[str, Any] | None = None,
    query: Spec | None = None,
    path_id: str | None = None,
    secured: bool = True,
) -> dict[str, Any]:
    """One operation with the error answers every operation of its kind can give."""
    operation: dict[str, Any] = {"summary": summary, "responses": {}}
    parameters = query.parameters() if query else []
    if path_id:
        parameters.append(
            {
                "name": path_id,
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            }
        )
    if parameters:
        operation["parameters"] = parameters
    if body is not None:  # a body whose fields are all optional may be left out
        operation["requestBody"] = {
            "required": bool(body.get("required")),
            "content": {"application/json": {"schema": body}},
        }
    answers = dict(responses)
    if body is not None:
        answers.setdefault(400, _error("The body is not a JSON object"))
    if body is not None or query is not None:
        answers.setdefault(422, _error("A field is missing or invalid; `field` names it"))
    if path_id:
        answers.setdefault(404, _error("No such resource for this user"))
    answers.setdefault(503, _error("The database is busy or unavailable; retry"))
    if secured:
        answers.setdefault(401, _error("Missing or invalid bearer token"))
    else:
        operation["security"] = []
    operation["responses"] = {str(code): answer for code, answer in sorted(answers.items())}
    return operation


PathItems = dict[str, dict[str, dict[str, Any]]]
"""OpenAPI path items: path -> HTTP method -> operation."""

_EMAIL_TAKEN = _error("The email is already registered")


def _json_list(item: str, description: str) -> dict[str, Any]:
    """A JSON answer ``{"items": [ITEM, ...]}``."""
    return _json(obj({"items": {"type": "array", "items": ref(item)}}), description)


_WEAK_PASSWORD = _error(
    "A field is invalid, or the password is weak: one of the most common passwords, under 4 "
    "different characters, or containing the email's name part or the user's name"
)


_BUSY = _error("The server is busy checking passwords; retry after Retry-After seconds")


def _auth_paths() -> PathItems:
    return {
        "/api/v1/auth/signup": {
            "post": _operation(
                "Sign up; answers a bearer token",
                {
                    201: _json(ref("Token"), "Created"),
                    409: _EMAIL_TAKEN,
                    422: _WEAK_PASSWORD,
                    429: _BUSY,
                },
                body=users.SIGNUP.json_schema(),
                secured=False,
            )
        },
        "/api/v1/auth/login": {
            "post": _operation(
                "Log in; answers a new bearer token",
                {
                    200: _json(ref("Token"), "Logged in"),
                    401: _error("Wrong email or password"),
                    429: _error(
                        "Too many failed logins for the account or the client address, or the "
                        "server is busy checking passwords; see Retry-After"
                    ),
                },
                body=users.LOGIN.json_schema(),
                secured=False,
            )
        },
        "/api/v1/auth/logout": {
            "post": _operation("Revoke the bearer token", {204: {"description": "Logged out"}})
        },
    }


def _mydata_paths() -> PathItems:
    return {
        "/api/v1/mydata/start": {
            "post": _operation(
                "Link the virtual accounts once (idempotent)",
                {
                    201: _json(ref("Mydata"), "Linked"),
                    200: _json(ref("Mydata"), "Already linked"),
                },
                body=assets.MYDATA_START.json_schema(),
            )
        },
    }


def _spending_paths() -> PathItems:
    return {
        "/api/v1/spendings": {
            "post": _operation(
                "Store a spending (idempotent by client_txn_id)",
                {
                    201: _json(ref("Spending"), "Stored"),
                    200: _json(ref("Spending"), "Replay: the stored spending"),
                    409: _error("client_txn_id already used for a different spending"),
                },
                body=spendings.SPENDING.json_schema(),
            ),
            "get": _operation(
                "List spendings, newest first",
                {200: _json(ref("SpendingPage"), "A page of spendings")},
                query=spendings.LIST_QUERY,
            ),
        },
        "/api/v1/spendings/batch": {
            "post": _operation(
                f"Store up to {spendings.MAX_BATCH} spendings atomically",
                {
                    201: _json(ref("BatchResult"), "At least one stored"),
                    200: _json(ref("BatchResult"), "All were replays"),
                    409: _error("A client_txn_id was already used for a different spending"),
                },
                body=spendings.batch_json_schema(),
            )
        },
        "/api/v1/spendings/{spending_id}": {
            "get": _operation(
                "One spending",
                {200: _json(ref("Spending"), "The spending")},
                path_id="spending_id",
            )
        },
    }


def _insight_paths() -> PathItems:
    """What the app tells the user: analysis, type, recommendations, forecast, assets."""
    return {
        "/api/v1/analysis": {
            "get": _operation(
                "Spending analysis around a month",
                {200: _json(ref("Analysis"), "The analysis")},
                query=analysis.QUERY,
            )
        },
        "/api/v1/type": {
            "get": _operation(
                "Spending type from the model, or not_enough_data",
                {200: _json(ref("SpendingType"), "The type or why it is unknown")},
            )
        },
        "/api/v1/recommendations": {
            "get": _operation(
                "Financial products from the trained recommender, or why there are none",
                {200: _json(ref("Recommendations"), "Recommended products")},
            )
        },
        "/api/v1/forecast": {
            "get": _operation(
                "Next week's spend and overrun probability from the trained models",
                {200: _json(ref("Forecast"), "The forecast or why there is none")},
            )
        },
        "/api/v1/assets": {
            "get": _operation("Total assets", {200: _json(ref("Assets"), "The assets")})
        },
    }


def _goal_paths() -> PathItems:
    return {
        "/api/v1/goals": {
            "get": _operation("List goals", {200: _json_list("Goal", "Goals")}),
            "post": _operation(
                "Create a goal",
                {201: _json(ref("Goal"), "Created")},
                body=goals.GOAL_CREATE.json_schema(),
            ),
        },
        "/api/v1/goals/{goal_id}": {
            "patch": _operation(
                "Update a goal",
                {200: _json(ref("Goal"), "Updated")},
                body=goals.GOAL_UPDATE.json_schema(partial=True),
                path_id="goal_id",
            )
        },
    }


def _notification_paths() -> PathItems:
    return {
        "/api/v1/notifications": {
            "get": _operation(
                "List notifications (stores the daily alert when due)",
                {200: _json_list("Notification", "Notifications")},
                query=notifications.LIST_QUERY,
            )
        },
        "/api/v1/notifications/{notification_id}/read": {
            "post": _operation(
                "Mark a notification read",
                {200: _json(ref("Notification"), "Marked read")},
                path_id="notification_id",
            )
        },
    }


def _profile_paths() -> PathItems:
    return {
        "/api/v1/profile": {
            "get": _operation("The profile", {200: _json(ref("User"), "The user")}),
            "patch": _operation(
                "Edit the profile",
                {200: _json(ref("User"), "Updated"), 409: _EMAIL_TAKEN},
                body=users.PROFILE_UPDATE.json_schema(partial=True),
            ),
        },
        "/api/v1/profile/password": {
            "post": _operation(
                "Change the password",
                {
                    204: {"description": "Changed; every other token and page session ends"},
                    403: _error("current_password is wrong"),
                    422: _WEAK_PASSWORD,
                    429: _BUSY,
                },
                body=users.PASSWORD_CHANGE.json_schema(),
            )
        },
    }


def _service_paths() -> PathItems:
    """The document itself and the health check (no token needed)."""
    return {
        "/api/v1/openapi.json": {
            "get": _operation(
                "This document",
                {
                    200: {
                        "description": "OpenAPI 3.0",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
                secured=False,
            )
        },
        "/healthz": {
            "get": _operation(
                "Health check (database)",
                {
                    200: _json(ref("Health"), "Healthy"),
                    503: _json(ref("Health"), "Database down"),
                },
                secured=False,
            )
        },
    }


_AREAS = (
    _auth_paths,
    _mydata_paths,
    _spending_paths,
    _insight_paths,
    _goal_paths,
    _notification_paths,
    _profile_paths,
    _service_paths,
)
"""One function per API area, in the order the document lists them."""


def _paths() -> PathItems:
    """Every path of the API, area by area."""
    paths: PathItems = {}
    for area in _AREAS:
        paths.update(area())
    return paths


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process)."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Moni API",
            "version": "1",
            "description": (
                "The JSON API of Moni, the spending coach the lab loads. Money is integer "
                "KRW; times are RFC 3339 and stored as Korean local time. Errors are "
                '`{"error": "...", "field": "..."}`. Send `X-Run-Id`, `X-Agent-Id` and '
                "`X-Source` (locust, browser, api) to label the request log."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Token from POST /api/v1/auth/signup or /login",
                }
            },
        },
    }
