"""Response schemas of the OpenAPI document (``components/schemas``), written by hand.

The schemathesis test checks every answer of the app against them.
"""

from __future__ import annotations

from typing import Any

from monilab.contracts.vocabulary import CATEGORIES, DIRECTIONS, METHODS, SPENDING_TYPES
from target_app.models import ACCOUNT_KINDS, NOTIFICATION_KINDS

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NSTR = {"type": "string", "nullable": True}
_NINT = {"type": "integer", "nullable": True}
_TIME = {"type": "string", "format": "date-time"}
_DATE = {"type": "string", "format": "date"}


def ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """An object schema whose listed properties are all present (answers always carry them)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(properties)
    return schema


SCHEMAS: dict[str, Any] = {
    "Error": obj({"error": _STR, "field": _NSTR}),
    "User": obj(
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
            "spending_type": _NSTR,
            "created_at": _TIME,
        }
    ),
    "Token": obj(
        {"token": _STR, "token_type": {"type": "string", "enum": ["Bearer"]}, "user": ref("User")}
    ),
    "Spending": obj(
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
    "SpendingPage": obj(
        {
            "items": {"type": "array", "items": ref("Spending")},
            "total": _INT,
            "limit": _INT,
            "offset": _INT,
        }
    ),
    "BatchResult": obj(
        {
            "items": {
                "type": "array",
                "items": obj(
                    {
                        "status": {"type": "integer", "enum": [200, 201]},
                        "spending": ref("Spending"),
                    }
                ),
            },
            "created": _INT,
            "replayed": _INT,
        }
    ),
    "Account": obj(
        {
            "id": _INT,
            "kind": {"type": "string", "enum": list(ACCOUNT_KINDS)},
            "institution": _STR,
            "name": _STR,
            "opening_balance": _INT,
        }
    ),
    "Mydata": obj(
        {"accounts": {"type": "array", "items": ref("Account")}, "created": {"type": "boolean"}}
    ),
    "Assets": obj(
        {
            "mydata_started": {"type": "boolean"},
            "total": _INT,
            "holdings": {
                "type": "array",
                "items": obj(
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
    "Analysis": obj(
        {
            "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
            "monthly": {
                "type": "array",
                "items": obj({"month": _STR, "spent": _INT, "count": _INT}),
            },
            "categories": {
                "type": "array",
                "items": obj(
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
                "items": obj({"weekday": _INT, "label": _STR, "spent": _INT, "count": _INT}),
            },
            "hours": {
                "type": "array",
                "minItems": 24,
                "maxItems": 24,
                "items": obj({"hour": _INT, "spent": _INT, "count": _INT}),
            },
            "change": obj(
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
    "Goal": obj(
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
    "Notification": obj(
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
    "Health": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["ok", "error"]},
            "database": _STR,
            "request_log": _STR,  # only for ?request_log=1 from a loopback address
        },
        "required": ["status", "database"],
    },
    "Recommendations": {
        "type": "object",
        "required": ["status", "spendings", "items"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "not_enough_data", "not_configured"]},
            "spendings": _INT,
            "spending_type": _NSTR,
            "reason": _STR,
            "items": {
                "type": "array",
                "items": obj(
                    {
                        "product": _STR,
                        "kind": {"type": "string", "enum": ["savings", "investment", "insurance"]},
                        "kind_label": _STR,
                        "score": {"type": "number", "minimum": 0, "maximum": 1},
                        "reason": {"type": "string", "enum": ["similar_users", "savings_for_yolo"]},
                    }
                ),
            },
        },
    },
    "Forecast": {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "not_enough_data", "not_configured"]},
            "reason": _STR,
            "week": _DATE,
            "budget": _INT,
            "expected_total": _INT,
            "overrun_probability": {"type": "number", "minimum": 0, "maximum": 1},
            "alert": {"type": "boolean"},
            "message": _STR,
            "categories": {
                "type": "array",
                "items": obj(
                    {
                        "category": {"type": "string", "enum": list(CATEGORIES)},
                        "probability": {"type": "number", "minimum": 0, "maximum": 1},
                        "expected": _INT,
                    }
                ),
            },
        },
    },
}
