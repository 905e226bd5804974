"""The stages of a lab run; each one is a ``monilab`` command a user could run by hand.

A stage function takes the :class:`~monilab.lab.run.LabRun` and returns a
:class:`StageOutcome`. Stages call the same command handlers as the CLI (through
:func:`invoke`), so a lab run and the commands in the README cannot drift apart, and the
report can show the command that redoes each stage. Only ``serve`` is special: the app runs
in its own process (:class:`~monilab.lab.appprocess.AppProcess`) for the load and browser
stages and is stopped before the export reads its database.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monilab.contracts.errors import MonilabError

if TYPE_CHECKING:
    from monilab.lab.run import LabRun


@dataclass
class StageOutcome:
    """What a stage did.

    Attributes:
        commands: The ``monilab ...`` command lines that redo the stage.
        facts: A few headline numbers for the report index.
        findings: Problems the stage found in what it tested (lost writes, failed
            journeys); the run goes on, but ends with exit status 1.
    """

    commands: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)


def invoke(argv: Sequence[str], outcome: StageOutcome) -> int:
    """Run ``monilab <argv>`` in this process through its command handler; returns its status.

    The command line is added to ``outcome.commands``; a user error of the command comes
    back as the :class:`MonilabError` it raised.
    """
    from monilab.cli.main import build_parser

    outcome.commands.append("monilab " + shlex.join(argv))
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:  # argparse already printed its one-line reason
        raise MonilabError(f"bad arguments for monilab {argv[0]} (status {exc.code})") from None
    return int(args.handler(args) or 0)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MonilabError(f"{path}: expected the stage's JSON output ({exc})") from None


def generate(run: LabRun) -> StageOutcome:
    """The labelled population (and, for the models, a smaller one from another seed)."""
    cfg, out = run.config.population, StageOutcome()
    base = ["--days", str(cfg.days), "--start", cfg.start, "--workers", str(cfg.workers)]
    base += ["--anomaly-rate", str(cfg.anomaly_rate), "--personas", str(run.personas)]
    base += ["--overwrite"]
    invoke(
        ["generate", "--users", str(cfg.users), "--seed", str(run.config.run.seed), *base,
         "--out", str(run.paths.population)],
        out,
    )  # fmt: skip
    manifest = _read_json(run.paths.population / "manifest.json")
    out.facts = {
        "users": manifest["counts"]["users"],
        "transactions": manifest["counts"]["transactions"],
        "anomalies": manifest["counts"]["anomalies"],
    }
    eval_users = run.config.models.eval_users
    if eval_users and "train" not in run.config.run.skip:
        invoke(
            ["generate", "--users", str(eval_users), "--seed", str(run.config.run.seed + 1),
             *base, "--out", str(run.paths.population_eval)],
            out,
        )  # fmt: skip
        out.facts["eval_users"] = eval_users
    return out


def serve(run: LabRun) -> StageOutcome:
    """The Moni app on SQLite, in its own process, until the export."""
    from monilab.lab.appprocess import AppProcess

    cfg = run.config.app
    run.app = AppProcess(
        run.paths.app_data,
        workers=cfg.workers,
        threads=cfg.threads,
        startup_timeout=cfg.startup_timeout_s,
        env={"MONILAB_PASSWORD_HASH": cfg.password_hash or None},
    ).start()
    command = (
        f"MONILAB_PASSWORD_HASH={shlex.quote(cfg.password_hash)} monilab serve --port "
        f"{run.app.port} --workers {cfg.workers} --threads {cfg.threads} "
        f"--data-dir {shlex.quote(str(run.paths.app_data))}"
    )
    return StageOutcome(commands=[command], facts={"url": run.app.url, "database": "SQLite"})


def load(run: LabRun) -> StageOutcome:
    """Persona-shaped Locust load on the app, reconciled through its API."""
    cfg, out = run.config.load, StageOutcome()
    argv = [
        "load", "--host", run.app_url(), "--users", str(cfg.users),
        "--spawn-rate", str(cfg.spawn_rate), "--run-time", f"{cfg.run_time_s:g}s",
        "--shape", cfg.shape, "--time-scale", str(cfg.time_scale),
        "--max-wait", str(cfg.max_wait_s), "--seed", str(run.config.run.seed),
        "--run-id", run.load_run_id, "--out", str(run.paths.load),
    ]  # fmt: skip
    if run.paths.population.joinpath("manifest.json").is_file():
        argv += ["--population", str(run.paths.population)]
    else:
        argv += ["--personas", str(run.personas), "--days", str(cfg.days), "--start", cfg.start]
    if cfg.processes:
        argv += ["--processes", str(cfg.processes)]
    invoke(argv, out)
    summary = _read_json(run.paths.load / "summary.json")
    total, rec = summary.get("total", {}), summary.get("reconciliation", {})
    out.facts = {
        "requests": total.get("requests"),
        "failures": total.get("failures"),
        "requests_per_s": total.get("rps"),
        "p95_ms": total.get("p95_ms"),
        "missing": rec.get("missing"),
        "duplicated": rec.get("duplicated"),
        "unexpected": rec.get("unexpected"),
    }
    if total.get("failures"):
        out.findings.append(f"{total['failures']} of {total.get('requests')} requests failed")
    if rec and not rec.get("ok"):
        out.findings.append(
            f"reconciliation through the API: missing {rec.get('missing')}, duplicated "
            f"{rec.get('duplicated')}, unexpected {rec.get('unexpected')}"
        )
    return out


def browse(run: LabRun) -> StageOutcome:
    """Real Chromium journeys for a sample of agents."""
    cfg, out = run.config.browser, StageOutcome()
    argv = [
        "browse", "--host", run.app_url(), "--agents", str(cfg.agents),
        "--concurrency", str(cfg.concurrency), "--personas", str(run.personas),
        "--seed", str(run.config.run.seed), "--run-id", run.browse_run_id,
        "--max-spendings", str(cfg.max_spendings), "--timeout-s", str(cfg.timeout_s),
        "--out", str(run.paths.browser),
    ]  # fmt: skip
    if cfg.chromium:
        argv += ["--chromium", cfg.chromium]
    invoke(argv, out)
    summary = _read_json(run.paths.browser / "browser_summary.json")
    journeys = summary["journeys"]
    out.facts = {
        "journeys_ok": journeys["ok"],
        "journeys": journeys["total"],
        "journeys_per_minute": summary.get("journeys_per_minute"),
        "page_loads": summary.get("page_loads"),
    }
    for failure in summary.get("failures", []):
        out.findings.append(
            f"journey of {failure['agent_id']} failed at {failure['step']}: {failure['error']}"
        )
    return out


def export(run: LabRun) -> StageOutcome:
    """Stop the app, then export its users, spendings and request log."""
    run.stop_app()
    out = StageOutcome()
    invoke(
        ["export", "--data-dir", str(run.paths.app_data), "--out", str(run.paths.export),
         "--overwrite"],
        out,
    )  # fmt: skip
    manifest = _read_json(run.paths.export / "manifest.json")
    out.facts = {name: info["rows"] for name, info in manifest["tables"].items()}
    return out


def reconcile(run: LabRun) -> StageOutcome:
    """Reconcile the load's acknowledged writes with the exported database, row by row."""
    from monilab.lab.reconcile import reconcile_export

    result = reconcile_export(run.paths.load / "ledger", run.paths.export)
    out = StageOutcome(facts=result.as_dict())
    del out.facts["ok"]
    for key in ("missing_examples", "duplicated_examples", "unexpected_examples"):
        out.facts.pop(key)
    if not result.ok:
        out.findings.append(
            f"exported database vs load ledger: missing {result.missing}, duplicated "
            f"{result.duplicated}, unexpected {result.unexpected}"
        )
    (run.paths.export / "reconciliation.json").write_text(
        json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8"
    )
    return out


def train(run: LabRun) -> StageOutcome:
    """Type, anomaly and forecast models on the population (tested on another seed's)."""
    cfg, out = run.config.models, StageOutcome()
    argv = [
        "train", "--data", str(run.paths.population), "--out", str(run.paths.models),
        "--seed", str(run.config.run.seed), "--trees", str(cfg.trees),
        "--test-weeks", str(cfg.test_weeks), "--hourly-users", str(cfg.hourly_users),
    ]  # fmt: skip
    if run.paths.population_eval.joinpath("manifest.json").is_file():
        argv += ["--eval-data", str(run.paths.population_eval)]
    invoke(argv, out)
    metrics = _read_json(run.paths.models / "metrics.json")
    out.facts = headline_metrics(metrics)
    return out


def headline_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """A few numbers of ``metrics.json`` for the index (those present)."""
    facts: dict[str, Any] = {}
    paths = {
        "type_macro_f1_lightgbm": ("types", "held_out", "lightgbm", "macro_f1"),
        "type_macro_f1_other_seed": ("eval", "types", "lightgbm", "macro_f1"),
        "kmeans_ari": ("types", "held_out", "kmeans", "ari"),
        "anomaly_pr_auc_ensemble": ("anomaly", "ensemble", "pr_auc"),
        "anomaly_pr_auc_iqr": ("anomaly", "iqr", "pr_auc"),
        "forecast_wape_two_stage": ("forecast", "two_stage_lightgbm", "cells", "wape"),
        "forecast_wape_4_week_mean": ("forecast", "mean_4_weeks", "cells", "wape"),
    }
    for name, path in paths.items():
        value: Any = metrics
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int | float):
            facts[name] = round(float(value), 3)
    return facts


def calibrate(run: LabRun) -> StageOutcome:
    """Fit the personas' free parameters to aggregate targets on a small budget."""
    from calibration.paths import bundled_targets

    cfg, out = run.config.calibration, StageOutcome()
    targets = cfg.targets or str(bundled_targets("seoul_coffee_2024"))
    argv = [
        "calibrate", "--personas", str(run.personas), "--targets", targets,
        "--budget", str(cfg.budget), "--jobs", str(cfg.jobs), "--users", str(cfg.users),
        "--days", str(cfg.days), "--sampler", cfg.sampler,
        "--seed", str(run.config.run.seed), "--out", str(run.paths.calibration), "--no-resume",
    ]  # fmt: skip
    if cfg.validate:
        argv += ["--validate", cfg.validate]
    invoke(argv, out)
    result = _read_json(run.paths.calibration / "calibration.json")
    fit = (result.get("held_out") or {}).get("fit") or {}
    out.facts = {
        key: fit[key]
        for key in ("loss_default", "loss_final", "noise_floor", "fraction_of_closable_gap_closed")
        if key in fit
    }
    out.facts["calls"] = result.get("calls")
    return out


STAGE_FUNCTIONS: dict[str, Callable[[LabRun], StageOutcome]] = {
    "generate": generate,
    "serve": serve,
    "load": load,
    "browse": browse,
    "export": export,
    "reconcile": reconcile,
    "train": train,
    "calibrate": calibrate,
}

REQUIRES: dict[str, tuple[str, ...]] = {
    "load": ("serve",),
    "browse": ("serve",),
    "export": ("serve",),
    "reconcile": ("load", "export"),
    "train": ("generate",),
}
"""Stages that need another stage's output."""
