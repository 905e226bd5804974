"""``monilab load``: persona-shaped Locust load on a running Moni app, with reconciliation."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from monilab.cli.args import check_host
from monilab.contracts.errors import MonilabError

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$")


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``90s``, ``5m``, ``1h30m``; MonilabError otherwise."""
    match = _DURATION.match(text.strip())
    if not text.strip() or not match or not any(match.groups()):
        raise MonilabError(f"--run-time {text!r}: use seconds or a form like 30s, 5m, 1h30m")
    hours, minutes, seconds = match.groups()
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    if total <= 0:
        raise MonilabError("--run-time must be positive")
    return total


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``monilab load``."""
    parser = subparsers.add_parser(
        "load",
        help="drive a running app with persona-shaped Locust load",
        description=(
            "Run Locust (headless, in its own process) against a Moni app: every Locust user "
            "replays one agent's decisions; writes Locust's CSV/HTML reports and summary.json "
            "with latency per endpoint and persona and the reconciliation of writes."
        ),
    )
    parser.add_argument("--host", required=True, help="base URL of the app under load")
    parser.add_argument("--users", type=int, default=20, help="peak concurrent users")
    parser.add_argument("--spawn-rate", type=float, default=10.0, help="users started per second")
    parser.add_argument("--run-time", default="60s", help="e.g. 30s, 5m, 1h (default 60s)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--population", type=Path, help="a dataset made by monilab generate")
    source.add_argument("--personas", type=Path, help="persona file (default: bundled)")
    source.add_argument("--plan", type=Path, help="a load plan file written earlier")
    parser.add_argument("--agents", type=int, help="agents in the plan (default: 4 x --users)")
    parser.add_argument("--seed", type=int, default=7, help="population seed (default 7)")
    parser.add_argument("--days", type=int, default=14, help="simulated days of decisions")
    parser.add_argument("--start", default="2024-03-01", help="first simulated day")
    parser.add_argument(
        "--time-scale", type=float, default=3600.0, help="simulated seconds per real second"
    )
    parser.add_argument(
        "--max-wait", type=float, default=10.0, help="cap on one wait between actions (s)"
    )
    parser.add_argument(
        "--shape", choices=("population", "ramp", "step", "spike"), default="population"
    )
    parser.add_argument("--run-id", help="X-Run-Id of the run (default: derived from time)")
    dist = parser.add_mutually_exclusive_group()
    dist.add_argument("--processes", type=int, default=0, help="Locust worker processes here")
    dist.add_argument("--master", action="store_true", help="be the master of remote workers")
    dist.add_argument("--worker", action="store_true", help="be a worker of --master-host")
    parser.add_argument("--expect-workers", type=int, default=1, help="workers a master awaits")
    parser.add_argument("--master-host", default="127.0.0.1", help="the master a worker joins")
    parser.add_argument("--master-port", type=int, default=5557)
    parser.add_argument("--web", action="store_true", help="serve Locust's web UI")
    parser.add_argument(
        "--no-reconcile", action="store_true", help="skip reading writes back after the run"
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``monilab load``."""
    from sim.load.session import LoadOptions, run_load_session

    if args.users < 1:
        raise MonilabError("--users must be at least 1")
    if args.spawn_rate <= 0:
        raise MonilabError("--spawn-rate must be positive")
    if args.time_scale <= 0:
        raise MonilabError("--time-scale must be positive")
    if args.processes < 0 or args.expect_workers < 1:
        raise MonilabError("--processes must be >= 0 and --expect-workers >= 1")
    if args.agents is not None and args.agents < 1:
        raise MonilabError("--agents must be at least 1")
    options = LoadOptions(
        host=check_host(args.host),
        users=args.users,
        spawn_rate=args.spawn_rate,
        run_time=parse_duration(args.run_time),
        out=args.out,
        shape=args.shape,
        time_scale=args.time_scale,
        max_wait=args.max_wait,
        population=args.population,
        personas=args.personas,
        plan=args.plan,
        agents=args.agents,
        seed=args.seed,
        days=args.days,
        start=args.start,
        run_id=args.run_id,
        role="master" if args.master else "worker" if args.worker else "local",
        processes=args.processes,
        expect_workers=args.expect_workers,
        master_host=args.master_host,
        master_port=args.master_port,
        web=args.web,
        reconcile=not args.no_reconcile,
    )
    summary = run_load_session(options)
    if summary is None:  # a worker: its master writes the summary
        return 0
    total = summary["total"]
    rec = summary.get("reconciliation") or {}
    print(
        f"monilab load: {total.get('requests', 0)} requests, {total.get('failures', 0)} failures, "
        f"{total.get('rps', 0):.1f} req/s, p95 {total.get('p95_ms')} ms; reconciliation "
        f"missing={rec.get('missing')} duplicated={rec.get('duplicated')} "
        f"unexpected={rec.get('unexpected')} -> {args.out / 'summary.json'}"
    )
    return 0 if not rec or rec.get("ok") else 1
