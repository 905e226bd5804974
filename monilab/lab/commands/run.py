"""``monilab run``: the whole lab on one configuration, ending in an HTML report."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from monilab.contracts.errors import MonilabError
from monilab.contracts.options import option, parse_base_url
from monilab.lab.commands import Command
from monilab.lab.runconfig import STAGES, RunConfig, load_run_config

DEMO_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "demo.toml"


@dataclass(frozen=True)
class RunOptions:
    """Which configuration, with which changes, written where."""

    config: Path | None = option(
        None,
        help=f"run configuration TOML (default: {DEMO_CONFIG.relative_to(DEMO_CONFIG.parents[1])})",
    )
    out: Path | None = option(None, help="output directory (run.out; default out/run-<time>)")
    quick: bool = option(False, help="apply the config's [quick] sizes")
    seed: int | None = option(None, low=0, help="root seed of the run (run.seed)")
    skip: list[str] = option(
        [], repeat=True, choices=STAGES, metavar="STAGE", help="skip a stage (run.skip; repeatable)"
    )
    overrides: list[str] = option(
        [],
        flag="--set",
        repeat=True,
        metavar="KEY=VALUE",
        help="set a config key, e.g. --set load.users=20 (repeatable)",
    )
    overwrite: bool = option(False, help="write into a non-empty --out directory")
    host: str | None = option(
        None,
        parse=parse_base_url,
        help="drive an app already running there instead of serving Moni (app.host)",
    )
    target: str | None = option(
        None, metavar="FILE", help="the target file for --host (app.target; default: Moni's)"
    )


@dataclass
class RunOutcome:
    """How the lab run ended."""

    status: int
    verdict: str
    index: Path
    config: RunConfig = field(repr=False)


def resolve_config(options: RunOptions) -> RunConfig:
    """The run configuration: the file, its ``[quick]`` table, the flags and ``--set`` keys."""
    overrides = list(options.overrides)
    if options.seed is not None:
        overrides.append(f"run.seed={options.seed}")
    if options.out is not None:
        overrides.append(f"run.out={json.dumps(str(options.out))}")
    for key, value in (("app.host", options.host), ("app.target", options.target)):
        if value is not None:
            overrides.append(f"{key}={json.dumps(value)}")
    config_path = options.config or DEMO_CONFIG
    config = load_run_config(config_path, quick=options.quick, overrides=overrides)
    if options.skip:  # --skip adds to the config's run.skip
        skip = json.dumps(sorted(set(config.run.skip) | set(options.skip)))
        config = load_run_config(
            config_path, quick=options.quick, overrides=[*overrides, f"run.skip={skip}"]
        )
    return config


def run_lab(options: RunOptions) -> RunOutcome:
    """Run every stage of the configuration and write the report."""
    from monilab.lab.run import LabRun

    config = resolve_config(options)
    out = Path(config.run.out or time.strftime("out/run-%Y%m%d-%H%M%S"))
    if out.exists() and not out.is_dir():
        raise MonilabError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not options.overwrite:
        raise MonilabError(f"--out {out} is not empty; use --overwrite or another --out")
    lab = LabRun(config, out)
    if options.overwrite:
        lab.paths.clear()
    status = lab.run()
    return RunOutcome(status, lab.status, lab.paths.index, config)


def _report(options: RunOptions, outcome: RunOutcome) -> str:
    return f"monilab run: {outcome.verdict}; report: {outcome.index}"


COMMAND = Command(
    name="run",
    help="run the whole lab: population, app, load, browsers, models, calibration, report",
    description=(
        "Generate a population, serve the app on SQLite, drive it with persona-shaped "
        "Locust load and Chromium journeys, export and reconcile what it stored, train "
        "the models, calibrate the personas against the bundled targets, and write an "
        "HTML report (OUT/index.html). Every flag is a key of the config file; "
        "--set section.key=value sets any other key."
    ),
    options=RunOptions,
    run=run_lab,
    report=_report,
    status=lambda outcome: outcome.status,
)
