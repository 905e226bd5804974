"""Korean text renders as Hangul in the lab's Chromium, not as empty boxes (marked integration).

Chromium is launched as :mod:`sim.browser` launches it. The page uses the app's own font stack
(``target_app/static/style.css``), so what is checked is what the app's pages and failure
screenshots show. Empty boxes ("tofu") are all drawn alike, so distinct syllables must give
distinct images, and the fonts Chromium used for them (DevTools' ``getPlatformFontsForNode``)
must be a CJK font.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.browser.runner import CHROMIUM_ARGS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SETUP = "install a CJK font: scripts/setup.sh (Debian's fonts-noto-cjk)"
STYLE = Path(__file__).resolve().parents[3] / "target_app" / "static" / "style.css"
SYLLABLES = "모니가계부"
UNASSIGNED = "\u0378\u0379"  # no font has these: both are drawn as the same empty box


def _app_font_stack() -> str:
    match = re.search(r"body\s*\{[^}]*?font-family:\s*([^;]+);", STYLE.read_text("utf-8"))
    assert match, f"no body font-family in {STYLE}"
    return match.group(1)


def _page_html() -> str:
    cells = "".join(
        f'<span class="g" id="g{k}">{ch}</span>' for k, ch in enumerate(SYLLABLES + UNASSIGNED)
    )
    return f"""<!doctype html><html lang="ko"><head><meta charset="utf-8"><style>
      body {{ margin: 0; font-family: {_app_font_stack()}; background: #fff; color: #000; }}
      .g {{ display: inline-block; width: 48px; height: 48px; font-size: 36px;
            line-height: 48px; text-align: center; }}
    </style></head><body><h1 id="title">모니 가계부</h1><div>{cells}</div></body></html>"""


@pytest.fixture(scope="module")
def page(chromium: Path) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            tab = browser.new_page(device_scale_factor=1)
            tab.set_content(_page_html())
            tab.evaluate("document.fonts.ready")
            yield tab
        finally:
            browser.close()


def test_distinct_syllables_are_drawn_distinctly(page) -> None:
    images = [page.locator(f"#g{k}").screenshot() for k in range(len(SYLLABLES) + 2)]
    hangul, boxes = images[: len(SYLLABLES)], images[len(SYLLABLES) :]
    assert boxes[0] == boxes[1], "control: characters without a glyph are drawn alike"
    assert len(set(hangul)) == len(SYLLABLES), f"Hangul drawn as boxes: {SETUP}"
    assert boxes[0] not in hangul, f"Hangul drawn as boxes: {SETUP}"


def test_the_title_is_drawn_with_a_cjk_font(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    title = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#title"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": title})["fonts"]
    hangul_glyphs = sum(
        font["glyphCount"]
        for font in fonts
        if "CJK" in font["familyName"] or "KR" in font["familyName"]
    )
    assert hangul_glyphs >= len("모니가계부"), f"fonts used: {fonts}; {SETUP}"
