"""API: mydata start (linked accounts) and the assets summary."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from target_app.api.helpers import body
from target_app.auth import token_required
from target_app.context import read_db, write_db
from target_app.services import assets

bp = Blueprint("api_assets", __name__, url_prefix="/api/v1")


@bp.post("/mydata/start")
@token_required
def start_mydata() -> tuple[dict[str, Any], int]:
    """Create the linked accounts once: 201 the first time, 200 (unchanged) after."""
    accounts, created = assets.start_mydata(write_db(), g.user_id, body(assets.MYDATA_START))
    answer = {"accounts": [assets.account_dict(a) for a in accounts], "created": created}
    return answer, 201 if created else 200


@bp.get("/assets")
@token_required
def summary() -> dict[str, Any]:
    """Total assets and their composition."""
    return assets.summary_dict(assets.summary(read_db(), g.user_id))
