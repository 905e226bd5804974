"""API: the OpenAPI document and the health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from target_app.context import read_db
from target_app.openapi import openapi_document

bp = Blueprint("api_meta", __name__)


@bp.get("/api/v1/openapi.json")
def openapi() -> dict[str, Any]:
    """The OpenAPI 3 description of this API."""
    return openapi_document()


@bp.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    """200 when the database answers, 503 otherwise."""
    try:
        read_db().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return {"status": "error", "database": type(exc).__name__}, 503
    return {"status": "ok", "database": "ok"}, 200
