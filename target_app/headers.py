"""Security headers on every answer of the app.

Pages are framed by nobody, scripts and styles come from the app itself (inline style
attributes are allowed: the analysis bars are drawn with them; there is no inline script),
MIME types are not sniffed, the referrer stays on the site, and answers for a signed-in
user (API answers, pages with a session) are never stored by a cache.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def install(app: Flask) -> None:
    """Add :data:`HEADERS` to every response, and ``Cache-Control: no-store`` to private ones."""

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        private = g.get("user_id") is not None or request.path.startswith("/api/")
        if private and not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response
