"""The report layer: one Jinja2 environment (autoescaped), one table macro, one figure
helper, and no HTML or matplotlib left in analysis or calibration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monilab.lab.report.charts import line_plot
from monilab.lab.report.figures import embed_png, new_figure
from monilab.lab.report.render import Code, Link, Note, Section, Table, render, write_page

ROOT = Path(__file__).resolve().parents[3]
MATPLOTLIB = re.compile(r"^\s*(import|from) matplotlib\b", re.M)
TEMPLATES = ROOT / "monilab" / "lab" / "report" / "templates"


def _page(section: Section, tmp_path: Path) -> str:
    path = write_page(
        tmp_path / "p.html", "sections.html", title="T <1>", intro=[], sections=[section]
    )
    return path.read_text(encoding="utf-8")


def test_table_formats_numbers_and_escapes_text(tmp_path: Path) -> None:
    table = Table(
        ["name", "n", "x", "status"],
        [
            {"name": "<b>", "n": 12345, "x": 0.12345, "status": "failed"},
            {"name": Link("a b.html", "go", testid="go"), "n": None, "x": 2500.4, "status": "ok"},
        ],
        testid="t",
        class_columns=["status"],
        row_testid="status",
        row_testid_prefix="row-",
    )
    html = _page(Section("s", tables=[table]), tmp_path)
    assert "<title>T &lt;1&gt;</title>" in html
    rows = re.findall(r"<tr data-testid=\"(row-\w+)\">(.*?)</tr>", html)
    assert rows[0] == (
        "row-failed",
        '<td>&lt;b&gt;</td><td class="num">12,345</td><td class="num">0.123</td>'
        '<td class="failed">failed</td>',
    )
    assert rows[1][1].startswith('<td><a href="a b.html" data-testid="go">go</a></td><td>—</td>')
    assert '<td class="num">2,500</td>' in rows[1][1]


def test_fmt_cells_lists_notes_and_paragraph_runs(tmp_path: Path) -> None:
    table = Table(["v", "notes"], [{"v": 0.5, "notes": ["x", Note("<e>", "failed"), Code("c")]}])
    section = Section(
        "s",
        tables=[Table(table.columns, table.rows, fmt=".4f")],
        before=[("see ", Code("a.toml"), " and ", Link("b.html", "b"))],
        after=[Note("careful", "flag", testid="n")],
    )
    html = _page(section, tmp_path)
    assert '<td class="num">0.5000</td>' in html
    assert '<div>x</div><div class="failed">&lt;e&gt;</div><div><code>c</code></div>' in html
    assert '<p>see <code>a.toml</code> and <a href="b.html">b</a></p>' in html
    assert '<p class="flag" data-testid="n">careful</p>' in html


def test_figures_written_or_embedded(tmp_path: Path) -> None:
    chart = line_plot(
        tmp_path / "img" / "l.png", [0, 1], {"a": [1, None]}, title="l", xlabel="x", ylabel="y"
    )
    fig, ax = new_figure(figsize=(2, 2))
    ax.plot([0, 1], [1, 2])
    embedded = embed_png(fig, caption="e", points=2)
    html = _page(Section("s", figures=[chart, embedded]), tmp_path)
    assert '<img src="img/l.png" alt="l" data-points="1">' in html
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{100,}" alt="e"', html)
    fig, _ = new_figure(figsize=(2, 2))
    with pytest.raises(ValueError, match="has no data"):
        embed_png(fig, caption="nothing", points=0)


def test_every_page_template_extends_the_base_layout() -> None:
    pages = sorted(p.name for p in TEMPLATES.glob("*.html"))
    assert {"base.html", "macros.html", "sections.html", "index.html"} <= set(pages)
    for name in pages:
        if name not in ("base.html", "macros.html"):
            text = (TEMPLATES / name).read_text(encoding="utf-8")
            assert '{% extends "base.html" %}' in text, name
            assert "<table" not in text, f"{name}: tables come from the table macro"
    assert "<style>" in render("base.html", title="t", back=None)


def test_only_the_figure_helper_uses_matplotlib_and_no_html_below_the_lab() -> None:
    users = [
        p.relative_to(ROOT).as_posix()
        for folder in ("monilab", "analysis", "calibration", "sim", "target_app")
        for p in (ROOT / folder).rglob("*.py")
        if MATPLOTLIB.search(p.read_text(encoding="utf-8"))
    ]
    assert users == ["monilab/lab/report/figures.py"]
    for folder in ("analysis", "calibration"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "<table" not in text and "<html" not in text, path
