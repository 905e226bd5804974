"""The report index (``OUT/index.html``): the run's stages and links to every report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monilab.lab.report.browserpage import write_browser_page
from monilab.lab.report.loadpage import write_load_page
from monilab.lab.report.population import write_population_page
from monilab.lab.report.render import (
    Code,
    Link,
    Note,
    Table,
    cell_text,
    facts,
    relative,
    write_page,
)

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
            problems.append(
                Note(f"{name}: {type(exc).__name__}: {exc}", "failed", "report-problem")
            )
            continue
        links.append(Link(relative(target, lab.paths.out), title, testid=f"link-{name}"))
    return write_page(
        lab.paths.index,
        "index.html",
        title="Moni Lab run",
        back=None,
        run_id=lab.run_id,
        status=lab.status,
        links=links,
        stages=_stage_table(lab),
        problems=problems,
        config={section: facts(values) for section, values in lab.config.to_dict().items()},
    )


def _stage_table(lab: LabRun) -> Table:
    rows = []
    for record in lab.records.values():
        results: list[Any] = []
        if record.facts:
            results.append(", ".join(f"{k} {cell_text(v)}" for k, v in record.facts.items()))
        results += record.findings
        if record.error:
            results.append(Note(record.error, "failed"))
        rows.append(
            {
                "stage": record.name,
                "status": record.status,
                "seconds": record.seconds,
                "results": results,
                "command": [Code(c) for c in record.commands],
            }
        )
    return Table(
        ["stage", "status", "seconds", "results", "command"],
        rows,
        testid="stages",
        class_columns=["status"],
        row_testid="stage",
        row_testid_prefix="stage-",
    )
