"""What a load session is asked to do: the one declaration of the load options.

``monilab load`` builds its flags from :class:`LoadOptions`, the lab run's ``[load]`` table
takes its keys, bounds and defaults from it, and the lab report's "redo" line is
:func:`~monilab.contracts.options.to_argv` of it. Importing this module is cheap (no Locust).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monilab.contracts.options import (
    option,
    parse_base_url,
    parse_date,
    parse_duration,
    render_duration,
)
from sim.load.thresholds import check_threshold
from sim.plan.shapes import DEFAULT_TIME_SCALE, SHAPES

ROLES = ("local", "master", "worker")


@dataclass(frozen=True)
class LoadOptions:
    """Everything ``monilab load`` can be asked to do (see each option's help)."""

    host: str = option(required=True, parse=parse_base_url, help="base URL of the app under load")
    target: str = option(
        "",
        metavar="FILE|MODULE:CLASS",
        help="how the actions are carried out on the app: a target file (docs/targets.md) or "
        "package.module:Class (default: the bundled Moni target)",
    )
    users: int = option(20, low=1, high=100_000, help="peak concurrent users")
    spawn_rate: float = option(10.0, low=0.01, high=10_000.0, help="users started per second")
    run_time: float = option(
        60.0,
        low=1.0,
        high=86_400.0,
        parse=parse_duration,
        render=render_duration,
        help="e.g. 30s, 5m, 1h (default 60s)",
    )
    population: Path | None = option(
        None, group="source", help="a dataset made by monilab generate"
    )
    personas: Path | None = option(None, group="source", help="persona file (default: bundled)")
    plan: Path | None = option(None, group="source", help="a load plan file written earlier")
    agents: int | None = option(None, low=1, help="agents in the plan (default: 4 x --users)")
    seed: int = option(7, low=0, help="population seed (default 7)")
    days: int = option(14, low=1, high=366, help="simulated days of decisions")
    start: str = option("2024-03-01", parse=parse_date, help="first simulated day")
    time_scale: float = option(
        DEFAULT_TIME_SCALE, low=0.001, high=1e7, help="simulated seconds per real second"
    )
    max_wait: float = option(10.0, low=0.0, high=3600.0, help="cap on one wait between actions (s)")
    shape: str = option("population", choices=SHAPES, help="users over time")
    run_id: str | None = option(None, help="X-Run-Id of the run (default: derived from time)")
    processes: int = option(0, low=0, high=64, group="dist", help="Locust worker processes here")
    role: str = option(
        "local",
        choices=ROLES,
        group="dist",
        const_flags={"master": "--master", "worker": "--worker"},
        help="be the master of remote workers (--master) or a worker of --master-host",
    )
    expect_workers: int = option(1, low=1, high=1024, help="workers a master awaits")
    master_host: str = option("127.0.0.1", help="the master a worker joins")
    master_port: int = option(5557, low=1, high=65535, help="the master's port")
    history: bool = option(
        False,
        help="with --population: before the run every agent signs up and uploads its past "
        "months in batches (X-Source: history); Locust replays the last --live-days days; "
        "after it every agent syncs that window (idempotent), so the app holds the whole period",
    )
    live_days: int = option(
        7, low=1, high=366, help="with --history: the live window, the population's last N days"
    )
    web: bool = option(
        False,
        help="serve Locust's web UI (on --web-host:--web-port); the run ends when the shape "
        "ends or it is stopped from the UI, and the summary and reports are written",
    )
    web_host: str = option("127.0.0.1", help="address the web UI listens on (default 127.0.0.1)")
    web_port: int = option(8089, low=1, high=65535, help="port of the web UI (default 8089)")
    worker_wait: float = option(
        60.0,
        low=1.0,
        high=3600.0,
        parse=parse_duration,
        render=render_duration,
        help="how long a master waits for its workers to connect before the run fails",
    )
    thresholds: list[str] = option(
        [],
        flag="--threshold",
        metavar="EXPR",
        repeat=True,
        parse=check_threshold,
        help="pass/fail criterion, repeatable: p95<300ms, p99<1s, failures<0.5%%, rps>200, "
        "lost_writes==0, scoped with 'POST /api/v1/spendings: p95<200ms' or "
        "'persona yolo_student: p99<1s' (exit 1 when one fails)",
    )
    junit: Path | None = option(
        None, help="write a JUnit XML file: one test case per threshold and one for reconciliation"
    )
    server_log: Path | None = option(
        None,
        help="the app's request log directory (JSON lines with method, route, latency_ms), for "
        "server time beside client time (found by itself for Moni on this machine)",
    )
    reconcile: bool = option(
        True, negate="--no-reconcile", help="skip reading writes back after the run"
    )
    out: Path = option(required=True, help="output directory")
