"""Model-card sections of the extras: notifications, recommendations, segments, behaviour
score and the real-data check (HTML fragments for :func:`analysis.report.model_card`)."""

from __future__ import annotations

import html
from typing import Any


def _table(rows: list[list[Any]], head: list[str]) -> str:
    from analysis.report import _table as table

    return table(rows, head)


def _alerts(al: dict[str, Any]) -> list[str]:
    rows = [
        [name, al[name]["alerts"], al[name]["precision"], al[name]["recall"]]
        for name in ("iqr", "app_ensemble", "overrun")
        if name in al
    ]
    counts = ", ".join(f"{k} {v}" for k, v in al.get("notifications", {}).items())
    return [
        "<h2>Notifications (once per user, day and kind)</h2>",
        _table(rows, ["alert", "alerts", "precision", "recall"]),
        f"<p>app ensemble threshold {al['threshold']:.3f} (alert share of the IQR rule "
        f"{al['alert_share']:.3f}); notifications: {html.escape(counts)}; "
        f"duplicates {al.get('duplicates', 0)}</p>",
    ]


def _recommendations(rec: dict[str, Any]) -> list[str]:
    rows = []
    for key in sorted(k for k in rec if k.startswith("at_")):
        for method, v in rec[key].items():
            rows.append([key.replace("at_", "@"), method, v["hit_rate"], v["precision"]])
    return [
        "<h2>Product recommendations (held-out users, half their holdings hidden)</h2>",
        _table(rows, ["k", "method", "hit rate", "precision"]),
        f"<p>{rec['products']} products ({html.escape(str(rec['kinds']))}); share of YOLO "
        f"users' recommendations that are savings products: "
        f"{rec['yolo_recommendations_savings_share']}</p>",
    ]


def _segments(seg: dict[str, Any]) -> list[str]:
    rows = [
        [s["segment"], s["users"], ", ".join(s["top_categories"]), ", ".join(s["co_used_with_top"])]
        for s in seg["largest"]
    ]
    return [
        f"<h2>Segments (region × gender × age band: {seg['segments']} segments)</h2>",
        _table(rows, ["segment", "users", "top categories (weighted z)", "co-used with the top"]),
    ]


def _score(score: dict[str, Any]) -> list[str]:
    rows = [
        [k, v["direction"], v["weight"], score["mean_contribution"][k]]
        for k, v in score["weights"].items()
    ]
    by_type = ", ".join(f"{k} {v:.0f}" for k, v in score.get("mean_by_type", {}).items())
    return [
        "<h2>Behaviour score (300–850)</h2>",
        f"<p>{html.escape(score['formula'])}; mean by true type: {html.escape(by_type)}</p>",
        _table(rows, ["feature", "direction", "weight", "mean points"]),
    ]


def _real(real: dict[str, Any]) -> list[str]:
    fc = real["forecast"]
    rows = [
        [k, v["cells"]["wape"], v.get("weekly_total", {}).get("wape", "")]
        for k, v in fc.items()
        if isinstance(v, dict) and "cells" in v and isinstance(v["cells"], dict)
    ]
    ratio = fc.get("tstr_trtr", {})
    return [
        f"<h2>Real data: {html.escape(real['source'])} ({real['first_day']} – "
        f"{real['last_day']}, {real['rows']} rows)</h2>",
        f"<p>TSTR/TRTR (cell WAPE ratio, 1 = parity): {ratio.get('ratio', float('nan')):.3f}, "
        f"level-matched {ratio.get('ratio_level_matched', float('nan')):.3f}; test from "
        f"{fc['test_first_week']} ({fc['test_weeks']} weeks); missing: "
        f"{html.escape(', '.join(real['missing']))}</p>",
        _table(rows, ["model", "cell WAPE", "weekly-total WAPE"]),
        f"<p>anomalies (no labels): {html.escape(str(real['anomaly']))}</p>",
    ]


def sections(result: dict[str, Any]) -> list[str]:
    """The HTML sections for whichever extras ``result`` holds."""
    out: list[str] = []
    for key, render in (
        ("alerts", _alerts),
        ("recommendations", _recommendations),
        ("segments", _segments),
        ("behaviour_score", _score),
        ("real", _real),
    ):
        if key in result:
            out += render(result[key])
    return out
