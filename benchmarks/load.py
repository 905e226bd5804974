"""Load benchmark: app and Locust side by side on this machine (127.0.0.1 only).

Prints, for the app under ``monilab serve`` (SQLite, gunicorn):
(a) requests/s and p95 of mixed persona traffic at saturation (agents' plans replayed with
    no waits) and the ratio to a trivial endpoint (/healthz) on the same server setup;
(b) requests/s of persona replay versus a bare FastHttpUser on the same endpoint
    (GET /api/v1/type with a token), i.e. what the agent machinery costs the client;
(c) Playwright journeys per minute at concurrency 4 and peak memory, against the same app
    (benchmarks/browser.py has the detailed browser-only benchmark).

Usage: python benchmarks/load.py [--users 32] [--seconds 20] [--app-workers 4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from monilab.appprocess import AppProcess
from sim.browser import BrowseOptions, demo_plans, run_browse
from sim.locustfiles.plan import AgentPlan, PlannedAction, write_plan
from sim.locustfiles.summary import endpoint_stats

BARE = Path(__file__).resolve().parent.parent / "sim" / "locustfiles" / "bare.py"


def bare_run(host: str, out: Path, users: int, seconds: int, path: str, auth: bool) -> dict:
    """A bare Locust run on one endpoint; returns the aggregated stats row."""
    prefix = out / f"bare{path.replace('/', '_')}"
    cmd = [
        sys.executable, "-m", "locust", "-f", str(BARE), "--headless", "--host", host,
        "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--csv", str(prefix),
        "--only-summary", "--loglevel", "WARNING", "--bare-path", path,
    ] + (["--bare-auth"] if auth else [])  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=seconds + 90)
    return endpoint_stats(f"{prefix}_stats.csv")[1]


def monilab_load(host: str, out: Path, users: int, seconds: int, extra: list[str]) -> dict:
    """A ``monilab load`` run with no waits; returns summary.json."""
    cmd = [
        sys.executable, "-m", "monilab", "load", "--host", host, "--out", str(out),
        "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
        "--shape", "ramp", "--time-scale", "1e12", "--max-wait", "0", *extra,
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=seconds + 300)
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


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
    parser.add_argument(
        "--password-hash",
        default="pbkdf2:sha256:10000",
        help="MONILAB_PASSWORD_HASH of the app (scrypt, the app default, caps logins/s)",
    )
    parser.add_argument("--browser-agents", type=int, default=8, help="0 skips (c)")
    args = parser.parse_args()
    env = {"MONILAB_PASSWORD_HASH": args.password_hash}
    with (
        tempfile.TemporaryDirectory() as tmp,
        AppProcess(Path(tmp) / "app", workers=args.app_workers, env=env) as app,
    ):
        out = Path(tmp)
        trivial = bare_run(app.url, out, args.users, args.seconds, "/healthz", auth=False)
        persona = monilab_load(
            app.url, out / "persona", args.users, args.seconds,
            ["--agents", str(args.users * 4), "--days", "30"],
        )  # fmt: skip
        bare = bare_run(app.url, out, args.users, args.seconds, "/api/v1/type", auth=True)
        plan = one_endpoint_plan(out / "one.jsonl", args.users * 2, 3000)
        replay = monilab_load(
            app.url, out / "replay", args.users, args.seconds,
            ["--plan", str(plan), "--no-reconcile"],
        )  # fmt: skip
        browser = None
        if args.browser_agents > 0:
            options = BrowseOptions(
                host=app.url, out=out / "browse", agents=args.browser_agents, concurrency=4,
                timeout_s=30.0, run_id="bench-load-browser",
            )  # fmt: skip
            browser = run_browse(options, plans=demo_plans(args.browser_agents, spendings=3))
    total = persona["total"]
    print(
        f"app: monilab serve, {args.app_workers} workers, SQLite, password hash "
        f"{args.password_hash}; locust: {args.users} users"
    )
    print(
        f"(a) trivial /healthz           : {trivial['rps']:8.1f} req/s  p95 {trivial['p95_ms']} ms"
    )
    print(
        f"(a) persona traffic (mixed)    : {total['rps']:8.1f} req/s  p95 {total['p95_ms']} ms"
        f"  failures {total['failures']}  ratio to trivial {total['rps'] / trivial['rps']:.2f}"
    )
    rec = persona.get("reconciliation", {})
    print(
        f"    reconciliation             : acknowledged {rec.get('acknowledged')} "
        f"missing {rec.get('missing')} duplicated {rec.get('duplicated')} "
        f"unexpected {rec.get('unexpected')}"
    )
    replay_rps = replay["total"]["rps"]
    cost = 1 - replay_rps / bare["rps"]
    print(f"(b) bare GET /api/v1/type      : {bare['rps']:8.1f} req/s  p95 {bare['p95_ms']} ms")
    print(
        f"(b) persona replay, same route : {replay_rps:8.1f} req/s  p95 "
        f"{replay['total']['p95_ms']} ms  replay cost {cost:.1%} (target <= 15%)"
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
