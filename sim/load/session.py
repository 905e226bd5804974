"""A whole load session: plan → Locust in its own process → summary and reconciliation.

This is what ``monilab load`` (and the lab run) calls. It runs in the lab's own process and
never imports Locust.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import requests

from monilab.contracts.errors import MonilabError
from sim.health import check_healthz
from sim.load.options import LoadOptions
from sim.load.runner import LoadRun, run_locust
from sim.load.summary import endpoint_stats, persona_stats
from sim.plan.records import read_plan, write_plan
from sim.plan.shapes import ShapeSpec
from sim.reconcile.ledger import read_ledger
from sim.reconcile.stored import StoredReadError, reconcile_run

log = logging.getLogger(__name__)


def run_load_session(options: LoadOptions) -> dict[str, Any] | None:
    """Run one load session; returns the summary (None for a worker, whose master reports)."""
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    ledger_dir = out / "ledger"
    if ledger_dir.exists():
        shutil.rmtree(ledger_dir)  # a ledger must only hold this run's lines
    run_id = options.run_id or time.strftime("run-%Y%m%d-%H%M%S")
    if options.role != "worker":
        check_healthz(options.host)

    plan_path, activity = _prepare_plan(options, out)
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
    return write_summary(options, load_run, wall)


def write_summary(options: LoadOptions, load_run: LoadRun, wall: float) -> dict[str, Any]:
    """Build ``summary.json`` from Locust's CSV, the ledger and the reconciliation."""
    endpoints, total = endpoint_stats(f"{load_run.csv_prefix}_stats.csv")
    lines = list(read_ledger(load_run.ledger_dir))
    summary: dict[str, Any] = {
        "run_id": load_run.run_id,
        "host": options.host,
        "shape": load_run.shape.kind,
        "peak_users": options.users,
        "run_time_s": options.run_time,
        "time_scale": options.time_scale,
        "wall_time_s": round(wall, 2),
        "agents_started": sum(1 for line in lines if line.get("type") == "agent"),
        "total": total,
        "endpoints": endpoints,
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
    if options.reconcile:
        try:
            summary["reconciliation"] = reconcile_run(
                options.host, lines, load_run.run_id
            ).as_dict()
        except (StoredReadError, requests.RequestException) as exc:
            raise MonilabError(f"reconciliation could not read the app back: {exc}") from None
    (options.out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return summary


def _prepare_plan(options: LoadOptions, out: Path) -> tuple[Path, list[float]]:
    """The plan file to replay and the population's hourly activity (for the shape)."""
    from sim.plan.build import activity_from_plan, build_plan

    if options.plan is not None:
        if not options.plan.is_file():
            raise MonilabError(f"--plan {options.plan}: no such file")
        agents = list(read_plan(options.plan))
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
    )
    path = out / "plan.jsonl"
    write_plan(path, agents)
    return path, activity
