"""The HTML pages (Jinja): one blueprint per area, all on the shared service layer.

Stable selectors for browser journeys: every form field has a ``name``; every page's main
heading has ``data-testid="page-<name>"``; key elements (totals, rows, alerts, errors)
carry ``data-testid`` too. Forms post with a CSRF token and redirect on success.
"""

from __future__ import annotations

from flask import Flask, render_template

from monilab.contracts.vocabulary import CATEGORIES, DIRECTIONS, GENDERS, METHODS
from target_app.errors import AppError
from target_app.pages import auth, goals, home, insights, notifications, profile, spendings
from target_app.services.common import CATEGORY_LABELS, METHOD_LABELS

BLUEPRINTS = (
    auth.bp,
    home.bp,
    spendings.bp,
    insights.bp,
    goals.bp,
    notifications.bp,
    profile.bp,
)


def won(amount: int | None) -> str:
    """``12,300원`` (Jinja filter)."""
    return "-" if amount is None else f"{amount:,}원"


def app_error_page(exc: AppError) -> tuple[str, int]:
    """A page-level refusal outside a form (bad query value, someone else's id)."""
    return render_template("error.html", error=exc), exc.status


def register_pages(app: Flask) -> None:
    """Register the page blueprints and the template helpers."""
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.add_template_filter(won)
    app.jinja_env.globals.update(
        CATEGORIES=CATEGORIES,
        METHODS=METHODS,
        DIRECTIONS=DIRECTIONS,
        GENDERS=GENDERS,
        CATEGORY_LABELS=CATEGORY_LABELS,
        METHOD_LABELS=METHOD_LABELS,
        DIRECTION_LABELS={"out": "출금", "in": "입금"},
        GENDER_LABELS={"m": "남성", "f": "여성"},
    )
