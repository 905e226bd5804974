"""The report index (``OUT/index.html``): the run's stages and links to every report."""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from monilab.lab.report.browserpage import write_browser_page
from monilab.lab.report.html import esc, facts_table, link, page
from monilab.lab.report.loadpage import write_load_page
from monilab.lab.report.population import write_population_page

if TYPE_CHECKING:
    from monilab.lab.run import LabRun

log = logging.getLogger(__name__)

STAGE_OF_SECTION = {
    "population": "generate",
    "load": "load",
    "browser": "browse",
    "models": "train",
    "calibration": "calibrate",
}


def _sections(lab: LabRun) -> dict[str, tuple[str, Callable[[], Path]]]:
    """Section name → (title, function writing or finding its page)."""
    paths, report = lab.paths, lab.paths.report

    def existing(path: Path) -> Callable[[], Path]:
        def find() -> Path:
            if not path.is_file():
                raise FileNotFoundError(f"{path} was not written")
            return path

        return find

    return {
        "population": (
            "Population summary: spend per persona, category shares, hour and weekday profiles",
            lambda: write_population_page(paths.population, report / "population.html"),
        ),
        "load": (
            "Load report: latency over time, per endpoint and persona, reconciliation",
            lambda: write_load_page(
                paths.load, report / "load.html", paths.export / "reconciliation.json"
            ),
        ),
        "browser": (
            "Browser timings: journeys and page timings in Chromium",
            lambda: write_browser_page(paths.browser, report / "browser.html"),
        ),
        "models": (
            "Model card: type, anomaly and forecast models",
            existing(paths.models / "model_card.html"),
        ),
        "calibration": (
            "Calibration report: convergence, gap closed, targets",
            existing(paths.calibration / "report.html"),
        ),
    }


def write_report(lab: LabRun) -> Path:
    """Write the sub-pages of the stages that ran and the index linking them."""
    links, problems = [], []
    for name, (title, write) in _sections(lab).items():
        record = lab.records[STAGE_OF_SECTION[name]]
        if record.status not in ("ok", "findings"):
            continue
        try:
            target = write()
        except Exception as exc:  # a report bug must not hide the rest of the report
            log.error("report section %s: %s: %s", name, type(exc).__name__, exc)
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        href = os.path.relpath(target, lab.paths.out)
        links.append(f"<li>{link(href, title, testid=f'link-{name}')}</li>")
    body = (
        f'<p data-testid="run-status" class="{esc(lab.status)}">Run '
        f"<code>{esc(lab.run_id)}</code>: <strong>{esc(lab.status)}</strong></p>"
        + ("<h2>Reports</h2><ul>" + "".join(links) + "</ul>" if links else "<p>No reports yet.</p>")
        + _stage_table(lab)
        + "".join(f'<p class="failed" data-testid="report-problem">{esc(p)}</p>' for p in problems)
        + "<h2>Configuration</h2>"
        + "".join(
            f"<h3>[{esc(section)}]</h3>" + facts_table(values)
            for section, values in lab.config.to_dict().items()
        )
    )
    lab.paths.index.write_text(page("Moni Lab run", body, back=None), encoding="utf-8")
    return lab.paths.index


def _stage_table(lab: LabRun) -> str:
    rows = []
    for record in lab.records.values():
        facts = ", ".join(f"{k} {esc(v)}" for k, v in record.facts.items())
        notes = "".join(f"<div>{esc(f)}</div>" for f in record.findings)
        if record.error:
            notes += f'<div class="failed">{esc(record.error)}</div>'
        commands = "".join(f"<div><code>{html.escape(c)}</code></div>" for c in record.commands)
        rows.append(
            f'<tr data-testid="stage-{esc(record.name)}"><td>{esc(record.name)}</td>'
            f'<td class="{esc(record.status)}">{esc(record.status)}</td>'
            f'<td class="num">{esc(record.seconds)}</td><td>{facts}{notes}</td>'
            f"<td>{commands}</td></tr>"
        )
    head = "".join(f"<th>{c}</th>" for c in ("stage", "status", "seconds", "results", "command"))
    return (
        f'<h2>Stages</h2><table data-testid="stages"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
