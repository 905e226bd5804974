"""``monilab run``: the whole lab, stage by stage, on one configuration.

generate → serve → load → browse → export → reconcile → train → calibrate → report.
Each stage logs its progress, records what it did in ``OUT/run.json`` as soon as it ends
and leaves its outputs in its own folder of ``OUT``. A stage that fails stops the run (the
report still shows what was done); a stage that *finds* something (a lost write, a failed
journey) lets the run go on and makes it end with status 1. The app is stopped at the end
of the run whatever happens, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from monilab.contracts.errors import MonilabError
from monilab.contracts.interrupts import sigterm_as_interrupt
from monilab.lab.appprocess import AppProcess
from monilab.lab.runconfig import STAGES, RunConfig, skipped_stages
from monilab.lab.stages import REQUIRES, STAGE_FUNCTIONS, StageOutcome

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
LOG_FILE = "run.log"


@dataclass(frozen=True)
class RunPaths:
    """Where each stage writes, under the run's output directory."""

    out: Path

    @property
    def population(self) -> Path:
        return self.out / "population"

    @property
    def population_eval(self) -> Path:
        return self.out / "population-eval"

    @property
    def app_data(self) -> Path:
        return self.out / "app"

    @property
    def load(self) -> Path:
        return self.out / "load"

    @property
    def browser(self) -> Path:
        return self.out / "browser"

    @property
    def export(self) -> Path:
        return self.out / "export"

    @property
    def models(self) -> Path:
        return self.out / "models"

    @property
    def calibration(self) -> Path:
        return self.out / "calibration"

    @property
    def report(self) -> Path:
        return self.out / "report"

    @property
    def index(self) -> Path:
        return self.out / "index.html"

    def clear(self) -> None:
        """Remove what an earlier run left in the run's own files and folders (only those)."""
        import shutil

        for name in ("population", "population-eval", "app", "load", "browser", "export",
                     "models", "calibration", "report"):  # fmt: skip
            shutil.rmtree(self.out / name, ignore_errors=True)
        for name in ("index.html", RUN_FILE, LOG_FILE):
            (self.out / name).unlink(missing_ok=True)


@dataclass
class StageRecord:
    """One stage of the run as ``run.json`` and the report show it.

    ``status`` is ``pending``, ``running``, ``ok``, ``findings`` (done; found problems),
    ``failed``, ``interrupted`` or ``skipped``.
    """

    name: str
    status: str = "pending"
    seconds: float | None = None
    commands: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    error: str | None = None


class LabRun:
    """One lab run: configuration, paths, the app process and the stages' records."""

    def __init__(self, config: RunConfig, out: Path) -> None:
        from sim.agents.personas import default_persona_path

        self.config = config
        self.paths = RunPaths(Path(out))
        self.personas = Path(config.population.personas or default_persona_path())
        self.run_id = "lab-" + time.strftime("%Y%m%d-%H%M%S")
        self.load_run_id = f"{self.run_id}-load"
        self.browse_run_id = f"{self.run_id}-browser"
        self.app: AppProcess | None = None
        self.records = {name: StageRecord(name) for name in STAGES}
        self.started = time.time()
        self.status = "running"

    # -- used by the stages ---------------------------------------------------------------

    def app_url(self) -> str:
        """The app's base URL: the external ``app.host``, or the app the serve stage started
        (MonilabError when it did not)."""
        if self.config.app.host:
            return self.config.app.host.rstrip("/")
        if self.app is None:
            raise MonilabError("the app is not running (the serve stage did not run)")
        return self.app.url

    def stop_app(self) -> None:
        """Stop the app gracefully (its request log is complete afterwards)."""
        app, self.app = self.app, None
        if app is not None:
            status = app.stop()
            log.info("app stopped (exit status %s)", status)

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> int:
        """Run every stage that is not skipped; returns the exit status (0, or 1)."""
        check_stage_plan(self.config)
        self.paths.out.mkdir(parents=True, exist_ok=True)
        self._write_state()
        skipped = skipped_stages(self.config)
        todo = [name for name in STAGES if name not in skipped]
        for name in STAGES:
            if name not in todo:
                self.records[name].status = "skipped"
                if name not in self.config.run.skip:
                    self.records[name].error = _why_skipped(name, self.app_url())
        try:
            with sigterm_as_interrupt(), _log_to(self.paths.out / LOG_FILE):
                log.info("lab run %s -> %s", self.run_id, self.paths.out)
                for number, name in enumerate(todo, 1):
                    log.info("[%d/%d] %s", number, len(todo), name)
                    if not self._run_stage(name):
                        self.status = "failed"
                        break
                else:
                    self.status = "done"
        except KeyboardInterrupt:
            self.status = "interrupted"
            raise
        finally:
            self.stop_app()
            self._finish()
        findings = [r for r in self.records.values() if r.status == "findings"]
        return 0 if self.status == "done" and not findings else 1

    def _run_stage(self, name: str) -> bool:
        """Run one stage and record it; False when it failed."""
        record = self.records[name]
        record.status = "running"
        self._write_state()
        started = time.monotonic()
        try:
            outcome: StageOutcome = STAGE_FUNCTIONS[name](self)
        except KeyboardInterrupt:
            record.status, record.error = "interrupted", "interrupted (Ctrl-C or SIGTERM)"
            raise
        except MonilabError as exc:
            record.status, record.error = "failed", str(exc)
        except Exception as exc:  # a bug: keep the traceback in run.log, show one line
            log.debug("stage %s crashed", name, exc_info=True)
            record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"
            with open(self.paths.out / LOG_FILE, "a", encoding="utf-8") as fh:
                fh.write(traceback.format_exc())
        else:
            record.commands, record.facts = outcome.commands, outcome.facts
            record.findings = outcome.findings
            record.status = "findings" if outcome.findings else "ok"
            for finding in outcome.findings:
                log.warning("%s: %s", name, finding)
        finally:
            record.seconds = round(time.monotonic() - started, 1)
            if record.status == "running":
                record.status = "interrupted"
            self._write_state()
        if record.status == "failed":
            log.error("stage %s failed: %s", name, record.error)
            return False
        log.info("%s: %s in %.1f s", name, record.status, record.seconds)
        return True

    def _finish(self) -> None:
        """Write run.json and the report (whatever happened)."""
        from monilab.lab.report.index import write_report

        self._write_state()
        try:
            write_report(self)
        except Exception as exc:  # the report must never hide the run's own outcome
            log.error("the report could not be written: %s: %s", type(exc).__name__, exc)
            with open(self.paths.out / LOG_FILE, "a", encoding="utf-8") as fh:
                fh.write(traceback.format_exc())

    def state(self) -> dict[str, Any]:
        """What ``run.json`` holds."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "out": str(self.paths.out),
            "app_url": self.app.url if self.app else None,
            "app_pid": self.app.proc.pid if self.app and self.app.proc else None,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.started)),
            "seconds": round(time.time() - self.started, 1),
            "stages": [asdict(record) for record in self.records.values()],
            "config": self.config.to_dict(),
        }

    def _write_state(self) -> None:
        path = self.paths.out / RUN_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state(), indent=2, ensure_ascii=False) + "\n", "utf-8")
        tmp.replace(path)


def _why_skipped(stage: str, url: str) -> str:
    if stage == "browse":
        return f"the target of {url} declares no browser journeys"
    return f"needs Moni itself; the app is {url}"


def check_stage_plan(config: RunConfig) -> None:
    """MonilabError when a stage that runs needs a stage that is skipped (an external app
    stands in for the serve stage)."""
    skipped = skipped_stages(config)
    for stage, needs in REQUIRES.items():
        if stage in skipped:
            continue
        for need in needs:
            if need in skipped and not (need == "serve" and config.app.host):
                raise MonilabError(
                    f"run.skip: the {stage} stage needs the {need} stage; skip {stage} too"
                )


@contextlib.contextmanager
def _log_to(path: Path) -> Iterator[None]:
    """Copy the lab's log lines to ``path`` for the duration of the block."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
