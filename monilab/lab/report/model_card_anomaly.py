"""The model card's honest anomaly sections: the headline (best model against best rule),
per-kind PR-AUC and recall at the alert budget with intervals, every method side by side.

Reads the ``anomaly.headline`` and ``anomaly.held_out`` entries of ``metrics.json``
(:mod:`analysis.anomaly_eval`); renders nothing when they are absent (unlabelled data).
"""

from __future__ import annotations

from typing import Any

from monilab.lab.report.render import Section, Table

FMT = ".4f"


def _ci(entry: dict[str, Any], key: str) -> str:
    low, high = entry.get(key) or (None, None)
    return "—" if low is None else f"[{low:.3f}, {high:.3f}]"


def _per_kind_rows(held: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for kind, row in held["per_kind"].items():
        model, rule, stacked = row["best_model"], row["best_rule"], row["stacked"]
        rows.append(
            {
                "kind": kind,
                "base rate": row["base_rate"],
                "best model": model["method"],
                "model PR-AUC": model["pr_auc"],
                "model 95 %": _ci(model, "pr_auc_ci"),
                "model recall@budget": model["recall_at_budget"],
                "best rule": rule["method"],
                "rule PR-AUC": rule["pr_auc"],
                "rule 95 %": _ci(rule, "pr_auc_ci"),
                "rule recall@budget": rule["recall_at_budget"],
                "rules+models PR-AUC": stacked["pr_auc"],
                "rules+models 95 %": _ci(stacked, "pr_auc_ci"),
                "rules+models recall@budget": stacked["recall_at_budget"],
                "IQR PR-AUC": row["iqr"]["pr_auc"],
            }
        )
    return rows


def _method_rows(held: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, entry in held["methods"].items():
        every = entry["all"]
        rows.append(
            {
                "method": name,
                "family": entry["family"],
                "PR-AUC": every["pr_auc"],
                "95 %": _ci(every, "pr_auc_ci"),
                "recall@budget": every["recall_at_budget"],
                "recall 95 %": _ci(every, "recall_ci"),
            }
        )
    return rows


def anomaly_sections(an: dict[str, Any]) -> list[Section]:
    """The headline and the per-kind and per-method tables (empty without them)."""
    head, held = an.get("headline"), an.get("held_out")
    if not head or not held:
        return []
    budget = held["alert_budget"]
    intro = [
        f"Headline: {head['verdict']}. Base rate {head['base_rate']:.4f}.",
        f"Unit: {held['unit']}; {held['users']} held-out users, {held['transactions']} "
        f"transactions. Alert budget: the app may alert on {budget['share']:.1%} of the "
        f"transactions ({budget['transactions']}); recall@budget is the share of a kind's "
        "rows among them. 95 % intervals: bootstrap over users "
        f"({held['resamples']} resamples). The best model and rules are chosen on the "
        "training users, the rules-plus-models combination (stacked) is fitted on them.",
    ]
    per_kind = _per_kind_rows(held)
    methods = _method_rows(held)
    return [
        Section(
            "Anomalies per kind: models beside rules (held-out users)",
            before=intro,
            tables=[
                Table(list(per_kind[0]), per_kind, testid="anomaly-per-kind", fmt=FMT),
                Table(list(methods[0]), methods, testid="anomaly-methods", fmt=FMT),
            ],
            testid="anomaly-headline",
        )
    ]
