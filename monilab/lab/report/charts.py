"""Charts of the lab's own pages (population, load, browser): horizontal bars, grouped bars,
box plots and lines, each written as a PNG beside its page through :mod:`figures`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from monilab.lab.report.figures import Chart, new_figure, save_png


def bar_plot(
    path: Path, labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str
) -> Chart:
    """A horizontal bar chart (one bar per label)."""
    fig, ax = new_figure(figsize=(6.4, 0.35 * max(len(labels), 4) + 1.2))
    ax.barh(list(labels), list(values), color="#4c72b0")
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return save_png(fig, path, caption=title, points=sum(1 for v in values if v == v))


def grouped_bar_plot(
    path: Path,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    xlabel: str,
) -> Chart:
    """Horizontal bars grouped by label, one bar per series (None values are left out)."""
    fig, ax = new_figure(figsize=(6.4, 0.55 * max(len(labels), 4) + 1.2))
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
    return save_png(fig, path, caption=title, points=points)


def box_plot(
    path: Path, groups: Mapping[str, Sequence[float]], *, title: str, xlabel: str
) -> Chart:
    """Horizontal box plots, one per group (groups without values are left out)."""
    groups = {k: list(v) for k, v in groups.items() if len(v)}
    fig, ax = new_figure(figsize=(6.4, 0.4 * max(len(groups), 4) + 1.2))
    if groups:
        ax.boxplot(list(groups.values()), vert=False, showfliers=False)
        ax.set_yticks(range(1, len(groups) + 1), list(groups))
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return save_png(fig, path, caption=title, points=sum(len(v) for v in groups.values()))


def line_plot(
    path: Path,
    x: Sequence[float | None],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    xticks: Sequence[str] | None = None,
) -> Chart:
    """Lines over a shared x axis (None values are gaps)."""
    fig, ax = new_figure(figsize=(6.4, 3.6))
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
    return save_png(fig, path, caption=title, points=points)
