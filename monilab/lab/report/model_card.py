"""The model card (``model_card.html`` in the models directory): the metrics of
:func:`analysis.training.train` as tables, its figures as PNG files beside the card
(``confusion.png``, ``pr_curves.png``, ``forecast.png``) and the whole ``metrics.json``.

Example::

    result = train(data, models)
    write_model_card(result, models)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from monilab.lab.report.figures import Chart, new_figure, save_png
from monilab.lab.report.model_card_extras import extra_sections
from monilab.lab.report.render import Note, Section, Table, write_page

if TYPE_CHECKING:
    from analysis.training import TrainingResult, WeeklyTotals

__all__ = ["model_card_sections", "plot_confusions", "write_model_card"]

TYPE_MODELS = ("kmeans", "random_forest", "xgboost", "lightgbm", "style")
ANOMALY_METHODS = ("iqr", "isolation_forest", "kmeans", "ensemble")
FMT = ".4f"
"""Float cells of the card's tables."""


def write_model_card(result: TrainingResult, out: str | Path) -> Path:
    """Write the figures and ``model_card.html`` of ``result`` into ``out``."""
    out = Path(out)
    metrics = result.metrics
    charts = [plot_confusions(metrics["types"]["held_out"], out / "confusion.png")]
    if result.pr_curves:
        charts.append(plot_pr_curves(result.pr_curves, out / "pr_curves.png"))
    charts.append(plot_forecast(result.weekly, out / "forecast.png"))
    return write_page(
        out / "model_card.html",
        "sections.html",
        title="Moni Lab models",
        back=None,
        intro=[
            Note(
                f"data: {metrics['data']}, users {metrics['users']:,}, "
                f"transactions {metrics['transactions']:,}",
                testid="card-data",
            )
        ],
        sections=[
            *model_card_sections(metrics),
            Section("Figures", figures=charts),
            Section(
                "metrics.json",
                preformatted=json.dumps(metrics, indent=1, default=str),
                testid="metrics-json",
            ),
        ],
    )


def model_card_sections(metrics: dict[str, Any]) -> list[Section]:
    """The card's sections for ``metrics`` (the ``metrics.json`` content)."""
    return [
        *_type_sections(metrics),
        _anomaly_section(metrics["anomaly"]),
        _forecast_section(metrics["forecast"]),
        *extra_sections(metrics),
    ]


def _type_rows(types: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"model": name, "macro-F1": v["macro_f1"], "accuracy": v["accuracy"]}
        for name, v in types.items()
    ]


def _type_sections(metrics: dict[str, Any]) -> list[Section]:
    types = metrics["types"]["held_out"]
    km = types["kmeans"]
    columns = ["model", "macro-F1", "accuracy"]
    sections = [
        Section(
            "Spending type (held-out users)",
            tables=[Table(columns, _type_rows(types), testid="types", fmt=FMT)],
            after=[
                f"K-means: ARI {km['ari']:.3f}, NMI {km['nmi']:.3f}; "
                f"app model: {metrics['types'].get('app_model', '—')}"
            ],
        )
    ]
    if "eval" in metrics:
        other = metrics["eval"]["types"]
        sections.append(
            Section(
                f"Another dataset ({metrics['eval']['data']})",
                tables=[Table(columns, _type_rows(other), testid="eval-types", fmt=FMT)],
                level=3,
            )
        )
    return sections


def _anomaly_section(an: dict[str, Any]) -> Section:
    rows = [
        {
            "method": m,
            "PR-AUC": an[m]["pr_auc"],
            "precision@budget": an[m]["precision_at_budget"],
            "recall@budget": an[m]["recall_at_budget"],
        }
        for m in ANOMALY_METHODS
        if m in an
    ]
    columns = ["method", "PR-AUC", "precision@budget", "recall@budget"]
    return Section(
        f"Anomalies ({an['cells']} cells, budget {an['iqr_alerts']})",
        tables=[Table(columns, rows, testid="anomaly", fmt=FMT)],
    )


def _forecast_section(fc: dict[str, Any]) -> Section:
    rows = [
        {
            "model": k,
            "cell WAPE": v["cells"]["wape"],
            "cell MAE": v["cells"]["mae"],
            "weekly-total WAPE": v["weekly_total"]["wape"],
        }
        for k, v in fc.items()
        if isinstance(v, dict) and "weekly_total" in v
    ]
    columns = ["model", "cell WAPE", "cell MAE", "weekly-total WAPE"]
    return Section(
        "Next-week forecast (time split)",
        tables=[Table(columns, rows, testid="forecast", fmt=FMT)],
        after=[f"all-zero forecast cell WAPE {fc['zero_forecast']['wape']:.3f}"],
    )


def plot_confusions(types: dict[str, Any], path: Path) -> Chart:
    """One confusion matrix per type model (rows true, columns predicted)."""
    names = [n for n in TYPE_MODELS if n in types]
    fig, axes = new_figure(1, len(names), figsize=(4.2 * len(names), 4))
    points = 0
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        cm = np.array(types[name]["confusion"])
        labels = types[name]["labels"]
        points += int(cm.sum())
        ax.imshow(cm, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=60, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7)
        ax.set_title(f"{name} (macro-F1 {types[name]['macro_f1']:.3f})", fontsize=9)
    caption = "Confusion matrices of the type models (held-out users; rows true, columns predicted)"
    return save_png(fig, path, caption=caption, points=points, dpi=72, wide=True)


def plot_pr_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> Chart:
    """Precision-recall curves of the anomaly methods."""
    fig, ax = new_figure(figsize=(5, 4))
    for name, (precision, recall) in curves.items():
        ax.plot(recall, precision, label=name)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("anomaly cells: precision-recall")
    ax.legend(fontsize=8)
    points = sum(len(recall) for _, recall in curves.values())
    caption = "Precision-recall of the anomaly methods on user-day-category cells"
    return save_png(fig, path, caption=caption, points=points, dpi=72)


def plot_forecast(weekly: WeeklyTotals, path: Path) -> Chart:
    """Actual vs forecast total consumption per week over the test users."""
    fig, ax = new_figure(figsize=(6, 3.5))
    for name, values in weekly.series.items():
        ax.plot(weekly.weeks, np.asarray(values) / 1e6, marker="o", label=name)
    ax.set_ylabel("total spend (million KRW)")
    ax.set_title("weekly consumption, test weeks")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    points = sum(int(np.isfinite(np.asarray(v, dtype=float)).sum()) for v in weekly.series.values())
    caption = "Weekly consumption of the test users: actual against the forecasts"
    return save_png(fig, path, caption=caption, points=points, dpi=72)
