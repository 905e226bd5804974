"""Plots of the report: matplotlib (Agg) PNG files, each tagged with how many data points
it shows, so a chart with nothing in it is an error here and a failure in the report check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from monilab.lab.report.html import esc


@dataclass(frozen=True)
class Plot:
    """A PNG written for a page: its file, caption and number of data points drawn."""

    path: Path
    caption: str
    points: int

    def html(self, page_dir: Path) -> str:
        """A ``<figure>`` for a page in ``page_dir`` (relative link)."""
        src = self.path.relative_to(page_dir).as_posix()
        return (
            f'<figure><img src="{esc(src)}" alt="{esc(self.caption)}" '
            f'data-points="{self.points}"><figcaption>{esc(self.caption)}</figcaption></figure>'
        )


def _save(fig: plt.Figure, path: Path, caption: str, points: int) -> Plot:
    if points <= 0:
        plt.close(fig)
        raise ValueError(f"plot {path.name!r} ({caption}) has no data")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Plot(path, caption, points)


def bar_plot(
    path: Path, labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str
) -> Plot:
    """A horizontal bar chart (one bar per label)."""
    fig, ax = plt.subplots(figsize=(6.4, 0.35 * max(len(labels), 4) + 1.2))
    ax.barh(list(labels), list(values), color="#4c72b0")
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path, title, sum(1 for v in values if v == v))


def grouped_bar_plot(
    path: Path,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    xlabel: str,
) -> Plot:
    """Horizontal bars grouped by label, one bar per series (None values are left out)."""
    fig, ax = plt.subplots(figsize=(6.4, 0.55 * max(len(labels), 4) + 1.2))
    height = 0.8 / max(len(series), 1)
    points = 0
    for k, (name, values) in enumerate(series.items()):
        ys = [i + (k - (len(series) - 1) / 2) * height for i in range(len(labels))]
        xs = [float("nan") if v is None else float(v) for v in values]
        points += sum(1 for v in xs if v == v)
        ax.barh(ys, xs, height=height, label=name)
    ax.set_yticks(range(len(labels)), list(labels))
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path, title, points)


def box_plot(path: Path, groups: Mapping[str, Sequence[float]], *, title: str, xlabel: str) -> Plot:
    """Horizontal box plots, one per group (groups without values are left out)."""
    groups = {k: list(v) for k, v in groups.items() if len(v)}
    fig, ax = plt.subplots(figsize=(6.4, 0.4 * max(len(groups), 4) + 1.2))
    if groups:
        ax.boxplot(list(groups.values()), vert=False, showfliers=False)
        ax.set_yticks(range(1, len(groups) + 1), list(groups))
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path, title, sum(len(v) for v in groups.values()))


def line_plot(
    path: Path,
    x: Sequence[float],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    xticks: Sequence[str] | None = None,
) -> Plot:
    """Lines over a shared x axis (None values are gaps)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    points = 0
    for name, ys in series.items():
        values = [float("nan") if y is None else float(y) for y in ys]
        points += sum(1 for v in values if v == v)
        ax.plot(list(x), values, label=name, linewidth=1.4)
    if xticks is not None:
        ax.set_xticks(list(x), list(xticks))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize="small", ncols=2)
    return _save(fig, path, title, points)
