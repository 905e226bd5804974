"""API: the OpenAPI document and the health check."""

from __future__ import annotations

import ipaddress
from typing import Any

from flask import Blueprint, current_app, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from target_app.context import read_db
from target_app.openapi import openapi_document

bp = Blueprint("api_meta", __name__)

PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-Ip")
"""A proxy on this machine makes remote callers look local: their answers keep paths out."""


@bp.get("/api/v1/openapi.json")
def openapi() -> dict[str, Any]:
    """The OpenAPI 3 description of this API."""
    return openapi_document()


@bp.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    """200 when the database answers, 503 otherwise.

    ``?request_log=1`` from this machine (a loopback address, no proxy header) also gets
    ``"request_log": "<absolute dir>"`` when the request log is on, so a load run here can
    put the server's time beside its own; nobody else learns a path.
    """
    try:
        read_db().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return {"status": "error", "database": type(exc).__name__}, 503
    answer = {"status": "ok", "database": "ok"}
    directory = _request_log_for_local_caller()
    if directory is not None:
        answer["request_log"] = directory
    return answer, 200


def _request_log_for_local_caller() -> str | None:
    """The request log directory, if this request asks for it from this machine."""
    if request.args.get("request_log") != "1" or not _is_loopback(request.remote_addr):
        return None
    if any(name in request.headers for name in PROXY_HEADERS):
        return None
    request_log = current_app.extensions.get("monilab_request_log")
    return None if request_log is None else str(request_log.directory.resolve())


def _is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False  # a Unix socket, or nothing
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(ip.is_loopback or (mapped is not None and mapped.is_loopback))
