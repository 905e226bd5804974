"""Figures of the report: the one place that loads matplotlib (Agg backend), creates a
figure and turns it into a PNG, written beside a page or embedded in it.

Every chart is tagged with how many data points it shows: a chart with nothing in it is an
error here (and a failure in the report check, which reads ``data-points``).

Example::

    fig, ax = new_figure(figsize=(6, 3))
    ax.plot(x, y)
    chart = save_png(fig, out / "img" / "x.png", caption="x over time", points=len(y))
"""

from __future__ import annotations

import base64
import functools
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.figure import Figure

from monilab.lab.report.render import relative

__all__ = ["Chart", "Figure", "embed_png", "new_figure", "save_png", "use_korean_font"]

log = logging.getLogger(__name__)

KOREAN_FAMILY = "Noto Sans CJK KR"
KOREAN_FONT_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
)
"""Debian's fonts-noto-cjk (installed by scripts/setup.sh)."""


@dataclass(frozen=True)
class Chart:
    """A PNG shown on a page.

    Attributes:
        caption: Caption and alt text.
        points: Data points drawn (None: not counted).
        path: The PNG file (None when embedded).
        data: The PNG bytes, base64 (embedded charts only).
        wide: Shown at the page's full width.
    """

    caption: str
    points: int | None
    path: Path | None = None
    data: str | None = None
    wide: bool = False

    def src(self, page_dir: Path) -> str:
        """The ``src`` of the image on a page in ``page_dir``."""
        if self.path is None:
            return f"data:image/png;base64,{self.data}"
        return relative(self.path, page_dir)


def new_figure(
    nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **kwargs: Any
) -> tuple[Figure, Any]:
    """A new figure and its axes (as :func:`matplotlib.pyplot.subplots`)."""
    use_korean_font()
    return plt.subplots(nrows, ncols, figsize=figsize, **kwargs)


@functools.cache
def use_korean_font() -> bool:
    """Draw Hangul in labels (personas, merchants) with Noto Sans CJK KR; False without it.

    matplotlib's default font (DejaVu Sans) has no Hangul, so every Korean syllable would be
    an empty box: the CJK font is appended to ``font.family`` as a per-glyph fallback.
    matplotlib's font list is a cache that may predate the font, so Debian's files are added
    to it when they are on disk but missing from the cache.
    """
    manager = font_manager.fontManager
    if not any(font.name == KOREAN_FAMILY for font in manager.ttflist):
        for path in KOREAN_FONT_FILES:
            if path.is_file():
                manager.addfont(path)
    if not any(font.name == KOREAN_FAMILY for font in manager.ttflist):
        log.warning("no %s font: Korean labels in figures are boxes", KOREAN_FAMILY)
        return False
    families = [f for f in matplotlib.rcParams["font.family"] if f != KOREAN_FAMILY]
    matplotlib.rcParams["font.family"] = [*families, KOREAN_FAMILY]
    return True


def _png(fig: Figure, name: str, caption: str, points: int | None, dpi: int) -> bytes:
    """The PNG bytes of ``fig``, which is closed (ValueError when it shows no data)."""
    try:
        if points is not None and points <= 0:
            raise ValueError(f"plot {name!r} ({caption}) has no data")
        buffer = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=dpi)
        return buffer.getvalue()
    finally:
        plt.close(fig)


def save_png(
    fig: Figure,
    path: Path,
    *,
    caption: str,
    points: int | None,
    dpi: int = 90,
    wide: bool = False,
) -> Chart:
    """Write ``fig`` to ``path`` and close it (ValueError, nothing written, when
    ``points`` is 0)."""
    png = _png(fig, path.name, caption, points, dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return Chart(caption, points, path=path, wide=wide)


def embed_png(
    fig: Figure, *, caption: str, points: int | None, dpi: int = 90, wide: bool = False
) -> Chart:
    """``fig`` as a PNG embedded in the page (a self-contained file); closes it."""
    data = base64.b64encode(_png(fig, "embedded", caption, points, dpi)).decode("ascii")
    return Chart(caption, points, data=data, wide=wide)
