"""Open a report in real Chromium and list what is broken: dead links, images that did not
load, charts without data, pages that render blank.

Starting from the index, every local link is followed (one level of pages written by other
tools, e.g. the model card or Locust's report, is opened and checked too). A screenshot of
each page is saved next to the check's output, so a person can look at what was checked.

Example::

    problems = check_report(Path("out/run/index.html"), shots=Path("out/run/report/shots"))
    assert not problems, problems
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from sim.browser.options import CHROMIUM
from sim.browser.runner import CHROMIUM_ARGS

_PAGE_FACTS = """() => ({
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  images: Array.from(document.images).map(img => ({
    src: img.currentSrc || img.src,
    loaded: img.complete && img.naturalWidth > 0,
    width: img.naturalWidth,
    points: img.dataset.points === undefined ? null : Number(img.dataset.points),
  })),
  text: document.body ? document.body.innerText.trim().length : 0,
})"""


@dataclass(frozen=True)
class PageCheck:
    """What was seen on one page."""

    path: Path
    images: int
    links: int
    screenshot: Path | None


def _local_file(url: str) -> Path | None:
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def check_report(
    index: Path,
    *,
    shots: Path | None = None,
    chromium: Path = CHROMIUM,
    timeout_s: float = 20.0,
) -> tuple[list[str], list[PageCheck]]:
    """Check the report whose index is ``index``; returns (problems, pages checked)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    index = index.resolve()
    root = index.parent
    problems: list[str] = []
    checked: list[PageCheck] = []
    seen: set[Path] = set()
    queue: deque[tuple[Path, int]] = deque([(index, 0)])
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(timeout_s * 1000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            while queue:
                path, depth = queue.popleft()
                if path in seen:
                    continue
                seen.add(path)
                name = path.relative_to(root) if path.is_relative_to(root) else path
                if not path.is_file():
                    problems.append(f"broken link: {name} does not exist")
                    continue
                if path.suffix.lower() not in (".html", ".htm"):
                    continue  # a PNG, CSV or JSON linked for download: existing is enough
                errors.clear()
                try:
                    page.goto(path.as_uri(), wait_until="load")
                except PlaywrightError as exc:
                    problems.append(f"{name}: did not load ({str(exc).splitlines()[0]})")
                    continue
                facts = page.evaluate(_PAGE_FACTS)
                problems += [f"{name}: script error: {e}" for e in errors]
                if facts["text"] == 0:
                    problems.append(f"{name}: the page is blank")
                for img in facts["images"]:
                    if not img["loaded"]:
                        problems.append(f"{name}: image did not load: {img['src'][:120]}")
                    elif img["points"] is not None and img["points"] <= 0:
                        problems.append(f"{name}: empty chart: {img['src'][:120]}")
                shot = None
                if shots is not None:
                    shot = shots / (str(name).replace("/", "__") + ".png")
                    page.screenshot(path=str(shot), full_page=True)
                checked.append(PageCheck(path, len(facts["images"]), len(facts["links"]), shot))
                own_page = depth == 0 or path.parent == root / "report"
                for href in facts["links"]:
                    target = _local_file(href)
                    if target is not None and own_page:
                        queue.append((target, depth + 1))
        finally:
            browser.close()
    return problems, checked
