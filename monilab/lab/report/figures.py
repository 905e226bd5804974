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
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from monilab.lab.report.render import relative

__all__ = ["Chart", "Figure", "embed_png", "new_figure", "save_png"]


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
    return plt.subplots(nrows, ncols, figsize=figsize, **kwargs)


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
