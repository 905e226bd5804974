"""API: spendings (idempotent create, atomic batch, list, one)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from target_app.api.helpers import body, json_body, query
from target_app.auth import token_required
from target_app.context import read_db, write_db
from target_app.services import spendings

bp = Blueprint("api_spendings", __name__, url_prefix="/api/v1/spendings")


@bp.post("")
@token_required
def create() -> tuple[dict[str, Any], int]:
    """Store one spending: 201 when new, 200 with the stored row on a replay."""
    row, created = spendings.create(write_db(), g.user_id, body(spendings.SPENDING))
    return spendings.spending_dict(row), 201 if created else 200


@bp.post("/batch")
@token_required
def create_batch() -> tuple[dict[str, Any], int]:
    """Store up to MAX_BATCH spendings atomically; 201 if any is new, else 200."""
    results = spendings.create_batch(write_db(), g.user_id, spendings.parse_batch(json_body()))
    created = sum(new for _, new in results)
    answer = {
        "items": [
            {"status": 201 if new else 200, "spending": spendings.spending_dict(row)}
            for row, new in results
        ],
        "created": created,
        "replayed": len(results) - created,
    }
    return answer, 201 if created else 200


@bp.get("")
@token_required
def list_all() -> dict[str, Any]:
    """The user's spendings, newest first, filtered and paginated (limit/offset, total)."""
    page = spendings.list_spendings(read_db(), g.user_id, query(spendings.LIST_QUERY))
    return {
        "items": [spendings.spending_dict(row) for row in page.items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }


@bp.get("/<int:spending_id>")
@token_required
def get_one(spending_id: int) -> dict[str, Any]:
    """One of the user's spendings (404 for another user's)."""
    return spendings.spending_dict(spendings.get(read_db(), g.user_id, spending_id))
