"""A whole load session: plan → Locust in its own process → summary and reconciliation.

This is what ``monilab load`` (and the lab run) calls. It runs in the lab's own process and
never imports Locust.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from monilab.contracts.errors import MonilabError
from sim import targets
from sim.health import check_healthz
from sim.load.history import AgentHistory, HistoryUpload, live_window_start, split_agent
from sim.load.junit import write_junit
from sim.load.options import LoadOptions
from sim.load.parts import check_parts
from sim.load.runner import LoadRun, run_locust
from sim.load.serverlog import discover_request_log, server_latency
from sim.load.summary import endpoint_stats, failure_messages, persona_stats
from sim.load.thresholds import evaluate_thresholds, parse_threshold
from sim.plan.build import plan_file_activity
from sim.plan.shapes import ShapeSpec
from sim.plan.source import PlanSource
from sim.reconcile.ledger import read_ledger
from sim.reconcile.stored import StoredReadError, reconcile_run

log = logging.getLogger(__name__)


def run_load_session(options: LoadOptions) -> dict[str, Any] | None:
    """Run one load session; returns the summary (None for a worker, whose master reports).

    With ``--junit`` a run that could not run still leaves the file, with an error case."""
    for threshold in options.thresholds:  # a bad one fails now, not after the run
        parse_threshold(threshold)
    if options.junit is not None:  # nor an unwritable JUnit file
        _check_writable(options.junit)
    try:
        return _run_load_session(options)
    except MonilabError as exc:
        if options.junit is not None and options.role != "worker":
            write_junit(options.junit, {"run_id": options.run_id, "error": str(exc)})
        raise


def _run_load_session(options: LoadOptions) -> dict[str, Any] | None:
    if options.history and options.population is None:
        raise MonilabError("--history needs --population (a dataset made by monilab generate)")
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    ledger_dir = out / "ledger"
    if ledger_dir.exists():
        shutil.rmtree(ledger_dir)  # a ledger must only hold this run's lines
    run_id = options.run_id or time.strftime("run-%Y%m%d-%H%M%S")
    target = targets.load(options.target)
    health = targets.health_path(target)
    if options.role != "worker" and health:
        check_healthz(options.host, health)
    server_log = _server_log(options, health)
    history = _History(options, run_id, ledger_dir, target) if options.history else None
    if history is not None and options.role != "worker":
        history.bring_in()

    source, activity = _plan_source(options, history)
    plan_source = source.to_json()
    (out / "plan-source.json").write_text(plan_source + "\n", encoding="utf-8")
    spec = ShapeSpec(
        kind=options.shape,
        peak_users=options.users,
        spawn_rate=options.spawn_rate,
        run_time=options.run_time,
        hourly_activity=activity if options.shape == "population" else (),
        time_scale=options.time_scale,
    )
    load_run = LoadRun(
        host=options.host,
        shape=spec,
        plan_source=plan_source,
        plan_digest=source.digest(),
        out=out,
        run_id=run_id,
        role=options.role,
        processes=options.processes,
        expect_workers=options.processes or options.expect_workers,
        master_host=options.master_host,
        master_port=options.master_port,
        worker_wait=options.worker_wait,
        web=options.web,
        web_host=options.web_host,
        web_port=options.web_port,
        max_wait=options.max_wait,
        target=options.target,
    )
    started = time.monotonic()
    log.info(
        "load: %s users (%s shape) for %.0fs on %s",
        options.users,
        spec.kind,
        spec.run_time,
        options.host,
    )
    try:
        code = run_locust(load_run, timeout=load_run.timeout)
    except subprocess.TimeoutExpired:
        raise MonilabError(
            f"locust did not end within {load_run.timeout:.0f}s and was stopped (a worker that "
            f"cannot reach --master-host? see {_output(options)})"
        ) from None
    wall = time.monotonic() - started
    if options.role == "worker":
        if code != 0:
            raise MonilabError(f"locust exited with status {code}; see {_output(options)}")
        return None
    expected = _parts_expected(options)
    check_parts(ledger_dir, expected, options.worker_wait, _output(options), code)
    if history is not None:
        history.sync()
    return write_summary(options, load_run, wall, target, history, server_log)


def _server_log(options: LoadOptions, health: str | None) -> Path | None:
    """The app's request log: ``--server-log``, or the one Moni on this machine names."""
    if options.role == "worker":
        return None
    if options.server_log is not None:
        if not options.server_log.is_dir():
            raise MonilabError(f"--server-log {options.server_log}: no such directory")
        return options.server_log
    return discover_request_log(options.host, health) if health else None


def write_summary(
    options: LoadOptions,
    load_run: LoadRun,
    wall: float,
    target: Any,
    history: _History | None = None,
    server_log: Path | None = None,
) -> dict[str, Any]:
    """Build ``summary.json`` from Locust's CSV, the ledger and the reconciliation."""
    endpoints, total = endpoint_stats(f"{load_run.csv_prefix}_stats.csv")
    if not total.get("requests"):  # a run that did nothing must never pass
        raise MonilabError(f"the load sent no requests (see {_output(options)})")
    lines = list(read_ledger(load_run.ledger_dir))
    summary: dict[str, Any] = {
        "run_id": load_run.run_id,
        "host": options.host,
        "shape": load_run.shape.kind,
        "peak_users": options.users,
        "run_time_s": options.run_time,
        "time_scale": options.time_scale,
        "wall_time_s": round(wall, 2),
        "agents_started": sum(
            1 for line in lines if line.get("type") == "agent" and not line.get("history")
        ),
        "total": total,
        "endpoints": endpoints,
        "failures": failure_messages(f"{load_run.csv_prefix}_failures.csv"),
        "personas": persona_stats(lines),
        "reports": {
            "html": load_run.html_report.name,
            "csv_stats": f"{load_run.csv_prefix.name}_stats.csv",
            "csv_history": f"{load_run.csv_prefix.name}_stats_history.csv",
            "plan_source": "plan-source.json",
        },
    }
    if history is not None:
        summary["history"] = history.summary()
    summary["target"] = getattr(target, "name", None) or str(options.target)
    if server_log is not None:  # the app's own time per endpoint, beside Locust's
        summary["server"] = server_latency(server_log, load_run.run_id, endpoints)
    if options.reconcile:
        summary["reconciliation"] = _reconcile(options, load_run, lines, target)
    summary["thresholds"] = evaluate_thresholds(options.thresholds, summary)
    (options.out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if options.junit is not None:
        write_junit(options.junit, summary)
    return summary


def _reconcile(
    options: LoadOptions, load_run: LoadRun, lines: list[dict[str, Any]], target: Any
) -> dict[str, Any]:
    """The reconciliation through the app, or why there is none (never a claim of zero loss
    without a read-back)."""
    spec = targets.readback_spec(target)
    if spec is None:
        return {"declared": False, "ok": None, "note": "reconciliation: not declared by the target"}
    try:
        result = reconcile_run(options.host, lines, load_run.run_id, spec)
    except (StoredReadError, requests.RequestException) as exc:
        raise MonilabError(f"reconciliation could not read the app back: {exc}") from None
    return {"declared": True, **result.as_dict()}


class _History:
    """The agents' history around the live run (:mod:`sim.load.history`)."""

    def __init__(self, options: LoadOptions, run_id: str, ledger_dir: Path, target: Any) -> None:
        from sim.plan.build import population_of_dataset

        assert options.population is not None, "checked by run_load_session"
        ledger_dir.mkdir(parents=True, exist_ok=True)
        if not targets.can_upload(target):
            raise MonilabError(f"--history: the target {options.target} cannot upload spendings")
        self.upload = HistoryUpload(options.host, run_id, ledger_dir, target)
        self.pop = population_of_dataset(options.population)
        self.live_from = live_window_start(self.pop.start, self.pop.days, options.live_days)
        self.live: list[AgentHistory] = []
        self.seconds = {"bring_in": 0.0, "sync": 0.0}

    def bring_in(self) -> None:
        """Every agent's past, before Locust starts."""
        personas = self.pop.users_frame()["persona"].tolist()

        def agents() -> Iterator[AgentHistory]:
            for index in range(self.pop.users):
                agent = split_agent(self.pop, index, personas[index], self.live_from)
                self.live.append(dataclasses.replace(agent, past=()))
                yield agent

        log.info("history: %d agents bring their past (before %s)", self.pop.users, self.live_from)
        self._timed("bring_in", agents())

    def sync(self) -> None:
        """Every agent's live window, after Locust (replays for what it already stored)."""
        self._timed("sync", iter(self.live))

    def _timed(self, step: str, work: Iterator[AgentHistory]) -> None:
        started = time.monotonic()
        self.upload.run(work, step)
        self.seconds[step] += time.monotonic() - started
        if self.upload.stats.failures:
            log.warning("history: %d failed requests so far", self.upload.stats.failures)

    def summary(self) -> dict[str, Any]:
        total = sum(self.seconds.values())
        return self.upload.summary(total) | {
            "live_from": self.live_from.isoformat(),
            "seconds_before": round(self.seconds["bring_in"], 2),
            "seconds_after": round(self.seconds["sync"], 2),
        }


def _check_writable(path: Path) -> None:
    """MonilabError unless a file can be written at ``path`` (its directory is created)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MonilabError(
            f"--junit {path}: cannot create its directory ({exc.strerror})"
        ) from None
    if path.is_dir() or not os.access(path.parent, os.W_OK):
        raise MonilabError(f"--junit {path}: cannot write a file there")


def _output(options: LoadOptions) -> Path:
    """Locust's own output of this run (where its errors are)."""
    return options.out / f"locust-{options.role}.out"


def _parts_expected(options: LoadOptions) -> int:
    """How many processes run agents: the workers, or this one process."""
    if options.role == "master":
        return options.expect_workers
    return options.processes or 1


def _plan_source(options: LoadOptions, history: _History | None) -> tuple[PlanSource, list[float]]:
    """Where this machine's Locust processes build their agents, and the population's hourly
    activity (for the shape). Nothing is built here: each process builds its own agents."""
    if options.plan is not None:
        path = options.plan.resolve()
        return PlanSource(kind="file", path=str(path)), plan_file_activity(path)
    source = PlanSource(
        kind="population",
        agents=options.agents or max(4 * options.users, options.users),
        seed=options.seed,
        start=options.start,
        days=options.days,
        personas=str(options.personas.resolve()) if options.personas else None,
        population=str(options.population.resolve()) if options.population else None,
        live_from=history.live_from.isoformat() if history is not None else None,
    )
    pop = history.pop if history is not None else source.population_model()
    profile = pop.activity_profile()
    return source, [float(x) for x in profile.mean(axis=0).to_numpy()]
