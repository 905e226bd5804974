"""Errors the service layer raises; the API turns them into JSON, the pages into messages."""

from __future__ import annotations


class AppError(Exception):
    """A request the app refuses, with the HTTP status and the field at fault (if any).

    Attributes:
        status: HTTP status code of the answer.
        message: A readable sentence for the client.
        field: The request field at fault, or None.
    """

    status = 400

    def __init__(self, message: str, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, str | None]:
        """The JSON body of the error: ``{"error": ..., "field": ...}``."""
        return {"error": self.message, "field": self.field}


class BadRequest(AppError):
    """The request is not readable at all (malformed JSON, not an object)."""

    status = 400


class ValidationError(AppError):
    """A field is missing, of the wrong type, out of range or not an allowed value."""

    status = 422


class Unauthorized(AppError):
    """No valid credentials (bearer token, session or password)."""

    status = 401


class Forbidden(AppError):
    """Authenticated, but the request is not allowed (e.g. a wrong current password)."""

    status = 403


class NotFound(AppError):
    """The resource does not exist or belongs to another user (never say which)."""

    status = 404


class Conflict(AppError):
    """The request clashes with stored state (email taken, reused client_txn_id)."""

    status = 409


class TooManyRequests(AppError):
    """Too many failed logins, or the server is busy checking passwords: retry later.

    Attributes:
        retry_after: Seconds the client should wait (sent as ``Retry-After``).
    """

    status = 429

    def __init__(self, message: str, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field)
        self.retry_after = max(1, int(retry_after))
