"""The report check in real Chromium catches dead links, missing images and empty charts."""

from __future__ import annotations

from pathlib import Path

import pytest

from monilab.lab.report.charts import bar_plot, line_plot
from monilab.lab.report.check import check_report
from monilab.lab.report.render import Link, Section, write_page
from sim.browser.options import CHROMIUM

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"Chromium not installed at {CHROMIUM} (scripts/setup.sh)"
)


def _page(path: Path, section: Section, *, back: str | None = None) -> Path:
    return write_page(
        path, "sections.html", title=path.stem, back=back, intro=[], sections=[section]
    )


def test_a_chart_without_data_is_refused(tmp_path):
    with pytest.raises(ValueError, match="has no data"):
        bar_plot(tmp_path / "empty.png", [], [], title="nothing", xlabel="x")
    with pytest.raises(ValueError, match="has no data"):
        line_plot(
            tmp_path / "gaps.png", [0, 1], {"a": [None, None]}, title="t", xlabel="x", ylabel="y"
        )
    assert not (tmp_path / "empty.png").exists()


@needs_chromium
@pytest.mark.integration
def test_check_passes_a_sound_report_and_screenshots_it(tmp_path):
    plot = bar_plot(
        tmp_path / "report" / "img" / "a.png", ["x", "y"], [1, 2], title="t", xlabel="v"
    )
    _page(tmp_path / "report" / "a.html", Section("charts", figures=[plot]), back="../index.html")
    _page(tmp_path / "index.html", Section("pages", before=[(Link("report/a.html", "A"),)]))
    problems, pages = check_report(tmp_path / "index.html", shots=tmp_path / "shots")
    assert problems == []
    assert [p.path.name for p in pages] == ["index.html", "a.html"]
    assert pages[1].images == 1 and pages[1].screenshot.stat().st_size > 1000


@needs_chromium
@pytest.mark.integration
def test_check_finds_dead_links_missing_images_and_empty_charts(tmp_path):
    plot = bar_plot(tmp_path / "report" / "img" / "a.png", ["x"], [1], title="t", xlabel="v")
    page = _page(
        tmp_path / "report" / "a.html",
        Section("charts", figures=[plot], after=[(Link("missing.html", "nowhere"),)]),
        back="../index.html",
    )
    html = page.read_text().replace('data-points="1"', 'data-points="0"')
    page.write_text(html.replace("</body>", '<img src="img/gone.png" alt="gone"></body>'))
    _page(tmp_path / "index.html", Section("pages", before=[(Link("report/a.html", "A"),)]))
    (tmp_path / "blank.html").write_text("<html><body></body></html>", encoding="utf-8")
    (tmp_path / "index.html").write_text(
        (tmp_path / "index.html").read_text() + '<a href="blank.html">b</a>', encoding="utf-8"
    )
    problems, _ = check_report(tmp_path / "index.html")
    text = "\n".join(problems)
    assert "report/a.html: empty chart" in text
    assert "report/a.html: image did not load" in text and "gone.png" in text
    assert "broken link: report/missing.html does not exist" in text
    assert "blank.html: the page is blank" in text
