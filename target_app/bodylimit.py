"""413 for any request body over the limit, also when it comes without a Content-Length.

Werkzeug refuses a declared ``Content-Length`` over ``MAX_CONTENT_LENGTH`` with 413, but a
chunked body (no length declared) is only *cut* at the limit: the view then sees a shorter
body and might store it. This hook reads such a body up to one byte past the limit first,
answers 413 when it is longer, and otherwise hands the view the whole body with its length.
"""

from __future__ import annotations

import io

from flask import Flask, request

from target_app.errors import AppError

_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class TooLarge(AppError):
    """A request body over the limit."""

    status = 413


def install(app: Flask) -> None:
    """Check streamed bodies before any other hook reads them."""

    @app.before_request
    def _limit_streamed_body() -> None:
        environ = request.environ
        if request.method not in _BODY_METHODS or environ.get("CONTENT_LENGTH"):
            return
        limit = int(app.config["MAX_CONTENT_LENGTH"])
        data = environ["wsgi.input"].read(limit + 1)
        if len(data) > limit:
            raise TooLarge(f"request body is larger than {limit} bytes", "body")
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
        request.__dict__.pop("stream", None)  # a stream made before now would read nothing
