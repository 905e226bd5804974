"""Model-card sections of the extras (:mod:`analysis.extras`): notifications,
recommendations, segments, behaviour score and the real-data check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monilab.lab.report.render import Section, Table

__all__ = ["extra_sections"]

FMT = ".4f"


def _alerts(al: dict[str, Any]) -> Section:
    rows = [
        {
            "alert": name,
            "alerts": al[name]["alerts"],
            "precision": al[name]["precision"],
            "recall": al[name]["recall"],
        }
        for name in ("iqr", "app_ensemble", "overrun")
        if name in al
    ]
    counts = ", ".join(f"{k} {v}" for k, v in al.get("notifications", {}).items())
    return Section(
        "Notifications (once per user, day and kind)",
        tables=[Table(["alert", "alerts", "precision", "recall"], rows, "alerts", FMT)],
        after=[
            f"app ensemble threshold {al['threshold']:.3f} (alert share of the IQR rule "
            f"{al['alert_share']:.3f}); notifications: {counts}; "
            f"duplicates {al.get('duplicates', 0)}"
        ],
    )


def _recommendations(rec: dict[str, Any]) -> Section:
    rows = [
        {"k": key.replace("at_", "@"), "method": method, **_hits(v)}
        for key in sorted(k for k in rec if k.startswith("at_"))
        for method, v in rec[key].items()
    ]
    return Section(
        "Product recommendations (held-out users, half their holdings hidden)",
        tables=[Table(["k", "method", "hit rate", "precision"], rows, "recommendations", FMT)],
        after=[
            f"{rec['products']} products ({rec['kinds']}); share of YOLO users' "
            f"recommendations that are savings products: "
            f"{rec['yolo_recommendations_savings_share']}"
        ],
    )


def _hits(values: dict[str, Any]) -> dict[str, Any]:
    return {"hit rate": values["hit_rate"], "precision": values["precision"]}


def _segments(seg: dict[str, Any]) -> Section:
    rows = [
        {
            "segment": s["segment"],
            "users": s["users"],
            "top categories (weighted z)": ", ".join(s["top_categories"]),
            "co-used with the top": ", ".join(s["co_used_with_top"]),
        }
        for s in seg["largest"]
    ]
    columns = ["segment", "users", "top categories (weighted z)", "co-used with the top"]
    return Section(
        f"Segments (region × gender × age band: {seg['segments']} segments)",
        tables=[Table(columns, rows, "segments", FMT)],
    )


def _score(score: dict[str, Any]) -> Section:
    rows = [
        {
            "feature": k,
            "direction": v["direction"],
            "weight": v["weight"],
            "mean points": score["mean_contribution"][k],
        }
        for k, v in score["weights"].items()
    ]
    by_type = ", ".join(f"{k} {v:.0f}" for k, v in score.get("mean_by_type", {}).items())
    return Section(
        "Behaviour score (300–850)",
        before=[f"{score['formula']}; mean by true type: {by_type}"],
        tables=[
            Table(["feature", "direction", "weight", "mean points"], rows, "behaviour-score", FMT)
        ],
    )


def _real_rows(methods: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per method: pooled WAPE with its interval and the range over origins."""

    def cell(entry: dict[str, Any] | None, key: str) -> Any:
        if not entry:
            return "—"
        if key == "wape":
            return entry["wape"]
        lo, hi = entry["wape_ci"] if key == "ci" else entry["origin_range"]
        return f"[{lo:.3f}, {hi:.3f}]"

    return [
        {
            "method": name,
            "cell WAPE": cell(v.get("cells"), "wape"),
            "95% CI": cell(v.get("cells"), "ci"),
            "range over origins": cell(v.get("cells"), "range"),
            "weekly-total WAPE": cell(v.get("weekly_total"), "wape"),
            "weekly-total 95% CI": cell(v.get("weekly_total"), "ci"),
        }
        for name, v in methods.items()
    ]


def _real(real: dict[str, Any]) -> Section:
    fc = real["forecast"]
    ratio = fc.get("tstr_trtr", {})
    head = fc.get("headline", {}).get("cells", {})
    before = [f"{name.upper()} on cells: {h['text']}" for name, h in head.items()]
    if "ratio" in ratio:
        lo, hi = ratio["ratio_ci"]
        before.append(
            f"TSTR/TRTR (cell WAPE ratio, 1 = parity) {ratio['ratio']:.3f} [{lo:.3f}, {hi:.3f}], "
            f"level-matched {ratio['ratio_level_matched']:.3f}; zero/TRTR "
            f"{ratio['zero_over_trtr']:.3f} [{ratio['zero_over_trtr_ci'][0]:.3f}, "
            f"{ratio['zero_over_trtr_ci'][1]:.3f}]"
        )
    before.append(
        f"{fc.get('design', '')}; test from {fc['test_first_week']} ({fc['test_weeks']} weeks); "
        f"backends (TRTR, TSTR) by origin: "
        + ", ".join(f"{o['trtr_backend']}/{o.get('tstr_backend', '—')}" for o in fc["origins"])
    )
    before += [f"One household {line}." for line in fc.get("what_one_household_shows", [])]
    before.append(f"Missing from the source: {', '.join(real['missing'])}")
    columns = list(_real_rows({"x": {}})[0])
    return Section(
        f"Real data: {real['source']} ({real['first_day']} – {real['last_day']}, "
        f"{real['rows']} rows)",
        before=before,
        tables=[Table(columns, _real_rows(fc.get("methods", {})), "real-forecast", FMT)],
        after=[f"anomalies (no labels): {real['anomaly']}"],
    )


SECTIONS: dict[str, Callable[[dict[str, Any]], Section]] = {
    "alerts": _alerts,
    "recommendations": _recommendations,
    "segments": _segments,
    "behaviour_score": _score,
    "real": _real,
}
"""Metrics key → its section, in the card's order."""


def extra_sections(metrics: dict[str, Any]) -> list[Section]:
    """The sections of whichever extras ``metrics`` holds."""
    return [render(metrics[key]) for key, render in SECTIONS.items() if key in metrics]
