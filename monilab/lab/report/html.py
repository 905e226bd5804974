"""Small HTML building blocks shared by the report pages (escaped, no template engine)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222;
       padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #1a7f37; } .findings { color: #b35900; } .failed, .interrupted { color: #c62828; }
.skipped, .pending { color: #777; }
figure { display: inline-block; margin: .5rem 1rem .5rem 0; }
figure img { max-width: 34rem; border: 1px solid #eee; }
figcaption { font-size: .85rem; color: #555; }
code { background: #f4f4f4; padding: 0 .2rem; font-size: .85rem; }
nav a { margin-right: 1rem; }
"""


def esc(value: Any) -> str:
    """``value`` as escaped HTML text (None as an em dash)."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return html.escape(str(value))


def page(title: str, body: str, *, back: str | None = "index.html") -> str:
    """A whole HTML document with the report's style and a link back to the index."""
    nav = f'<nav><a href="{esc(back)}" data-testid="back">← report index</a></nav>' if back else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body>{nav}<h1>{esc(title)}</h1>\n{body}\n</body></html>\n"
    )


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, testid: str = "") -> str:
    """An HTML table of ``rows`` (dicts) with the given columns; numbers right-aligned."""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            num = isinstance(value, int | float) and not isinstance(value, bool)
            cells.append(f'<td class="num">{esc(value)}</td>' if num else f"<td>{esc(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    attr = f' data-testid="{esc(testid)}"' if testid else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def facts_table(facts: Mapping[str, Any], *, testid: str = "") -> str:
    """A two-column table of name → value."""
    return table(
        ({"name": k, "value": v} for k, v in facts.items()), ["name", "value"], testid=testid
    )


def link(href: str, text: str, *, testid: str = "") -> str:
    """An anchor."""
    attr = f' data-testid="{esc(testid)}"' if testid else ""
    return f'<a href="{esc(href)}"{attr}>{esc(text)}</a>'


def write_page(path: Path, title: str, body: str, *, back: str | None = "index.html") -> Path:
    """Write a page and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(title, body, back=back), encoding="utf-8")
    return path
