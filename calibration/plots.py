"""Matplotlib figures of a calibration report, as base64 PNG for inline ``<img>`` tags.

Every function returns the PNG of one figure (Agg backend, no display needed).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from calibration.frames import WEEKDAYS
from calibration.reference_scoring import AMOUNT_BINS, RELATIVE_BINS

__all__ = [
    "convergence_png",
    "distributions_png",
    "profiles_png",
    "target_shares_png",
]

_STYLES = {
    "reference": {"color": "black", "lw": 2.0, "label": "reference (held out)"},
    "default": {"color": "C1", "lw": 1.5, "ls": "--", "label": "before (defaults)"},
    "final": {"color": "C0", "lw": 1.5, "label": "after (calibrated)"},
}


def _pyplot() -> ModuleType:
    """matplotlib.pyplot on the Agg backend, imported lazily (slow, not needed by the loop)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def convergence_png(losses: Sequence[float], label: str = "fit loss (fit seed)") -> str:
    """Loss of every simulator call and the best so far."""
    plt = _pyplot()
    best = np.minimum.accumulate(np.asarray(losses, dtype=float))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(losses, ".", color="0.6", label="trial")
    ax.plot(best, "-", color="C0", label="best so far")
    ax.axhline(losses[0], color="C1", ls="--", lw=1, label="defaults (trial 0)")
    ax.set_xlabel("simulator call")
    ax.set_ylabel(label)
    ax.legend()
    return _png(fig)


def _shares(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    total = array.sum()
    return array / total if total > 0 else array


def profiles_png(profiles: Mapping[str, Mapping[str, Any]], reference: str) -> str:
    """Hour-of-day and weekday shares: reference against before and after."""
    plt = _pyplot()
    fig, (ax_h, ax_w) = plt.subplots(1, 2, figsize=(11, 3.5), gridspec_kw={"width_ratios": [3, 1]})
    for key in ("reference", "default", "final"):
        profile = profiles[reference if key == "reference" else key]
        hours = _shares(profile["hour"])
        if hours.sum() > 0:
            ax_h.plot(range(24), hours, **_STYLES[key])
        ax_w.plot(range(len(WEEKDAYS)), _shares(profile["weekday"]), marker="o", **_STYLES[key])
    ax_h.set_xlabel("hour of day (rows with a known time)")
    ax_h.set_ylabel("share of transactions")
    ax_h.set_xticks(range(0, 24, 3))
    ax_w.set_xticks(range(len(WEEKDAYS)), WEEKDAYS)
    ax_w.set_ylabel("share")
    ax_h.legend(fontsize=8)
    return _png(fig)


def distributions_png(profiles: Mapping[str, Mapping[str, Any]], reference: str) -> str:
    """Amounts, spend per user-month and transactions per user-month: before/after/reference."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
    relative = bool(profiles[reference].get("relative", False))
    edges = RELATIVE_BINS if relative else AMOUNT_BINS
    centres = (edges[:-1] + edges[1:]) / 2
    for key in ("reference", "default", "final"):
        profile = profiles[reference if key == "reference" else key]
        style = dict(_STYLES[key])
        axes[0].plot(10**centres, _shares(profile["amount_hist"]), **style)
        spend = np.asarray(profile["spend_per_user_month"], dtype=float)
        txns = np.asarray(profile["txn_per_user_month"], dtype=float)
        if len(spend):
            bins = np.logspace(-2, 2, 41) if relative else np.logspace(3, 8, 41)
            axes[1].hist(spend, bins=bins, density=True, histtype="step", **_hist(style))
            top = max(10.0, float(np.quantile(txns, 0.99)))
            axes[2].hist(
                txns, bins=np.linspace(0, top, 31), density=True, histtype="step", **_hist(style)
            )
    unit = "÷ sample median (currency scale assumed)" if relative else "(KRW)"
    axes[0].set_xscale("log")
    axes[0].set_xlabel(f"amount {unit}")
    axes[0].set_ylabel("share of transactions")
    axes[1].set_xscale("log")
    axes[1].set_xlabel(f"spend per user-month {unit}")
    axes[2].set_xlabel("transactions per user-month")
    axes[0].legend(fontsize=8)
    return _png(fig)


def _hist(style: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in style.items() if k in ("color", "label", "ls")} | {"lw": 1.5}


def target_shares_png(metrics: pd.DataFrame) -> str:
    """Share targets (one panel per statistic and filter): target, before and after."""
    plt = _pyplot()
    shares = metrics.loc[metrics["statistic"].str.contains("share")]
    groups = list(shares.groupby(["statistic", "filter"], sort=False))
    if not groups:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no share targets", ha="center")
        return _png(fig)
    cols = min(3, len(groups))
    rows = -(-len(groups) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
    for ax, ((statistic, row_filter), group) in zip(axes.ravel(), groups, strict=False):
        x = np.arange(len(group))
        target = group["target"].to_numpy(dtype=float)
        ax.bar(x - 0.27, target / target.sum(), 0.27, color="black", label="target")
        ax.bar(x, group["default"], 0.27, color="C1", label="before")
        ax.bar(x + 0.27, group["final"], 0.27, color="C0", label="after")
        ax.set_xticks(x, group["key"], rotation=45, fontsize=8)
        ax.set_title(f"{statistic} [{row_filter}]" if row_filter else statistic, fontsize=9)
    for ax in axes.ravel()[len(groups) :]:
        ax.axis("off")
    axes[0][0].legend(fontsize=8)
    return _png(fig)
