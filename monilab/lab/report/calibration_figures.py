"""Figures of the calibration report (embedded PNG, so ``report.html`` is one file): the
convergence of the search, share targets against before/after, and for microdata the
before/after distributions and hour/weekday profiles against the held-out reference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calibration.frames import WEEKDAYS
from calibration.reference_scoring import AMOUNT_BINS, RELATIVE_BINS
from monilab.lab.report.figures import Chart, embed_png, new_figure

__all__ = ["convergence_chart", "distributions_chart", "profiles_chart", "target_shares_chart"]

SAMPLES = ("reference", "default", "final")
_STYLES = {
    "reference": {"color": "black", "lw": 2.0, "label": "reference (held out)"},
    "default": {"color": "C1", "lw": 1.5, "ls": "--", "label": "before (defaults)"},
    "final": {"color": "C0", "lw": 1.5, "label": "after (calibrated)"},
}


def convergence_chart(losses: Sequence[float], label: str = "fit loss (fit seed)") -> Chart:
    """Loss of every simulator call and the best so far."""
    best = np.minimum.accumulate(np.asarray(losses, dtype=float))
    fig, ax = new_figure(figsize=(7, 3.5))
    ax.plot(losses, ".", color="0.6", label="trial")
    ax.plot(best, "-", color="C0", label="best so far")
    if len(losses):
        ax.axhline(losses[0], color="C1", ls="--", lw=1, label="defaults (trial 0)")
    ax.set_xlabel("simulator call")
    ax.set_ylabel(label)
    ax.legend()
    return embed_png(fig, caption="Convergence of the search", points=len(losses))


def _shares(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    total = array.sum()
    return array / total if total > 0 else array


def _profile(profiles: Mapping[str, Mapping[str, Any]], reference: str, key: str) -> Any:
    return profiles[reference if key == "reference" else key]


def profiles_chart(profiles: Mapping[str, Mapping[str, Any]], reference: str) -> Chart:
    """Hour-of-day and weekday shares: reference against before and after."""
    fig, (ax_h, ax_w) = new_figure(1, 2, figsize=(11, 3.5), gridspec_kw={"width_ratios": [3, 1]})
    points = 0
    for key in SAMPLES:
        profile = _profile(profiles, reference, key)
        hours = _shares(profile["hour"])
        if hours.sum() > 0:
            ax_h.plot(range(24), hours, **_STYLES[key])
            points += len(hours)
        weekdays = _shares(profile["weekday"])
        ax_w.plot(range(len(WEEKDAYS)), weekdays, marker="o", **_STYLES[key])
        points += len(weekdays)
    ax_h.set_xlabel("hour of day (rows with a known time)")
    ax_h.set_ylabel("share of transactions")
    ax_h.set_xticks(range(0, 24, 3))
    ax_w.set_xticks(range(len(WEEKDAYS)), WEEKDAYS)
    ax_w.set_ylabel("share")
    ax_h.legend(fontsize=8)
    caption = "Hour and weekday profiles: reference (held out), before and after"
    return embed_png(fig, caption=caption, points=points, wide=True)


def _hist(style: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in style.items() if k in ("color", "label", "ls")} | {"lw": 1.5}


def distributions_chart(profiles: Mapping[str, Mapping[str, Any]], reference: str) -> Chart:
    """Amounts, spend per user-month and transactions per user-month: before/after/reference."""
    fig, axes = new_figure(1, 3, figsize=(13, 3.5))
    relative = bool(profiles[reference].get("relative", False))
    edges = RELATIVE_BINS if relative else AMOUNT_BINS
    centres = (edges[:-1] + edges[1:]) / 2
    points = 0
    for key in SAMPLES:
        profile = _profile(profiles, reference, key)
        style = dict(_STYLES[key])
        axes[0].plot(10**centres, _shares(profile["amount_hist"]), **style)
        points += len(centres)
        spend = np.asarray(profile["spend_per_user_month"], dtype=float)
        txns = np.asarray(profile["txn_per_user_month"], dtype=float)
        if len(spend):
            bins = np.logspace(-2, 2, 41) if relative else np.logspace(3, 8, 41)
            axes[1].hist(spend, bins=bins, density=True, histtype="step", **_hist(style))
            top = max(10.0, float(np.quantile(txns, 0.99)))
            axes[2].hist(
                txns, bins=np.linspace(0, top, 31), density=True, histtype="step", **_hist(style)
            )
            points += len(spend) + len(txns)
    unit = "÷ sample median (currency scale assumed)" if relative else "(KRW)"
    axes[0].set_xscale("log")
    axes[0].set_xlabel(f"amount {unit}")
    axes[0].set_ylabel("share of transactions")
    axes[1].set_xscale("log")
    axes[1].set_xlabel(f"spend per user-month {unit}")
    axes[2].set_xlabel("transactions per user-month")
    axes[0].legend(fontsize=8)
    caption = "Amounts, spend and transactions per user-month: reference, before and after"
    return embed_png(fig, caption=caption, points=points, wide=True)


def target_shares_chart(metrics: pd.DataFrame, caption: str) -> Chart | None:
    """Share targets (one panel per statistic and filter): target, before and after; None
    when there are no share targets."""
    shares = metrics.loc[metrics["statistic"].astype(str).str.contains("share")]
    groups = list(shares.groupby(["statistic", "filter"], sort=False))
    if not groups:
        return None
    cols = min(3, len(groups))
    rows = -(-len(groups) // cols)
    fig, axes = new_figure(rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
    for ax, ((statistic, row_filter), group) in zip(axes.ravel(), groups, strict=False):
        x = np.arange(len(group))
        target = group["target"].to_numpy(dtype=float)
        ax.bar(x - 0.27, target / target.sum(), 0.27, color="black", label="target")
        ax.bar(x, group["default"].to_numpy(dtype=float), 0.27, color="C1", label="before")
        ax.bar(x + 0.27, group["final"].to_numpy(dtype=float), 0.27, color="C0", label="after")
        ax.set_xticks(x, group["key"].astype(str), rotation=45, fontsize=8)
        ax.set_title(f"{statistic} [{row_filter}]" if row_filter else statistic, fontsize=9)
    for ax in axes.ravel()[len(groups) :]:
        ax.axis("off")
    axes[0][0].legend(fontsize=8)
    return embed_png(fig, caption=caption, points=3 * len(shares), wide=True)
