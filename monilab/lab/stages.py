"""The stages of a lab run; each one is a ``monilab`` command a user could run by hand.

A stage function takes the :class:`~monilab.lab.run.LabRun` and returns a
:class:`StageOutcome`. Stages call the same typed commands as the CLI
(:mod:`monilab.lab.commands`, through :func:`execute`) and use their results, so a lab run
and the commands in the README cannot drift apart, and the report shows the command line
that redoes each stage (``Command.command_line``). Only ``serve`` is special: the app runs
in its own process (:class:`~monilab.lab.appprocess.AppProcess`) for the load and browser
stages and is stopped before the export reads its database.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monilab.contracts.errors import MonilabError
from monilab.contracts.options import check_options
from monilab.lab.commands import command
from monilab.lab.runconfig import shared_settings, skipped_stages
from sim.browser.options import CHROMIUM, BrowseOptions
from sim.load.options import LoadOptions
from target_app.options import ServeOptions

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


def execute(name: str, options: Any, outcome: StageOutcome) -> Any:
    """Run the command ``name`` with ``options`` in this process; returns its result.

    The command line that redoes it is added to ``outcome.commands``.
    """
    cmd = command(name)
    outcome.commands.append(cmd.command_line(options))
    return cmd.run(check_options(options))


def generate(run: LabRun) -> StageOutcome:
    """The labelled population (and, for the models, a smaller one from another seed)."""
    from monilab.lab.commands.generate import GenerateOptions

    cfg, out = run.config.population, StageOutcome()
    options = GenerateOptions(
        **shared_settings(cfg, GenerateOptions) | {"personas": str(run.personas)},
        seed=run.config.run.seed,
        out=run.paths.population,
        overwrite=True,
    )
    manifest = execute("generate", options, out)
    out.facts = {
        "users": manifest["counts"]["users"],
        "transactions": manifest["counts"]["transactions"],
        "anomalies": manifest["counts"]["anomalies"],
    }
    eval_users = run.config.models.eval_users
    if eval_users and "train" not in run.config.run.skip:
        other_seed = dataclasses.replace(
            options,
            users=eval_users,
            seed=run.config.run.seed + 1,
            out=run.paths.population_eval,
        )
        execute("generate", other_seed, out)
        out.facts["eval_users"] = eval_users
        perturb = run.config.models.perturb
        if perturb > 0:
            perturbed = dataclasses.replace(
                other_seed,
                seed=run.config.run.seed + 2,
                perturb=perturb,
                perturb_seed=run.config.run.seed,
                out=perturbed_population(run),
            )
            execute("generate", perturbed, out)
            out.facts["perturb"] = perturb
    return out


def perturbed_population(run: LabRun) -> Path:
    """Where the generate stage writes the perturbed evaluation population."""
    return run.paths.out / "population-perturbed"


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
    options = ServeOptions(
        port=run.app.port,
        workers=cfg.workers,
        threads=cfg.threads,
        data_dir=run.paths.app_data,
    )
    line = f"MONILAB_PASSWORD_HASH={shlex.quote(cfg.password_hash)} "
    line += command("serve").command_line(options)
    return StageOutcome(commands=[line], facts={"url": run.app.url, "database": "SQLite"})


def load(run: LabRun) -> StageOutcome:
    """Persona-shaped Locust load on the app, reconciled through its API."""
    cfg, out = run.config.load, StageOutcome()
    settings = shared_settings(cfg, LoadOptions)
    if run.paths.population.joinpath("manifest.json").is_file():
        settings = {k: v for k, v in settings.items() if k not in ("days", "start")}
        settings["population"] = run.paths.population
    else:
        settings["personas"] = run.personas
        settings["history"] = False  # the history comes from the generated population
    target = run.config.app.target
    if settings.get("history") and target and not _can_batch(target):
        settings["history"] = False  # one request per past spending: far too slow for a run
        out.facts["history"] = "off: the target has no batch upload (add_spendings)"
    options = LoadOptions(
        **settings,
        target=target,
        host=run.app_url(),
        run_time=cfg.run_time_s,
        max_wait=cfg.max_wait_s,
        seed=run.config.run.seed,
        run_id=run.load_run_id,
        out=run.paths.load,
    )
    summary = execute("load", options, out) or {}
    total, rec = summary.get("total", {}), summary.get("reconciliation", {})
    out.facts |= {
        "target": summary.get("target"),
        "requests": total.get("requests"),
        "failures": total.get("failures"),
        "requests_per_s": total.get("rps"),
        "p95_ms": total.get("p95_ms"),
        "missing": rec.get("missing"),
        "duplicated": rec.get("duplicated"),
        "unexpected": rec.get("unexpected"),
    }
    history = summary.get("history") or {}
    if history:
        out.facts["history_spendings"] = history.get("spendings_acknowledged")
        out.facts["history_seconds"] = history.get("seconds")
    if history.get("failures"):
        out.findings.append(
            f"history upload: {history['failures']} of {history['requests']} requests failed"
        )
    if total.get("failures"):
        out.findings.append(f"{total['failures']} of {total.get('requests')} requests failed")
    failed = [t["expr"] for t in summary.get("thresholds", []) if not t.get("ok")]
    if failed:
        out.findings.append(f"thresholds not met: {', '.join(failed)}")
    if rec and not rec.get("ok"):
        out.findings.append(
            f"reconciliation through the API: missing {rec.get('missing')}, duplicated "
            f"{rec.get('duplicated')}, unexpected {rec.get('unexpected')}"
        )
    return out


def _can_batch(target: str) -> bool:
    """Whether a target file declares batch uploads (``add_spendings``)."""
    from sim import targets
    from sim.targets.spec import TargetSpec

    spec = targets.load(target)
    return isinstance(spec, TargetSpec) and spec.action("add_spendings") is not None


def browse(run: LabRun) -> StageOutcome:
    """Real Chromium journeys for a sample of agents."""
    cfg, out = run.config.browser, StageOutcome()
    options = BrowseOptions(
        **shared_settings(cfg, BrowseOptions) | {"chromium": Path(cfg.chromium or CHROMIUM)},
        host=run.app_url(),
        target=run.config.app.target,
        personas=run.personas,
        seed=run.config.run.seed,
        run_id=run.browse_run_id,
        out=run.paths.browser,
    )
    summary = execute("browse", options, out)
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
    from monilab.lab.commands.export import ExportOptions

    run.stop_app()
    out = StageOutcome()
    options = ExportOptions(out=run.paths.export, data_dir=run.paths.app_data, overwrite=True)
    manifest = execute("export", options, out)
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
    """Type, anomaly and forecast models on what the app stored (the export joined to the
    population's ground truth), or on the population itself (tested on another seed's)."""
    from monilab.lab.commands.train import TrainOptions

    cfg, out = run.config.models, StageOutcome()
    other_seed = run.paths.population_eval
    perturbed = perturbed_population(run)
    export = _export_to_train_on(run)
    options = TrainOptions(
        **shared_settings(cfg, TrainOptions),
        data=run.paths.population,
        export=export,
        out=run.paths.models,
        eval_data=other_seed if other_seed.joinpath("manifest.json").is_file() else None,
        perturbed_data=perturbed if perturbed.joinpath("manifest.json").is_file() else None,
        seed=run.config.run.seed,
    )
    metrics = execute("train", options, out).metrics
    out.facts = {"trained_on": "app export" if export else "generated population"}
    out.facts |= headline_metrics(metrics)
    return out


def _export_to_train_on(run: LabRun) -> Path | None:
    """The export when the models should learn from it (MonilabError when it cannot be)."""
    if run.config.models.train_on != "export":
        return None
    skipped = skipped_stages(run.config)
    if skipped & {"load", "export", "serve"} or not run.config.load.history:
        return None  # nothing went through the app: the population is all there is
    if not run.paths.export.joinpath("manifest.json").is_file():
        raise MonilabError(f"models.train_on = export, but {run.paths.export} has no export")
    return run.paths.export


def headline_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """A few numbers of ``metrics.json`` for the index (those present)."""
    facts: dict[str, Any] = {}
    paths = {
        "type_macro_f1_lightgbm": ("types", "held_out", "lightgbm", "macro_f1"),
        "type_macro_f1_other_seed": ("types", "other_seed", "models", "lightgbm", "macro_f1"),
        "type_macro_f1_worst": ("types", "headline", "macro_f1"),
        "type_macro_f1_worst_ci_low": ("types", "headline", "ci95", 0),
        "type_macro_f1_worst_ci_high": ("types", "headline", "ci95", 1),
        "type_macro_f1_worst_chance": ("types", "headline", "chance_macro_f1"),
        "kmeans_ari": ("types", "held_out", "kmeans", "ari"),
        "anomaly_pr_auc_ensemble": ("anomaly", "ensemble", "pr_auc"),
        "anomaly_pr_auc_iqr": ("anomaly", "iqr", "pr_auc"),
        "anomaly_best_model_pr_auc": ("anomaly", "headline", "best_model_pr_auc"),
        "anomaly_best_model_pr_auc_ci_low": ("anomaly", "headline", "best_model_pr_auc_ci", 0),
        "anomaly_best_model_pr_auc_ci_high": ("anomaly", "headline", "best_model_pr_auc_ci", 1),
        "anomaly_best_rule_pr_auc": ("anomaly", "headline", "best_rule_pr_auc"),
        "anomaly_rules_plus_models_pr_auc": ("anomaly", "headline", "stacked_pr_auc"),
        **{
            f"forecast_{measure}_{key}": ("forecast", "headline", measure, *path)
            for measure in ("cells", "weekly_total")
            for key, path in (
                ("wape_model", ("model_wape",)),
                ("wape_model_ci_low", ("model_wape_ci", 0)),
                ("wape_model_ci_high", ("model_wape_ci", 1)),
                ("wape_best_baseline", ("baseline_wape",)),
                ("wape_best_baseline_ci_low", ("baseline_wape_ci", 0)),
                ("wape_best_baseline_ci_high", ("baseline_wape_ci", 1)),
                ("ratio_to_best_baseline", ("ratio",)),
            )
        },
        "real_tstr_over_trtr": ("real", "forecast", "tstr_trtr", "ratio"),
        "real_zero_over_trtr": ("real", "forecast", "tstr_trtr", "zero_over_trtr"),
    }
    for name, path in paths.items():
        value: Any = metrics
        for key in path:
            if isinstance(value, list) and isinstance(key, int):
                value = value[key] if key < len(value) else None
            else:
                value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int | float):
            facts[name] = round(float(value), 3)
    anomaly_head = metrics.get("anomaly", {}).get("headline")
    if isinstance(anomaly_head, dict) and "best_rule" in anomaly_head:
        facts["anomaly_best_model"] = anomaly_head["best_model"]
        facts["anomaly_best_rule"] = anomaly_head["best_rule"]
        facts["anomaly_rule_matches_model"] = anomaly_head["rule_matches_model"]
    for measure, head in metrics.get("forecast", {}).get("headline", {}).items():
        if isinstance(head, dict) and "best_baseline" in head:
            facts[f"forecast_{measure}_best_baseline"] = head["best_baseline"]
            facts[f"forecast_{measure}_model_beats_it"] = head["beats_best_baseline"]
    worst = metrics.get("types", {}).get("headline", {}).get("evaluation")
    if worst:
        facts["type_worst_evaluation"] = worst
    return facts


def calibrate(run: LabRun) -> StageOutcome:
    """Fit the personas' free parameters to aggregate targets on a small budget."""
    from calibration.paths import bundled_targets
    from monilab.lab.commands.calibrate import CalibrateOptions

    cfg, out = run.config.calibration, StageOutcome()
    settings = shared_settings(cfg, CalibrateOptions)
    settings["targets"] = Path(cfg.targets or bundled_targets("seoul_coffee_2024"))
    settings["validate"] = Path(cfg.validate) if cfg.validate else None
    options = CalibrateOptions(
        **settings,
        personas=run.personas,
        seed=run.config.run.seed,
        out=run.paths.calibration,
        no_resume=True,
    )
    result = execute("calibrate", options, out).result.to_dict()
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
