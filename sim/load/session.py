"""A whole load session: plan → Locust in its own process → summary and reconciliation.

This is what ``monilab load`` (and the lab run) calls. It runs in the lab's own process and
never imports Locust.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from monilab.contracts.errors import MonilabError
from sim import targets
from sim.health import check_healthz
from sim.load.history import AgentHistory, HistoryUpload, live_window_start, split_agent
from sim.load.options import LoadOptions
from sim.load.runner import LoadRun, run_locust
from sim.load.summary import endpoint_stats, failure_messages, persona_stats
from sim.plan.records import read_plan, write_plan
from sim.plan.shapes import ShapeSpec
from sim.reconcile.ledger import read_ledger
from sim.reconcile.stored import StoredReadError, reconcile_run

log = logging.getLogger(__name__)


def run_load_session(options: LoadOptions) -> dict[str, Any] | None:
    """Run one load session; returns the summary (None for a worker, whose master reports)."""
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
    history = _History(options, run_id, ledger_dir, target) if options.history else None
    if history is not None and options.role != "worker":
        history.bring_in()

    plan_path, activity = _prepare_plan(options, out, history)
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
        plan=plan_path,
        out=out,
        run_id=run_id,
        role=options.role,
        processes=options.processes,
        expect_workers=options.processes or options.expect_workers,
        master_host=options.master_host,
        master_port=options.master_port,
        web=options.web,
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
    code = run_locust(load_run, timeout=spec.run_time + 120)
    wall = time.monotonic() - started
    if code != 0:
        raise MonilabError(
            f"locust exited with status {code}; see {out / f'locust-{options.role}.out'}"
        )
    if options.role == "worker":
        return None
    if history is not None:
        history.sync()
    return write_summary(options, load_run, wall, target, history)


def write_summary(
    options: LoadOptions,
    load_run: LoadRun,
    wall: float,
    target: Any,
    history: _History | None = None,
) -> dict[str, Any]:
    """Build ``summary.json`` from Locust's CSV, the ledger and the reconciliation."""
    endpoints, total = endpoint_stats(f"{load_run.csv_prefix}_stats.csv")
    if not total.get("requests"):  # a run that did nothing must never pass
        log_file = options.out / f"locust-{options.role}.out"
        raise MonilabError(f"the load sent no requests (see {log_file})")
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
            "plan": load_run.plan.name
            if load_run.plan.parent == options.out
            else str(load_run.plan),
        },
    }
    if history is not None:
        summary["history"] = history.summary()
    summary["target"] = getattr(target, "name", None) or str(options.target)
    if options.reconcile:
        summary["reconciliation"] = _reconcile(options, load_run, lines, target)
    (options.out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
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


def _prepare_plan(
    options: LoadOptions, out: Path, history: _History | None = None
) -> tuple[Path, list[float]]:
    """The plan file to replay and the population's hourly activity (for the shape)."""
    from sim.plan.build import activity_from_plan, build_plan

    if options.plan is not None:
        if not options.plan.is_file():
            raise MonilabError(f"--plan {options.plan}: no such file")
        try:
            agents = list(read_plan(options.plan))
        except (ValueError, KeyError, TypeError) as exc:  # JSON, UTF-8, missing fields
            raise MonilabError(f"--plan {options.plan}: not a load plan ({exc})") from None
        if not agents:
            raise MonilabError(f"--plan {options.plan}: the plan has no agents")
        return options.plan, activity_from_plan(agents)
    count = options.agents or max(4 * options.users, options.users)
    agents, activity = build_plan(
        agents=count,
        seed=options.seed,
        days=options.days,
        start=options.start,
        personas=options.personas,
        population=options.population,
        live_from=history.live_from if history is not None else None,
    )
    if not agents:
        raise MonilabError("no agent has anything to do in the live window (raise --live-days)")
    path = out / "plan.jsonl"
    write_plan(path, agents)
    return path, activity
