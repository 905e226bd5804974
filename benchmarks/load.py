"""Load benchmark: app and Locust side by side on this machine (127.0.0.1 only).

Prints, for the app under ``monilab serve`` (SQLite, gunicorn):
(a) requests/s and p95 of mixed persona traffic at saturation (agents' plans replayed with
    no waits) and the ratio to a trivial endpoint (/healthz) on the same server setup;
(b) requests/s of persona replay versus a bare FastHttpUser on the same endpoint
    (GET /api/v1/type with a token), i.e. what the agent machinery costs the client;
(c) Playwright journeys per minute at concurrency 4 and peak memory, against the same app
    (benchmarks/browser.py has the detailed browser-only benchmark).

Every Locust row also prints the CPU milliseconds per request of the app server (all its
processes) and of the load generator (Locust and ``monilab load``), which unlike requests/s
hold when other jobs share the machine.

Usage: python benchmarks/load.py [--users 32] [--seconds 20] [--app-workers 4]
    [--app-threads 4] [--locust-processes 0] [--browser-agents 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from cpu import finished_children_cpu_seconds, load_average, tree_cpu_seconds

from monilab.lab.appprocess import AppProcess
from sim.browser import BrowseOptions, demo_plans, run_browse
from sim.load.summary import endpoint_stats
from sim.plan.build import build_plan
from sim.plan.records import AgentPlan, PlannedAction, write_plan

BARE = Path(__file__).resolve().parent.parent / "sim" / "locustfiles" / "bare.py"


def measured(app: AppProcess, cmd: list[str], timeout: float) -> tuple[float, float]:
    """Run a load-generator command; returns (server, client) CPU seconds it caused."""
    assert app.proc is not None
    server, client = tree_cpu_seconds(app.proc.pid), finished_children_cpu_seconds()
    subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
    return tree_cpu_seconds(app.proc.pid) - server, finished_children_cpu_seconds() - client


def with_cpu(row: dict, cpu: tuple[float, float]) -> dict:
    """A stats row with the server's and the client's CPU ms per request added."""
    requests = max(int(row.get("requests") or 0), 1)
    return {
        **row,
        "server_cpu_ms": cpu[0] / requests * 1000,
        "client_cpu_ms": cpu[1] / requests * 1000,
    }


def bare_run(app: AppProcess, out: Path, args: argparse.Namespace, path: str, auth: bool) -> dict:
    """A bare Locust run on one endpoint; returns the aggregated stats row."""
    prefix = out / f"bare{path.replace('/', '_')}"
    cmd = [
        sys.executable, "-m", "locust", "-f", str(BARE), "--headless", "--host", app.url,
        "-u", str(args.users), "-r", str(args.users), "-t", f"{args.seconds}s",
        "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--bare-path", path,
    ] + (["--bare-auth"] if auth else [])  # fmt: skip
    if args.locust_processes:
        cmd += ["--processes", str(args.locust_processes)]
    cpu = measured(app, cmd, args.seconds + 90)
    return with_cpu(endpoint_stats(f"{prefix}_stats.csv")[1], cpu)


def monilab_load(app: AppProcess, out: Path, args: argparse.Namespace, extra: list[str]) -> dict:
    """A ``monilab load`` run with no waits; returns summary.json (CPU added to its total)."""
    cmd = [
        sys.executable, "-m", "monilab", "load", "--host", app.url, "--out", str(out),
        "--users", str(args.users), "--spawn-rate", str(args.users),
        "--run-time", f"{args.seconds}s", "--shape", "ramp", "--time-scale", "1e7",
        "--max-wait", "0", *extra,
    ]  # fmt: skip
    if args.locust_processes:
        cmd += ["--processes", str(args.locust_processes)]
    cpu = measured(app, cmd, args.seconds + 300)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    summary["total"] = with_cpu(summary["total"], cpu)
    return summary


def cpu_text(row: dict) -> str:
    """The CPU columns of a printed row."""
    return f"  CPU ms/req server {row['server_cpu_ms']:.2f} client {row['client_cpu_ms']:.2f}"


def one_endpoint_plan(path: Path, agents: int, repeats: int) -> Path:
    """Agents whose every action is viewing their type (GET /api/v1/type)."""
    t0 = datetime(2024, 3, 1, 9)
    actions = tuple(PlannedAction(t0 + timedelta(seconds=i), "view_type") for i in range(repeats))
    write_plan(path, (AgentPlan(i, f"b{i:07d}", "bench", actions) for i in range(agents)))
    return path


def main() -> None:
    """Run the three measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--app-workers", type=int, default=4)
    parser.add_argument("--app-threads", type=int, default=None, help="default: serve's")
    parser.add_argument(
        "--locust-processes", type=int, default=0, help="Locust worker processes (0: one)"
    )
    parser.add_argument(
        "--password-hash",
        default="pbkdf2:sha256:10000",
        help="MONILAB_PASSWORD_HASH of the app (scrypt, the app default, caps logins/s)",
    )
    parser.add_argument("--browser-agents", type=int, default=8, help="0 skips (c)")
    parser.add_argument("--skip-b", action="store_true", help="skip (b), the replay cost")
    args = parser.parse_args()
    env = {"MONILAB_PASSWORD_HASH": args.password_hash}
    app_options = {"workers": args.app_workers, "threads": args.app_threads, "env": env}
    with (
        tempfile.TemporaryDirectory() as tmp,
        AppProcess(Path(tmp) / "app", **app_options) as app,
    ):
        out = Path(tmp)
        # The persona plan is built here (as monilab load would: seed 7, 30 days from
        # 2024-03-01), so the client's CPU is Locust's and not the population model's.
        agents, _ = build_plan(agents=args.users * 4, seed=7, days=30, start="2024-03-01")
        persona_plan = out / "persona-plan.jsonl"
        write_plan(persona_plan, agents)
        trivial = bare_run(app, out, args, "/healthz", auth=False)
        persona = monilab_load(app, out / "persona", args, ["--plan", str(persona_plan)])
        bare = replay = None
        if not args.skip_b:
            bare = bare_run(app, out, args, "/api/v1/type", auth=True)
            plan = one_endpoint_plan(out / "one.jsonl", args.users * 2, 3000)
            extra = ["--plan", str(plan), "--no-reconcile"]
            replay = monilab_load(app, out / "replay", args, extra)
        browser = None
        if args.browser_agents > 0:
            options = BrowseOptions(
                host=app.url, out=out / "browse", agents=args.browser_agents, concurrency=4,
                timeout_s=30.0, run_id="bench-load-browser",
            )  # fmt: skip
            browser = run_browse(options, plans=demo_plans(args.browser_agents, spendings=3))
    total = persona["total"]
    threads = args.app_threads or "default"
    print(
        f"app: monilab serve, {args.app_workers} workers x {threads} threads, SQLite, password "
        f"hash {args.password_hash}; locust: {args.users} users, "
        f"{args.locust_processes or 1} process(es); load average {load_average()}"
    )
    print(
        f"(a) trivial /healthz           : {trivial['rps']:8.1f} req/s  p95 {trivial['p95_ms']} ms"
        + cpu_text(trivial)
    )
    print(
        f"(a) persona traffic (mixed)    : {total['rps']:8.1f} req/s  p95 {total['p95_ms']} ms"
        f"  failures {total['failures']}  ratio to trivial {total['rps'] / trivial['rps']:.2f}"
        + cpu_text(total)
    )
    rec = persona.get("reconciliation", {})
    print(
        f"    reconciliation             : acknowledged {rec.get('acknowledged')} "
        f"missing {rec.get('missing')} duplicated {rec.get('duplicated')} "
        f"unexpected {rec.get('unexpected')}"
    )
    if bare is not None and replay is not None:
        replay_rps = replay["total"]["rps"]
        cost = 1 - replay_rps / bare["rps"]
        print(
            f"(b) bare GET /api/v1/type      : {bare['rps']:8.1f} req/s  p95 {bare['p95_ms']} ms"
            + cpu_text(bare)
        )
        print(
            f"(b) persona replay, same route : {replay_rps:8.1f} req/s  p95 "
            f"{replay['total']['p95_ms']} ms  replay cost {cost:.1%} (target <= 15%)"
            + cpu_text(replay["total"])
        )

    if browser is not None:
        memory = browser["peak_memory"]
        print(
            f"(c) Playwright, concurrency 4     : {browser['journeys_per_minute']} journeys/min "
            f"({browser['journeys']['ok']}/{browser['journeys']['total']} ok), peak memory "
            f"{memory['total_mib']} MiB (browser RSS-sum {memory['browser_mib']}, "
            f"PSS-sum {memory['browser_pss_mib']})"
        )


if __name__ == "__main__":
    main()
