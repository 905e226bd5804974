"""Rendering of the report pages: one Jinja2 environment (autoescaping on) over
``templates/``, whose ``base.html`` holds the shared layout and style and ``macros.html``
the one table macro every page uses.

Pages hand the templates data, never HTML: numbers, strings, and the few typed pieces below
(:class:`Link`, :class:`Code`, :class:`Note` inside table cells or paragraphs, :class:`Table`
and :class:`Section` for pages built as a list of sections).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@dataclass(frozen=True)
class Link:
    """An anchor: ``href`` relative to the page."""

    href: str
    text: str
    testid: str = ""


@dataclass(frozen=True)
class Code:
    """Text shown as ``<code>`` (a command, a path)."""

    text: str


@dataclass(frozen=True)
class Note:
    """Text with a CSS class of the base style (``ok``, ``findings``, ``failed``, ``flag``)."""

    text: str
    css_class: str = ""
    testid: str = ""


@dataclass(frozen=True)
class Table:
    """A table: one dict per row, keyed by the column headers.

    Attributes:
        columns: Headers, in order (the row keys).
        rows: The rows; a missing key is an empty cell (shown as an em dash).
        testid: ``data-testid`` of the table.
        fmt: Format spec of float cells (e.g. ``.4f``); default: 3 significant decimals.
        class_columns: Columns whose cell gets its own value as CSS class (a status).
        row_testid: Column whose value, prefixed with ``row_testid_prefix``, is the row's
            ``data-testid``.
    """

    columns: Sequence[str]
    rows: Sequence[Mapping[str, Any]]
    testid: str = ""
    fmt: str | None = None
    class_columns: Sequence[str] = ()
    row_testid: str | None = None
    row_testid_prefix: str = ""


Paragraph = str | Note | tuple[str | Code | Link, ...]
"""A paragraph: text, a :class:`Note`, or a run of text, code and links."""


@dataclass(frozen=True)
class Section:
    """A titled part of a page: paragraphs, figures (:class:`~.figures.Chart`), tables,
    closing paragraphs, then preformatted text (``testid`` names the latter)."""

    title: str
    before: Sequence[Paragraph] = ()
    figures: Sequence[Any] = ()
    tables: Sequence[Table] = ()
    after: Sequence[Paragraph] = ()
    preformatted: str | None = None
    testid: str = ""
    level: int = 2


def facts(values: Mapping[str, Any], *, testid: str = "", fmt: str | None = None) -> Table:
    """A two-column table of name → value."""
    rows = [{"name": k, "value": v} for k, v in values.items()]
    return Table(["name", "value"], rows, testid=testid, fmt=fmt)


def is_number(value: Any) -> bool:
    """A real number (Python or NumPy) that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def cell_text(value: Any, fmt: str | None = None) -> str:
    """A value as text: None as an em dash, numbers formatted (``fmt`` for floats)."""
    if value is None:
        return "—"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = float(value)
        if fmt is not None:
            return format(value, fmt)
        if abs(value) < 1000:
            return f"{value:,.3f}".rstrip("0").rstrip(".")
        return f"{value:,.0f}"
    return str(value)


@cache
def environment() -> Environment:
    """The Jinja2 environment of the report templates (autoescaped, strict)."""
    env = Environment(
        loader=PackageLoader("monilab.lab.report", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = cell_text
    env.tests["number"] = is_number
    env.tests["link"] = lambda v: isinstance(v, Link)
    env.tests["code"] = lambda v: isinstance(v, Code)
    env.tests["note"] = lambda v: isinstance(v, Note)
    env.tests["sequence_of_cells"] = lambda v: isinstance(v, list | tuple)
    return env


def render(template: str, **context: Any) -> str:
    """The HTML of ``template`` rendered with ``context``."""
    return environment().get_template(template).render(**context)


def write_page(
    path: Path,
    template: str,
    *,
    title: str,
    back: str | None = "../index.html",
    **context: Any,
) -> Path:
    """Render a page into ``path`` (figures' links made relative to its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    html = render(template, title=title, back=back, page_dir=path.parent, **context)
    path.write_text(html, encoding="utf-8")
    return path


def relative(target: Path, page_dir: Path) -> str:
    """``target`` as a link from a page in ``page_dir``."""
    return Path(os.path.relpath(target, page_dir)).as_posix()


__all__ = [
    "Code",
    "Link",
    "Note",
    "Section",
    "Table",
    "cell_text",
    "environment",
    "facts",
    "relative",
    "render",
    "write_page",
]
