"""The calibration report renders a calibration's JSON summary (``to_dict()``) and profiles
through the report layer, as one self-contained file."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from monilab.lab.report.calibration import write_report


def _score(metrics: list[dict[str, Any]], gap: float | None) -> dict[str, Any]:
    return {
        "loss_default": 0.5,
        "loss_final": 0.2,
        "noise_floor": 0.1,
        "fraction_of_closable_gap_closed": gap,
        "metrics": metrics,
    }


def _summary(**more: Any) -> dict[str, Any]:
    return {
        "sampler": "cmaes",
        "space": "grouped",
        "seeds": {"root": 3},
        "calls": {"search": 4, "held_out": 6},
        "wall_seconds": 12.34,
        "convergence": [0.5, 0.4, 0.45, 0.3],
        "search": {"spend": {"default": 0.0, "final": 0.125}},
        "params": {"persona.saver.rate": {"default": 2.0, "final": 2.5}},
        **more,
    }


def _stub(summary: dict[str, Any], profiles: dict[str, Any] | None = None) -> SimpleNamespace:
    return SimpleNamespace(to_dict=lambda: summary, profiles=profiles or {})


def _rows(html: str, testid: str) -> list[list[str]]:
    table = re.search(rf'<table data-testid="{testid}">(.*?)</table>', html, re.S)
    assert table, f"no table {testid}"
    head = re.findall(r"<th>(.*?)</th>", table.group(1))
    body = table.group(1).split("<tbody>")[1]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in body.split("</tr>") if "<td" in r]
    return [head, *rows]


def test_targets_report(tmp_path: Path) -> None:
    share = {"statistic": "category_share", "filter": "", "target": 2.0, "final": 0.3}
    metrics = [
        {**share, "key": "food", "default": 0.25},
        {**share, "key": "<coffee>", "default": None},
    ]
    summary = _summary(held_out={"fit": _score(metrics, None)})
    html = write_report(_stub(summary), tmp_path / "report.html").read_text()
    assert "<title>Calibration (cmaes, grouped space)</title>" in html
    assert "4 search calls + 6 scoring calls, 12.3 s" in html
    assert _rows(html, "targets-fit") == [
        ["statistic", "filter", "target", "after", "key", "before"],
        ["category_share", "", "2", "0.3", "food", "0.25"],
        ["category_share", "", "2", "0.3", "&lt;coffee&gt;", "—"],
    ]
    assert "gap closed n/a (defaults within the noise floor)" in html
    assert _rows(html, "shifts") == [["group", "shift (unit cube)"], ["spend", "+0.1250"]]
    assert _rows(html, "parameters") == [
        ["name", "default", "final"],
        ["persona.saver.rate", "2", "2.5"],
    ]
    # convergence and the share targets, embedded
    assert re.findall(r'data-points="(\d+)"', html) == ["4", "6"]
    assert html.count('src="data:image/png;base64,') == 2


def _part(flagged: list[str]) -> dict[str, Any]:
    auc = {"default": 0.9, "final": 0.7}
    return {
        **_score([{"metric": "amount_ks", "basis": "", "default": 0.2, "final": 0.1}], 0.5),
        "floor_kind": "synthetic",
        "c2st_auc": {"logistic": auc, "gbm": auc},
        "worse_beyond_floor": flagged,
    }


def _profile(scale: float) -> dict[str, Any]:
    return {
        "relative": False,
        "amount_hist": [scale] * 60,
        "hour": list(range(24)),
        "weekday": [1, 2, 3, 4, 5, 6, 7],
        "spend_per_user_month": [1e5 * scale, 2e5, 3e5],
        "txn_per_user_month": [10.0, 20.0, 30.0],
    }


def test_reference_report(tmp_path: Path) -> None:
    split = {
        "by": "user",
        "fit_rows": 100,
        "fit_users": 7,
        "held_out_rows": 50,
        "held_out_users": 3,
        "held_out_groups": 3,
        "amount_scale_assumed": False,
    }
    summary = _summary(
        space="full",
        split=split,
        objective={"metrics": ["amount_ks", "hour_tv/weekday"]},
        parts={"fit": _part([]), "held_out": _part(["txn_count_ks"])},
    )
    profiles = {"reference_held_out": _profile(1), "default": _profile(2), "final": _profile(3)}
    html = write_report(_stub(summary, profiles), tmp_path / "report.html").read_text()
    assert "Split by user: fit 100 rows (7 users)" in html
    assert "over: amount_ks, hour_tv/weekday." in html
    assert "<h2>held-out part, fresh seeds</h2>" in html
    assert "C2ST AUC logistic 0.900 → 0.700" in html
    assert (
        '<p class="flag">Worse beyond the noise floor (outside the objective): txn_count_ks' in html
    )
    assert "No metric outside the objective got worse beyond its floor." in html
    assert _rows(html, "part-held_out") == [
        ["metric", "basis", "before", "after"],
        ["amount_ks", "", "0.2", "0.1"],
    ]
    assert "shifts" not in html  # full space: no group shifts
    # convergence, distributions, profiles
    assert html.count('src="data:image/png;base64,') == 3
