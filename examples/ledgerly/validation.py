"""Checking what clients send, before it reaches the database.

Every check raises :class:`InvalidInput` with a message for the client (the API answers
422, the pages re-render the form), so bad input never becomes a 500. The same checks serve
the JSON API and the HTML forms.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_AMOUNT = 10**9
MAX_KEY_LENGTH = 128
MAX_LIST_LIMIT = 500
DEFAULT_LIST_LIMIT = 50
MIN_PASSWORD_LENGTH = 8
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class InvalidInput(ValueError):
    """A field the app cannot accept; the message says which and why."""


@dataclass(frozen=True)
class Registration:
    """A checked ``POST /register`` body."""

    email: str
    password: str
    name: str | None
    agent_id: str | None


@dataclass(frozen=True)
class TransferInput:
    """A checked transfer: what is compared when an idempotency key is replayed."""

    amount: int
    category: str
    merchant: str | None
    at: str


@dataclass(frozen=True)
class ListQuery:
    """A checked ``GET /transfers`` query."""

    limit: int
    offset: int
    month: str | None


def text_field(
    data: Mapping[str, Any], name: str, *, max_length: int, required: bool = True
) -> str | None:
    """A stripped string field (None when optional and absent or blank)."""
    value = data.get(name)
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string")
    if len(value) > max_length:
        raise InvalidInput(f"{name} must be at most {max_length} characters")
    return value


def registration(data: Mapping[str, Any]) -> Registration:
    """The sign-up fields: an email-shaped address and a password of 8 or more characters."""
    email = str(text_field(data, "email", max_length=254)).lower()
    if not _EMAIL.match(email):
        raise InvalidInput("email must look like name@example.com")
    password = data.get("password")
    if not isinstance(password, str) or not MIN_PASSWORD_LENGTH <= len(password) <= 1024:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    return Registration(
        email=email,
        password=password,
        name=text_field(data, "name", max_length=100, required=False),
        agent_id=text_field(data, "agent_id", max_length=64, required=False),
    )


def transfer(data: Mapping[str, Any]) -> TransferInput:
    """A transfer's fields; ``at`` is stored in ISO form as the client meant it."""
    amount = data.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInput("amount must be a whole number")
    if not 1 <= amount <= MAX_AMOUNT:
        raise InvalidInput(f"amount must be from 1 to {MAX_AMOUNT}")
    return TransferInput(
        amount=amount,
        category=str(text_field(data, "category", max_length=64)),
        merchant=text_field(data, "merchant", max_length=128, required=False),
        at=iso_datetime(data.get("at")),
    )


def iso_datetime(value: Any) -> str:
    """An ISO 8601 date-time, normalised (``2024-03-01T12:00`` → ``2024-03-01T12:00:00``)."""
    if not isinstance(value, str):
        raise InvalidInput("at must be an ISO date-time such as 2024-03-01T12:30:00")
    try:
        return dt.datetime.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InvalidInput("at must be an ISO date-time such as 2024-03-01T12:30:00") from None


def idempotency_key(value: str | None) -> str | None:
    """The key if it has 1 to 128 characters, else None."""
    if value is None or not 1 <= len(value) <= MAX_KEY_LENGTH:
        return None
    return value


def list_query(args: Mapping[str, str]) -> ListQuery:
    """``limit`` (1..500, default 50), ``offset`` (0 or more) and ``month`` (``YYYY-MM``)."""
    month = args.get("month") or None
    if month is not None and not _MONTH.match(month):
        raise InvalidInput("month must look like 2024-03")
    return ListQuery(
        limit=_whole(args.get("limit"), "limit", DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT),
        offset=_whole(args.get("offset"), "offset", 0, 0, 2**62),
        month=month,
    )


def _whole(text: str | None, name: str, default: int, low: int, high: int) -> int:
    if text is None or text == "":
        return default
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}")
    return int(text)
