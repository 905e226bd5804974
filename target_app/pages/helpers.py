"""What the page views share: rendering with the common context and the form flow.

Forms follow POST-redirect-GET: a valid submission redirects (with a flash message); a
refused one re-renders the same page with the submitted values, the error (its
``data-field`` names the field) and the error's HTTP status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template, request
from werkzeug.wrappers import Response as BaseResponse

from target_app.errors import AppError

PageResult = str | tuple[str, int] | tuple[str, int, dict[str, str]] | BaseResponse


def render(template: str, **context: Any) -> str:
    """Render a page template."""
    return render_template(template, **context)


def form_page(template: str, on_submit: Callable[[], BaseResponse], **context: Any) -> PageResult:
    """GET renders the form; POST runs ``on_submit`` or re-renders with its error.

    Args:
        template: The page's template.
        on_submit: Validates ``request.form``, calls the service and returns a redirect.
        **context: Template variables for both renderings; ``form`` gives the initial
            field values of the GET rendering.
    """
    defaults = context.pop("form", {})
    if request.method == "POST":
        try:
            return on_submit()
        except AppError as exc:
            page = render(template, error=exc, form=request.form, **context)
            retry_after = getattr(exc, "retry_after", None)
            if retry_after is not None:  # 429: tell the browser when to try again
                return page, exc.status, {"Retry-After": str(retry_after)}
            return page, exc.status
    return render(template, error=None, form=defaults, **context)
