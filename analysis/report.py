"""The model card: metrics.json rendered as HTML with matplotlib PNGs next to it."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusions(types: dict[str, Any], path: Path) -> None:
    """One confusion matrix per type model (rows true, columns predicted)."""
    plt = _figure()
    names = [n for n in ("kmeans", "random_forest", "xgboost", "lightgbm", "style") if n in types]
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 4))
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        cm = np.array(types[name]["confusion"])
        labels = types[name]["labels"]
        ax.imshow(cm, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=60, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7)
        ax.set_title(f"{name} (macro-F1 {types[name]['macro_f1']:.3f})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def plot_pr_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> None:
    """Precision-recall curves of the anomaly methods."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, (precision, recall) in curves.items():
        ax.plot(recall, precision, label=name)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("anomaly cells: precision-recall")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def plot_forecast(weekly: dict[str, np.ndarray], weeks: np.ndarray, path: Path) -> None:
    """Actual vs forecast total consumption per week over the test users."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, values in weekly.items():
        ax.plot(weeks, values / 1e6, marker="o", label=name)
    ax.set_ylabel("total spend (million KRW)")
    ax.set_title("weekly consumption, test weeks")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def _table(rows: list[list[Any]], head: list[str]) -> str:
    def cell(v: Any) -> str:
        return f"{v:.4f}" if isinstance(v, float) else html.escape(str(v))

    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    return "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + f"</tr>{body}</table>"


def model_card(result: dict[str, Any], out: Path, images: list[str]) -> Path:
    """Write ``model_card.html`` summarising ``result`` with the given PNG file names."""
    types = result["types"]["held_out"]
    sections = [
        "<h1>Moni Lab models</h1>",
        f"<p>data: {html.escape(result['data'])}, users "
        f"{result['users']}, transactions {result['transactions']}</p>",
    ]
    rows = [[n, types[n]["macro_f1"], types[n]["accuracy"]] for n in types]
    sections.append("<h2>Spending type (held-out users)</h2>")
    sections.append(_table(rows, ["model", "macro-F1", "accuracy"]))
    km = types["kmeans"]
    sections.append(f"<p>K-means: ARI {km['ari']:.3f}, NMI {km['nmi']:.3f}</p>")
    if "eval" in result:
        other = result["eval"]["types"]
        rows = [[n, other[n]["macro_f1"], other[n]["accuracy"]] for n in other]
        sections.append(f"<h3>Another dataset ({html.escape(result['eval']['data'])})</h3>")
        sections.append(_table(rows, ["model", "macro-F1", "accuracy"]))
    an = result["anomaly"]
    rows = [
        [m, an[m]["pr_auc"], an[m]["precision_at_budget"], an[m]["recall_at_budget"]]
        for m in ("iqr", "isolation_forest", "kmeans", "ensemble")
        if m in an
    ]
    sections.append(f"<h2>Anomalies ({an['cells']} cells, budget {an['iqr_alerts']})</h2>")
    sections.append(_table(rows, ["method", "PR-AUC", "precision@budget", "recall@budget"]))
    fc = result["forecast"]
    rows = [
        [k, v["cells"]["wape"], v["cells"]["mae"], v["weekly_total"]["wape"]]
        for k, v in fc.items()
        if isinstance(v, dict) and "weekly_total" in v
    ]
    sections.append("<h2>Next-week forecast (time split)</h2>")
    sections.append(_table(rows, ["model", "cell WAPE", "cell MAE", "weekly-total WAPE"]))
    sections.append(f"<p>all-zero forecast cell WAPE {fc['zero_forecast']['wape']:.3f}</p>")
    from analysis.report_extras import sections as extra_sections

    sections += extra_sections(result)
    sections += [f'<img src="{html.escape(name)}" alt="{html.escape(name)}">' for name in images]
    sections.append(
        "<h2>metrics.json</h2><pre>" + html.escape(json.dumps(result, indent=1)) + "</pre>"
    )
    style = (
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:2px 6px}</style>"
    )
    path = out / "model_card.html"
    path.write_text(f"<!doctype html><meta charset=utf-8>{style}" + "\n".join(sections))
    return path
