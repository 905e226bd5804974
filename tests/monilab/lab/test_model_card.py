"""The model card renders ``train()``'s metrics and figure data through the report layer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis.training import TrainingResult, WeeklyTotals
from monilab.lab.report.model_card import write_model_card

TYPES = ("saver", "yolo")


def _type_metrics(f1: float) -> dict[str, Any]:
    return {
        "macro_f1": f1,
        "accuracy": f1 + 0.01,
        "labels": list(TYPES),
        "confusion": [[3, 1], [0, 4]],
    }


def _metrics() -> dict[str, Any]:
    ranking = {"pr_auc": 0.25, "precision_at_budget": 0.5, "recall_at_budget": 0.125}
    cells = {"cells": {"wape": 0.8, "mae": 1200.0}, "weekly_total": {"wape": 0.1}}
    return {
        "data": "data/<pop>",
        "users": 1234,
        "transactions": 56789,
        "types": {
            "held_out": {
                "kmeans": {**_type_metrics(0.4), "ari": 0.31, "nmi": 0.52},
                "random_forest": _type_metrics(0.7625),
                "xgboost": _type_metrics(0.6),
                "lightgbm": _type_metrics(0.65),
            },
            "app_model": "random_forest",
            "other_seed": {
                "available": True,
                "data": "other",
                "models": {
                    "random_forest": {"macro_f1": 0.5, "ci95": [0.4, 0.6], "signup_macro_f1": 0.55}
                },
            },
        },
        "forecast": {"zero_forecast": {"wape": 1.0}, "mean_4_weeks": cells, "train_last_week": "x"},
        "anomaly": {"cells": 900, "iqr_alerts": 40, "iqr": ranking, "ensemble": ranking},
        "alerts": {
            "threshold": 0.9,
            "alert_share": 0.07,
            "iqr": {"alerts": 10, "precision": 0.2, "recall": 0.3},
            "notifications": {"calm": 5, "overspend": 2},
            "duplicates": 0,
        },
        "behaviour_score": {
            "formula": "300 + 550 * sum(w_i * s_i)",
            "weights": {"saving_rate": {"direction": 1, "weight": 0.3}},
            "mean_contribution": {"saving_rate": 42.0},
            "mean_by_type": {"saver": 633.0},
        },
        "eval": {"data": "other", "users": 10},
    }


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("models")
    weeks = np.array(["2024-04-01", "2024-04-08", "2024-04-15"], dtype="datetime64[D]")
    result = TrainingResult(
        metrics=_metrics(),
        pr_curves={"iqr": (np.array([1.0, 0.5, 0.2]), np.array([0.0, 0.5, 1.0]))},
        weekly=WeeklyTotals(weeks, {"actual": np.array([1e6, 2e6, 1.5e6])}),
    )
    path = write_model_card(result, out)
    return out, path.read_text(encoding="utf-8")


def _rows(html: str, testid: str) -> list[list[str]]:
    table = re.search(rf'<table data-testid="{testid}">(.*?)</table>', html, re.S)
    assert table, f"no table {testid}"
    body = table.group(1).split("<tbody>")[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in body.split("</tr>") if "<td" in row]


def test_card_tables_hold_the_metrics(card: tuple[Path, str]) -> None:
    _, html = card
    assert _rows(html, "types")[:2] == [
        ["kmeans", "0.4000", "0.4100"],
        ["random_forest", "0.7625", "0.7725"],
    ]
    assert _rows(html, "eval-types") == [["random_forest", "0.500 [0.400, 0.600]", "0.5500"]]
    assert _rows(html, "anomaly") == [
        ["iqr", "0.2500", "0.5000", "0.1250"],
        ["ensemble", "0.2500", "0.5000", "0.1250"],
    ]
    assert _rows(html, "forecast") == [["mean_4_weeks", "0.8000", "1200.0000", "0.1000"]]
    assert _rows(html, "alerts") == [["iqr", "10", "0.2000", "0.3000"]]
    assert _rows(html, "behaviour-score") == [["saving_rate", "1", "0.3000", "42.0000"]]
    assert "K-means: ARI 0.310, NMI 0.520; app model: random_forest" in html
    assert "users 1,234, transactions 56,789" in html
    # extras that are absent from the metrics have no section
    assert "Product recommendations" not in html and "Real data" not in html


def test_card_escapes_text_and_embeds_metrics_json(card: tuple[Path, str]) -> None:
    _, html = card
    assert "data/&lt;pop&gt;" in html and "<pop>" not in html
    pre = re.search(r'<pre data-testid="metrics-json">(.*?)</pre>', html, re.S)
    assert pre and "&#34;app_model&#34;: &#34;random_forest&#34;" in pre.group(1)


def test_card_figures_are_png_files_beside_it(card: tuple[Path, str]) -> None:
    out, html = card
    images = re.findall(r'<img src="([^"]+)" alt="[^"]*" data-points="(\d+)">', html)
    assert [src for src, _ in images] == ["confusion.png", "pr_curves.png", "forecast.png"]
    assert dict(images)["confusion.png"] == str(4 * 8)  # four type models, 8 users each
    for src, points in images:
        assert int(points) > 0
        assert (out / src).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_card_without_curves_has_no_pr_figure(tmp_path: Path) -> None:
    result = TrainingResult(
        metrics=_metrics(),
        pr_curves={},
        weekly=WeeklyTotals(np.array(["2024-04-01"], dtype="datetime64[D]"), {"a": np.ones(1)}),
    )
    html = write_model_card(result, tmp_path).read_text()
    assert "pr_curves.png" not in html and not (tmp_path / "pr_curves.png").exists()
    assert html.count("<figure") == 2
