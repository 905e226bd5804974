"""``report.html`` of a calibration: one self-contained file a browser opens.

Read from the result's JSON summary (``to_dict()``, the ``calibration.json`` content) and,
for microdata, its ``profiles``. Figures (embedded PNG, :mod:`.calibration_figures`): the
convergence of the search; for aggregate targets the share targets against before/after; for
microdata the before/after distributions and hour/weekday profiles against the held-out
reference. Tables: losses with noise floors, every metric or target before and after, the
C2ST AUCs, and the parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from monilab.lab.report.calibration_figures import (
    convergence_chart,
    distributions_chart,
    profiles_chart,
    target_shares_chart,
)
from monilab.lab.report.render import Note, Section, Table, write_page

if TYPE_CHECKING:
    from calibration.result import CalibrationResult

__all__ = ["calibration_sections", "write_report"]

FMT = ".4g"
"""Float cells of the metric and parameter tables."""
NOT_CLOSABLE = "n/a (defaults within the noise floor)"


def write_report(result: CalibrationResult, path: str | Path) -> Path:
    """Write the HTML report of a targets or microdata calibration."""
    summary = result.to_dict()
    profiles = getattr(result, "profiles", None) or {}
    calls = summary["calls"]
    return write_page(
        Path(path),
        "sections.html",
        title=f"Calibration ({summary['sampler']}, {summary['space']} space)",
        back=None,
        intro=[
            f"{calls['search']} search calls + {calls['held_out']} scoring calls, "
            f"{summary['wall_seconds']:.1f} s; seeds {summary['seeds']}."
        ],
        sections=calibration_sections(summary, profiles),
    )


def calibration_sections(summary: dict[str, Any], profiles: dict[str, Any]) -> list[Section]:
    """The report's sections from a calibration's JSON summary (and its plot profiles)."""
    sections = [Section("Convergence", figures=[convergence_chart(summary["convergence"])])]
    if "parts" in summary:
        sections += reference_sections(summary, profiles)
    else:
        sections += target_sections(summary)
    return [*sections, parameter_section(summary)]


def _num(value: float | None, fmt: str = ".4f") -> str:
    return "n/a" if value is None else format(value, fmt)


def _gap(value: float | None) -> str:
    return NOT_CLOSABLE if value is None else f"{value:.2f}"


def _metrics_table(records: list[dict[str, Any]], testid: str) -> Table:
    rows = [
        {{"default": "before", "final": "after"}.get(k, k): v for k, v in row.items()}
        for row in records
    ]
    return Table(list(rows[0]) if rows else [], rows, testid=testid, fmt=FMT)


def target_sections(summary: dict[str, Any]) -> list[Section]:
    """One section per target set scored on the held-out seeds."""
    sections = []
    for name, score in summary["held_out"].items():
        charts = []
        if score["metrics"]:
            chart = target_shares_chart(pd.DataFrame(score["metrics"]), f"{name} shares")
            charts = [chart] if chart is not None else []
        sections.append(
            Section(
                f"Held-out seeds, {name} targets",
                before=[
                    f"loss default {_num(score['loss_default'])} → final "
                    f"{_num(score['loss_final'])}; noise floor {_num(score['noise_floor'])}; "
                    f"fraction of closable gap closed "
                    f"{_gap(score['fraction_of_closable_gap_closed'])}"
                ],
                figures=charts,
                tables=[_metrics_table(score["metrics"], f"targets-{name}")],
            )
        )
    return sections


def reference_sections(summary: dict[str, Any], profiles: dict[str, Any]) -> list[Section]:
    """The split, the distributions against the held-out reference and one section per
    part of the reference scored on fresh seeds."""
    split = summary["split"]
    sections = [
        Section(
            "Reference",
            before=[
                f"Split by {split['by']}: fit {split['fit_rows']} rows ({split['fit_users']} "
                f"users), held out {split['held_out_rows']} rows ({split['held_out_users']} "
                f"users, {split['held_out_groups']} held-out groups). Amount scale assumed: "
                f"{split['amount_scale_assumed']}. The objective is the mean of (1 − score) "
                "over: " + ", ".join(summary["objective"]["metrics"]) + "."
            ],
        )
    ]
    if profiles:
        sections += [
            Section(
                "Distributions against the held-out reference",
                figures=[distributions_chart(profiles, "reference_held_out")],
            ),
            Section(
                "Hour and weekday profiles against the held-out reference",
                figures=[profiles_chart(profiles, "reference_held_out")],
            ),
        ]
    return sections + [_part_section(name, part) for name, part in summary["parts"].items()]


def _part_section(name: str, part: dict[str, Any]) -> Section:
    auc = part["c2st_auc"]
    flagged = part["worse_beyond_floor"]
    verdict = (
        Note("Worse beyond the noise floor (outside the objective): " + ", ".join(flagged), "flag")
        if flagged
        else "No metric outside the objective got worse beyond its floor."
    )
    return Section(
        f"{name.replace('_', '-')} part, fresh seeds",
        before=[
            f"loss default {_num(part['loss_default'])} → final {_num(part['loss_final'])}; "
            f"noise floor ({part['floor_kind']}) {_num(part['noise_floor'])}; fraction of "
            f"closable gap closed {_gap(part['fraction_of_closable_gap_closed'])}. C2ST AUC "
            f"logistic {_num(auc['logistic']['default'], '.3f')} → "
            f"{_num(auc['logistic']['final'], '.3f')}, gradient-boosted "
            f"{_num(auc['gbm']['default'], '.3f')} → {_num(auc['gbm']['final'], '.3f')}.",
            verdict,
        ],
        tables=[_metrics_table(part["metrics"], f"part-{name}")],
    )


def parameter_section(summary: dict[str, Any]) -> Section:
    """The searched shifts (grouped space) and every persona-file value, default and final."""
    search = summary["search"]
    tables = []
    if summary["space"] != "full":
        rows = [{"group": k, "shift (unit cube)": v["final"]} for k, v in search.items()]
        tables.append(Table(["group", "shift (unit cube)"], rows, testid="shifts", fmt="+.4f"))
    rows = [
        {
            "name": name,
            "default": v["default"]
            if v["default"] is not None
            else search.get(name, {}).get("default"),
            "final": v["final"],
        }
        for name, v in summary["params"].items()
    ]
    tables.append(Table(["name", "default", "final"], rows, testid="parameters", fmt=FMT))
    return Section("Parameters", tables=tables)
