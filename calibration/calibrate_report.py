"""``report.html`` of a calibration: one self-contained file a browser opens.

Plots (inline PNG, :mod:`calibration.plots`): the convergence of the search; for aggregate
targets the share targets against before/after; for microdata the before/after
distributions (amounts, spend and transactions per user-month) and hour/weekday profiles
against the held-out reference. Tables: losses with noise floors, every metric or target
before and after, the C2ST AUCs, and the parameters.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd

from calibration import plots
from calibration.loop import CalibrationResult
from calibration.reference_loop import ReferenceCalibrationResult

__all__ = ["write_report"]

_CSS = (
    "body{font-family:sans-serif;max-width:80em;margin:1em auto}td,th{padding:2px 8px;"
    "text-align:right}table{border-collapse:collapse;margin-bottom:1em}"
    "tr:nth-child(even){background:#eee}.flag{color:#b00;font-weight:bold}"
    "img{max-width:100%}"
)


def write_report(result: CalibrationResult, path: str | Path) -> Path:
    """Write the HTML report of a targets or microdata calibration."""
    parts = [
        "<!doctype html><meta charset='utf-8'><title>Moni Lab calibration</title>",
        f"<style>{_CSS}</style>",
        f"<h1>Calibration ({html.escape(result.sampler)}, {html.escape(result.space)} space)</h1>",
        f"<p>{len(result.trials)} search calls + {result.held_out_calls} scoring calls, "
        f"{result.wall_seconds:.1f} s; seeds {html.escape(str(result.seeds))}.</p>",
        "<h2>Convergence</h2>",
        _img(plots.convergence_png([t.loss for t in result.trials]), "convergence"),
    ]
    if isinstance(result, ReferenceCalibrationResult):
        parts += _reference_sections(result)
    else:
        parts += _target_sections(result)
    parts += _parameter_table(result)
    path = Path(path)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _img(png: str, alt: str) -> str:
    return f"<img alt='{alt}' src='data:image/png;base64,{png}'>"


def _fmt(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a (defaults within the noise floor)"
    return f"{x:.2f}"


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda x: f"{x:.4g}", border=0, escape=True)


def _target_sections(result: CalibrationResult) -> list[str]:
    parts = []
    for name, score in result.held_out.items():
        parts.append(f"<h2>Held-out seeds, {html.escape(name)} targets</h2>")
        parts.append(
            f"<p>loss default {score.loss_default:.4f} → final {score.loss_final:.4f}; "
            f"noise floor {score.noise_floor:.4f}; fraction of closable gap closed "
            f"{_fmt(score.gap_closed)}</p>"
        )
        parts.append(_img(plots.target_shares_png(score.metrics), f"{name} shares"))
        table = score.metrics.rename(columns={"default": "before", "final": "after"})
        parts.append(_table(table))
    return parts


def _reference_sections(result: ReferenceCalibrationResult) -> list[str]:
    split = result.split
    parts = [
        "<h2>Reference</h2>",
        f"<p>Split by {html.escape(str(split['by']))}: fit {split['fit_rows']} rows "
        f"({split['fit_users']} users), held out {split['held_out_rows']} rows "
        f"({split['held_out_users']} users, {split['held_out_groups']} held-out groups). "
        f"Amount scale assumed: {split['amount_scale_assumed']}. The objective is the mean "
        "of (1 − score) over: "
        + ", ".join(html.escape(f"{m}{'/' + b if b else ''}") for m, b in result.objective_metrics)
        + ".</p>",
    ]
    profiles = result.profiles
    if profiles:
        parts += [
            "<h2>Distributions against the held-out reference</h2>",
            _img(plots.distributions_png(profiles, "reference_held_out"), "distributions"),
            "<h2>Hour and weekday profiles against the held-out reference</h2>",
            _img(plots.profiles_png(profiles, "reference_held_out"), "profiles"),
        ]
    for name, part in result.parts.items():
        summary = part.to_dict()
        flagged = part.flagged()
        parts.append(f"<h2>{html.escape(name.replace('_', '-'))} part, fresh seeds</h2>")
        parts.append(
            f"<p>loss default {part.loss_default:.4f} → final {part.loss_final:.4f}; "
            f"noise floor ({part.floor_kind}) {part.noise_floor:.4f}; fraction of closable "
            f"gap closed {_fmt(summary['fraction_of_closable_gap_closed'])}. C2ST AUC "
            f"logistic {part.auc('logistic')['default']:.3f} → "
            f"{part.auc('logistic')['final']:.3f}, gradient-boosted "
            f"{part.auc('gbm')['default']:.3f} → {part.auc('gbm')['final']:.3f}.</p>"
        )
        if flagged:
            parts.append(
                "<p class='flag'>Worse beyond the noise floor (outside the objective): "
                + html.escape(", ".join(flagged))
                + "</p>"
            )
        else:
            parts.append("<p>No metric outside the objective got worse beyond its floor.</p>")
        table = part.metrics.rename(columns={"default": "before", "final": "after"})
        parts.append(_table(table))
    return parts


def _parameter_table(result: CalibrationResult) -> list[str]:
    parts = ["<h2>Parameters</h2>"]
    if result.space != "full":
        parts.append("<table><tr><th>group</th><th>shift (unit cube)</th></tr>")
        for name, value in result.params.items():
            parts.append(
                f"<tr><td style='text-align:left'>{html.escape(name)}</td>"
                f"<td>{value:+.4f}</td></tr>"
            )
        parts.append("</table>")
    values = result.values or result.params
    defaults = result.default_values or result.defaults
    parts.append("<table><tr><th>name</th><th>default</th><th>final</th></tr>")
    for name, value in values.items():
        parts.append(
            f"<tr><td style='text-align:left'>{html.escape(name)}</td>"
            f"<td>{defaults[name]:.4g}</td><td>{value:.4g}</td></tr>"
        )
    parts.append("</table>")
    return parts
