"""The OpenAPI 3.0 document of ``/api/v1`` (served at ``/api/v1/openapi.json``).

Request bodies and query parameters come from the same :class:`~target_app.validation.Spec`
objects the views validate with; response schemas are written here and checked by the
schemathesis test (``tests/target_app/test_schemathesis.py``) against real answers.
"""

from __future__ import annotations

import functools
from typing import Any

from monilab.schema import CATEGORIES, DIRECTIONS, METHODS, SPENDING_TYPES
from target_app.models import ACCOUNT_KINDS, NOTIFICATION_KINDS
from target_app.services import analysis, assets, goals, notifications, spendings, users
from target_app.services.common import MAX_ID
from target_app.validation import Spec

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NSTR = {"type": "string", "nullable": True}
_NINT = {"type": "integer", "nullable": True}
_TIME = {"type": "string", "format": "date-time"}
_DATE = {"type": "string", "format": "date"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """An object schema whose listed properties are all present (answers always carry them)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(properties)
    return schema


def _pattern_item(key: str) -> dict[str, Any]:
    return _object({key: _INT, "spent": _INT, "count": _INT})


SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": _STR, "field": _NSTR}),
    "User": _object(
        {
            "id": _INT,
            "email": _STR,
            "name": _STR,
            "persona": _NSTR,
            "agent_id": _NSTR,
            "age": _NINT,
            "gender": {"type": "string", "enum": ["m", "f"], "nullable": True},
            "occupation": _NSTR,
            "region": _NSTR,
            "monthly_income": _NINT,
            "spending_type": {"type": "string", "enum": list(SPENDING_TYPES), "nullable": True},
            "created_at": _TIME,
        }
    ),
    "Token": _object(
        {"token": _STR, "token_type": {"type": "string", "enum": ["Bearer"]}, "user": _ref("User")}
    ),
    "Spending": _object(
        {
            "id": _INT,
            "spent_at": _TIME,
            "amount": {"type": "integer", "minimum": 1},
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "direction": {"type": "string", "enum": list(DIRECTIONS)},
            "method": {"type": "string", "enum": list(METHODS)},
            "merchant": _NSTR,
            "memo": _NSTR,
            "client_txn_id": _NSTR,
            "created_at": _TIME,
        }
    ),
    "SpendingPage": _object(
        {
            "items": {"type": "array", "items": _ref("Spending")},
            "total": _INT,
            "limit": _INT,
            "offset": _INT,
        }
    ),
    "BatchResult": _object(
        {
            "items": {
                "type": "array",
                "items": _object(
                    {
                        "status": {"type": "integer", "enum": [200, 201]},
                        "spending": _ref("Spending"),
                    }
                ),
            },
            "created": _INT,
            "replayed": _INT,
        }
    ),
    "Account": _object(
        {
            "id": _INT,
            "kind": {"type": "string", "enum": list(ACCOUNT_KINDS)},
            "institution": _STR,
            "name": _STR,
            "opening_balance": _INT,
        }
    ),
    "Mydata": _object(
        {"accounts": {"type": "array", "items": _ref("Account")}, "created": {"type": "boolean"}}
    ),
    "Assets": _object(
        {
            "mydata_started": {"type": "boolean"},
            "total": _INT,
            "holdings": {
                "type": "array",
                "items": _object(
                    {
                        "kind": {"type": "string", "enum": ["checking", "securities", "savings"]},
                        "label": _STR,
                        "institution": _NSTR,
                        "balance": _INT,
                        "account_id": _NINT,
                    }
                ),
            },
        }
    ),
    "Analysis": _object(
        {
            "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
            "monthly": {
                "type": "array",
                "items": _object({"month": _STR, "spent": _INT, "count": _INT}),
            },
            "categories": {
                "type": "array",
                "items": _object(
                    {
                        "category": {"type": "string", "enum": list(CATEGORIES)},
                        "label": _STR,
                        "spent": _INT,
                        "share": {"type": "number", "minimum": 0, "maximum": 1},
                    }
                ),
            },
            "weekdays": {
                "type": "array",
                "minItems": 7,
                "maxItems": 7,
                "items": _object({"weekday": _INT, "label": _STR, "spent": _INT, "count": _INT}),
            },
            "hours": {
                "type": "array",
                "minItems": 24,
                "maxItems": 24,
                "items": _pattern_item("hour"),
            },
            "change": _object(
                {
                    "vs_previous_month_pct": {"type": "number", "nullable": True},
                    "vs_previous_3_months_avg_pct": {"type": "number", "nullable": True},
                }
            ),
            "insights": {"type": "array", "items": _STR},
        }
    ),
    "SpendingType": {
        "type": "object",
        "required": ["status", "spendings"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "not_enough_data"]},
            "spendings": _INT,
            "type": {"type": "string", "enum": list(SPENDING_TYPES)},
            "name": _STR,
            "tagline": _NSTR,
            "description": _NSTR,
            "reason": _STR,
            "min_spendings": _INT,
        },
    },
    "Goal": _object(
        {
            "id": _INT,
            "title": _STR,
            "target_amount": _INT,
            "deadline": {**_DATE, "nullable": True},
            "achieved": {"type": "boolean"},
            "progress": {"type": "number", "minimum": 0, "maximum": 1},
            "created_at": _TIME,
            "updated_at": _TIME,
        }
    ),
    "Notification": _object(
        {
            "id": _INT,
            "day": _DATE,
            "kind": {"type": "string", "enum": list(NOTIFICATION_KINDS)},
            "message": _STR,
            "read": {"type": "boolean"},
            "created_at": _TIME,
            "read_at": {**_TIME, "nullable": True},
        }
    ),
    "Health": _object({"status": {"type": "string", "enum": ["ok", "error"]}, "database": _STR}),
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


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
    if secured:
        answers.setdefault(401, _error("Missing or invalid bearer token"))
    else:
        operation["security"] = []
    operation["responses"] = {str(code): answer for code, answer in sorted(answers.items())}
    return operation


def _paths() -> dict[str, Any]:
    conflict = _error("The email is already registered")
    return {
        "/api/v1/auth/signup": {
            "post": _operation(
                "Sign up; answers a bearer token",
                {201: _json(_ref("Token"), "Created"), 409: conflict},
                body=users.SIGNUP.json_schema(),
                secured=False,
            )
        },
        "/api/v1/auth/login": {
            "post": _operation(
                "Log in; answers a new bearer token",
                {200: _json(_ref("Token"), "Logged in"), 401: _error("Wrong email or password")},
                body=users.LOGIN.json_schema(),
                secured=False,
            )
        },
        "/api/v1/auth/logout": {
            "post": _operation("Revoke the bearer token", {204: {"description": "Logged out"}})
        },
        "/api/v1/mydata/start": {
            "post": _operation(
                "Link the virtual accounts once (idempotent)",
                {
                    201: _json(_ref("Mydata"), "Linked"),
                    200: _json(_ref("Mydata"), "Already linked"),
                },
                body=assets.MYDATA_START.json_schema(),
            )
        },
        "/api/v1/spendings": {
            "post": _operation(
                "Store a spending (idempotent by client_txn_id)",
                {
                    201: _json(_ref("Spending"), "Stored"),
                    200: _json(_ref("Spending"), "Replay: the stored spending"),
                    409: _error("client_txn_id already used for a different spending"),
                },
                body=spendings.SPENDING.json_schema(),
            ),
            "get": _operation(
                "List spendings, newest first",
                {200: _json(_ref("SpendingPage"), "A page of spendings")},
                query=spendings.LIST_QUERY,
            ),
        },
        "/api/v1/spendings/batch": {
            "post": _operation(
                f"Store up to {spendings.MAX_BATCH} spendings atomically",
                {
                    201: _json(_ref("BatchResult"), "At least one stored"),
                    200: _json(_ref("BatchResult"), "All were replays"),
                    409: _error("A client_txn_id was already used for a different spending"),
                },
                body=spendings.batch_json_schema(),
            )
        },
        "/api/v1/spendings/{spending_id}": {
            "get": _operation(
                "One spending",
                {200: _json(_ref("Spending"), "The spending")},
                path_id="spending_id",
            )
        },
        "/api/v1/analysis": {
            "get": _operation(
                "Spending analysis around a month",
                {200: _json(_ref("Analysis"), "The analysis")},
                query=analysis.QUERY,
            )
        },
        "/api/v1/type": {
            "get": _operation(
                "Spending type from the model, or not_enough_data",
                {200: _json(_ref("SpendingType"), "The type or why it is unknown")},
            )
        },
        "/api/v1/assets": {
            "get": _operation("Total assets", {200: _json(_ref("Assets"), "The assets")})
        },
        "/api/v1/goals": {
            "get": _operation(
                "List goals",
                {200: _json(_object({"items": {"type": "array", "items": _ref("Goal")}}), "Goals")},
            ),
            "post": _operation(
                "Create a goal",
                {201: _json(_ref("Goal"), "Created")},
                body=goals.GOAL_CREATE.json_schema(),
            ),
        },
        "/api/v1/goals/{goal_id}": {
            "patch": _operation(
                "Update a goal",
                {200: _json(_ref("Goal"), "Updated")},
                body=goals.GOAL_UPDATE.json_schema(partial=True),
                path_id="goal_id",
            )
        },
        "/api/v1/notifications": {
            "get": _operation(
                "List notifications (stores the daily alert when due)",
                {
                    200: _json(
                        _object({"items": {"type": "array", "items": _ref("Notification")}}),
                        "Notifications",
                    )
                },
                query=notifications.LIST_QUERY,
            )
        },
        "/api/v1/notifications/{notification_id}/read": {
            "post": _operation(
                "Mark a notification read",
                {200: _json(_ref("Notification"), "Marked read")},
                path_id="notification_id",
            )
        },
        "/api/v1/profile": {
            "get": _operation("The profile", {200: _json(_ref("User"), "The user")}),
            "patch": _operation(
                "Edit the profile",
                {200: _json(_ref("User"), "Updated"), 409: conflict},
                body=users.PROFILE_UPDATE.json_schema(partial=True),
            ),
        },
        "/api/v1/profile/password": {
            "post": _operation(
                "Change the password",
                {
                    204: {"description": "Changed"},
                    403: _error("current_password is wrong"),
                },
                body=users.PASSWORD_CHANGE.json_schema(),
            )
        },
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
                    200: _json(_ref("Health"), "Healthy"),
                    503: _json(_ref("Health"), "Database down"),
                },
                secured=False,
            )
        },
    }


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
