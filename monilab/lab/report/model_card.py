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
from monilab.lab.report.model_card_anomaly import anomaly_sections
from monilab.lab.report.model_card_extras import extra_sections
from monilab.lab.report.render import Note, Section, Table, write_page

if TYPE_CHECKING:
    from analysis.training import TrainingResult, WeeklyTotals

__all__ = ["model_card_sections", "plot_confusions", "trained_on_line", "write_model_card"]

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
            ),
            Note(trained_on_line(metrics.get("trained_on", {})), testid="card-trained-on"),
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


def trained_on_line(source: dict[str, Any]) -> str:
    """Which data the models learned from, in one line."""
    if "users_joined" not in source:
        return f"trained on: {source.get('kind', 'a dataset')} {source.get('data', '')}".rstrip()
    return (
        f"trained on: the app's export {source['export']} joined to the ground truth "
        f"{source['truth']}: {source['users_joined']:,} of {source['users_exported']:,} "
        f"exported users are agents, {source['spendings_joined']:,} stored spendings "
        f"({source['spendings_unplanned']:,} no agent planned), "
        f"{source.get('users_with_live_requests', 0):,} users with live requests"
    )


def model_card_sections(metrics: dict[str, Any]) -> list[Section]:
    """The card's sections for ``metrics`` (the ``metrics.json`` content)."""
    return [
        *_type_sections(metrics),
        *anomaly_sections(metrics["anomaly"]),
        _anomaly_section(metrics["anomaly"]),
        _forecast_section(metrics["forecast"]),
        *extra_sections(metrics),
        *_app_usage_sections(metrics.get("app_usage")),
    ]


USAGE_VARIANTS = {
    "spending": "spending features",
    "spending_and_usage": "spending + app-usage features",
    "usage_only": "app-usage features only",
}


def _app_usage_sections(usage: dict[str, Any] | None) -> list[Section]:
    """What the request log's app-usage features add to the type model (export runs)."""
    if not usage:
        return []
    if "skipped" in usage:
        return [Section("App usage (request log)", before=[f"Not scored: {usage['skipped']}"])]
    rows = [
        {
            "features": label,
            "macro-F1 [95 %]": _interval(usage["variants"][name]),
            "chance": usage["variants"][name]["chance_macro_f1"],
        }
        for name, label in USAGE_VARIANTS.items()
    ]
    return [
        Section(
            "App usage (request log)",
            before=[
                f"Type classifier (LightGBM) cross-validated over the {usage['users']} users "
                f"with live requests ({usage['folds']} folds), with and without features from "
                "the app's request log (sessions, pages viewed, notification reads)."
            ],
            tables=[Table(list(rows[0]), rows, testid="app-usage", fmt=FMT)],
            after=[usage["verdict"]],
        )
    ]


def _type_rows(types: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"model": name, "macro-F1": v["macro_f1"], "accuracy": v["accuracy"]}
        for name, v in types.items()
    ]


GENERALISATION = {
    "held_out_personas": "held-out personas",
    "perturbed": "perturbed persona file",
    "other_seed": "another seed",
}
"""The type evaluations of :mod:`analysis.type_eval`, as the card names them."""


def _interval(score: dict[str, Any]) -> str:
    ci = score.get("ci95")
    return f"{score['macro_f1']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "—"


def _generalisation_rows(types: dict[str, Any], model: str) -> list[dict[str, Any]]:
    rows = []
    for name, label in GENERALISATION.items():
        ev = types.get(name, {})
        if not ev.get("available"):
            rows.append({"evaluation": label, "users": "not run"})
            continue
        scores = ev["models"]
        km = scores["kmeans"]
        rows.append(
            {
                "evaluation": label,
                "users": ev["users"],
                f"{model} macro-F1 [95 %]": _interval(scores[model]),
                "sign-up label": scores[model].get("signup_macro_f1"),
                "chance": _interval(scores["chance"]),
                "k-means macro-F1": _interval(km),
                "k-means ARI": km["ari"],
                "k-means NMI": km["nmi"],
                "style macro-F1": _interval(scores["style"]) if "style" in scores else "—",
                "changed type": ev["changed_type_users"],
            }
        )
    return rows


def _generalisation_sections(types: dict[str, Any]) -> list[Section]:
    """The headline: the app model's worst macro-F1 over held-out personas, a perturbed
    persona file and another seed, against the label history."""
    head = types.get("headline")
    if not head or head.get("macro_f1") is None:
        return []
    model = head["model"]
    rows = _generalisation_rows(types, model)
    single = types.get("held_out_personas", {}).get("single_persona_types") or {}
    after = [
        f"Headline (the worst of the three): {GENERALISATION[head['evaluation']]}, {model} "
        f"macro-F1 {_interval(head)} against chance {head['chance_macro_f1']:.3f} and named "
        f"K-means clusters {head['kmeans_macro_f1']:.3f}.",
        "Truth: each user's weight-majority type over its label history (drifting, mixed "
        "users); the sign-up label's macro-F1 is beside it. Intervals: bootstrap over users.",
    ]
    if single:
        names = ", ".join(f"{t} ({', '.join(p)})" for t, p in single.items())
        after.append(f"Types with a single persona, not held out: {names}.")
    columns = list(rows[0]) if rows[0].get("users") != "not run" else ["evaluation", "users"]
    for row in rows:
        columns += [c for c in row if c not in columns]
    return [
        Section(
            f"Spending type: worst case {head['macro_f1']:.3f} "
            f"({GENERALISATION[head['evaluation']]})",
            tables=[Table(columns, rows, testid="types-generalisation", fmt=FMT)],
            after=after,
        )
    ]


def _type_sections(metrics: dict[str, Any]) -> list[Section]:
    types = metrics["types"]["held_out"]
    km = types["kmeans"]
    columns = ["model", "macro-F1", "accuracy"]
    sections = [
        *_generalisation_sections(metrics["types"]),
        Section(
            "Spending type (held-out users)",
            tables=[Table(columns, _type_rows(types), testid="types", fmt=FMT)],
            after=[
                f"K-means: ARI {km['ari']:.3f}, NMI {km['nmi']:.3f}; "
                f"app model: {metrics['types'].get('app_model', '—')}"
            ],
        ),
    ]
    other = metrics["types"].get("other_seed", {})
    if other.get("available"):
        rows = [
            {
                "model": name,
                "macro-F1 [95 %]": _interval(other["models"][name]),
                "sign-up label": other["models"][name].get("signup_macro_f1"),
            }
            for name in ("kmeans", "random_forest", "xgboost", "lightgbm")
            if name in other["models"]
        ]
        sections.append(
            Section(
                f"Another seed ({other['data']}): every classifier",
                tables=[Table(list(rows[0]), rows, testid="eval-types", fmt=FMT)],
                after=["Truth: the label history, as in the headline table."],
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
        f"Anomalies on cells, the seed's unit ({an['cells']} cells, budget {an['iqr_alerts']})",
        tables=[Table(columns, rows, testid="anomaly", fmt=FMT)],
    )


def _wape_interval(entry: dict[str, Any] | None) -> str:
    """``[lo, hi]`` of a WAPE entry's interval, or empty."""
    ci = (entry or {}).get("wape_ci")
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""


def forecast_rows(fc: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows of a forecast table: every method with a cell or weekly-total score
    (intervals when the metrics have them)."""
    methods: dict[str, dict[str, Any]] = {
        k: v
        for k, v in fc.items()
        if k != "headline" and isinstance(v, dict) and ("cells" in v or "weekly_total" in v)
    }
    columns = ["model", "cell WAPE", "cell MAE", "weekly-total WAPE"]
    with_ci = any("wape_ci" in (v.get("cells") or v["weekly_total"]) for v in methods.values())
    if with_ci:
        columns = ["model", "cell WAPE", "cell 95% CI", "weekly-total WAPE", "weekly-total 95% CI"]
    rows = []
    for name, v in methods.items():
        cells, total = v.get("cells"), v.get("weekly_total")
        row = {
            "model": name,
            "cell WAPE": cells["wape"] if cells else "—",
            "cell MAE": cells["mae"] if cells else "—",
            "weekly-total WAPE": total["wape"] if total else "—",
            "cell 95% CI": _wape_interval(cells),
            "weekly-total 95% CI": _wape_interval(total),
        }
        rows.append({c: row[c] for c in columns})
    return columns, rows


def _forecast_section(fc: dict[str, Any]) -> Section:
    columns, rows = forecast_rows(fc)
    head = fc.get("headline", {})
    before = [
        f"{label}: {head[key]['text']}"
        for key, label in (
            ("cells", "Cells (user × category × week)"),
            ("weekly_total", "Weekly totals"),
        )
        if key in head
    ]
    if head:
        before.append(f"Intervals: {head['intervals']}; {head['selection']}.")
    after = [f"{k}: {v['reason']}" for k, v in fc.items() if isinstance(v, dict) and "reason" in v]
    if "zero_forecast" in fc:
        after.append(f"all-zero forecast cell WAPE {fc['zero_forecast']['wape']:.3f}")
    return Section(
        "Next-week forecast against the best baseline (time split)",
        before=before,
        tables=[Table(columns, rows, testid="forecast", fmt=FMT)],
        after=after,
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
