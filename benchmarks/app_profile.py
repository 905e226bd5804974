"""App CPU per request, per endpoint, for the persona mix (in-process, no network).

Builds a load plan from the population (same generator as ``monilab load``), then replays
whole agents through :class:`sim.targets.session.TargetSession` on the bundled Moni target
(the exact requests the Locust users send) against ``create_app`` via Flask's test client,
with the request log on. Every request's **process CPU time** is measured (not wall time, so
the numbers hold on a shared machine) and grouped by Locust's endpoint name. The agents' own
bookkeeping runs outside the measured window; Werkzeug's test client is inside it (its share
is the ``floor`` row: a bare Flask app answering a tiny JSON through the same client).

Prints: per endpoint count, share of the mix, CPU ms/request, wall ms/request; the mix's
weighted CPU ms/request and what that allows on this machine's cores. ``--json`` saves the
numbers, ``--compare`` prints them next to a saved run (before/after). ``--cprofile`` runs
the measured requests under cProfile (optionally only one endpoint) and prints hot spots.

Examples::

    .venv/bin/python benchmarks/app_profile.py --json /tmp/after.json --compare /tmp/before.json
    .venv/bin/python benchmarks/app_profile.py --cprofile "GET /api/v1/analysis"
    .venv/bin/python benchmarks/app_profile.py --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from sim import targets
from sim.plan.build import build_plan
from sim.reconcile.ledger import Ledger
from target_app import create_app

FLOOR = "floor: bare Flask + test client"


class Answer:
    """The Locust-like response object a target session reads."""

    def __init__(self, status: int, data: bytes, headers: Any = None) -> None:
        self.status_code = status
        self._data = data
        self.headers = headers or {}
        self.text = data.decode("utf-8", "replace")
        self.failed: str | None = None

    def json(self) -> Any:
        return json.loads(self._data)

    def success(self) -> None:
        self.failed = None

    def failure(self, message: str) -> None:
        self.failed = message


class MeasuringClient:
    """A Locust-shaped client over Flask's test client that times every request."""

    def __init__(self, app: Flask, profile_name: str | None, profiler: cProfile.Profile) -> None:
        self.client = app.test_client()
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.wall: dict[str, list[float]] = defaultdict(list)
        self.failures: dict[str, int] = defaultdict(int)
        self.measuring = False
        self.profile_name = profile_name
        self.profiler = profiler

    @contextmanager
    def request(
        self,
        method: str,
        path: str,
        *,
        name: str,
        headers: dict,
        catch_response: bool,
        json: Any = None,
        data: Any = None,
    ) -> Iterator[Answer]:
        key = f"{method} {name}"
        profiling = self.measuring and self.profile_name in (key, "all")
        if profiling:
            self.profiler.enable()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        response = self.client.open(path, method=method, headers=headers, json=json, data=data)
        body = response.get_data()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        if profiling:
            self.profiler.disable()
        answer = Answer(response.status_code, body, response.headers)
        yield answer
        if self.measuring:
            self.cpu[key].append(cpu * 1000)
            self.wall[key].append(wall * 1000)
            if answer.failed:
                self.failures[key] += 1


def floor_ms(requests: int) -> float:
    """CPU ms/request of a bare Flask app answering a small JSON through the test client."""
    bare = Flask("floor")

    @bare.get("/ping")
    def ping() -> dict[str, str]:
        return {"status": "ok"}

    client = bare.test_client()
    for _ in range(200):
        client.get("/ping")
    started = time.process_time()
    for _ in range(requests):
        client.get("/ping").get_data()
    return (time.process_time() - started) / requests * 1000


def replay(api_client: MeasuringClient, plans: list, run_id: str) -> None:
    """Replay every action of every plan, agent by agent."""
    ledger = Ledger()
    session = targets.session_factory(targets.load(None))
    for plan in plans:
        signup = next((a.payload for a in plan.actions if a.kind == "signup"), {})
        api = session(api_client, run_id, plan, ledger, sleep=lambda _s: None, profile=signup)
        api.start_session()
        for action in plan.actions:
            api.perform(action)
        ledger.drain()


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the warm-up and the measured replay; return the numbers."""
    plans, _ = build_plan(
        agents=args.warmup_agents + args.agents, seed=args.seed, days=args.days, start=args.start
    )
    with tempfile.TemporaryDirectory(prefix="moni-profile-") as tmp:
        config = {
            "SECRET_KEY": "profile",
            "MONILAB_DATA_DIR": tmp,
            "REQUEST_LOG_DIR": str(Path(tmp) / "request-log"),
            "PASSWORD_HASH_METHOD": args.password_hash,
            **({"DATABASE_URL": args.database_url} if args.database_url else {}),
        }
        app = create_app(config)
        profiler = cProfile.Profile()
        client = MeasuringClient(app, args.cprofile, profiler)
        run_id = f"profile-{time.time_ns()}"
        replay(client, plans[: args.warmup_agents], run_id)
        client.measuring = True
        replay(client, plans[args.warmup_agents :], run_id)
        log_lines = sum(
            1 for path in (Path(tmp) / "request-log").glob("*.jsonl") for _ in path.open()
        )
        app.extensions["monilab"].db.dispose()
    total = sum(len(v) for v in client.cpu.values())
    endpoints = {
        key: {
            "count": len(values),
            "share": len(values) / total,
            "cpu_ms": statistics.fmean(values),
            "wall_ms": statistics.fmean(client.wall[key]),
            "failures": client.failures.get(key, 0),
        }
        for key, values in sorted(client.cpu.items(), key=lambda kv: -len(kv[1]))
    }
    result = {
        "database": "PostgreSQL" if args.database_url else "SQLite",
        "password_hash": args.password_hash,
        "requests": total,
        "log_lines": log_lines,
        "weighted_cpu_ms": sum(e["cpu_ms"] * e["count"] for e in endpoints.values()) / total,
        "floor_ms": floor_ms(2000),
        "endpoints": endpoints,
    }
    if args.cprofile:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        result["cprofile"] = out.getvalue()
    return result


def report(result: dict[str, Any], before: dict[str, Any] | None) -> None:
    """Print the table (with the saved run's numbers when comparing)."""
    cores = os.cpu_count() or 1
    print(
        f"{result['database']}, password hash {result['password_hash']}, "
        f"{result['requests']} measured requests, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    old = (before or {}).get("endpoints", {})
    head = f"{'endpoint':<42}{'count':>6}{'share':>7}{'cpu ms':>8}{'wall ms':>8}{'fail':>5}"
    print(head + (f"{'before':>8}{'ratio':>7}" if before else ""))
    for key, e in result["endpoints"].items():
        line = (
            f"{key:<42}{e['count']:>6}{e['share']:>7.1%}{e['cpu_ms']:>8.2f}"
            f"{e['wall_ms']:>8.2f}{e['failures']:>5}"
        )
        if key in old:
            line += f"{old[key]['cpu_ms']:>8.2f}{old[key]['cpu_ms'] / e['cpu_ms']:>6.1f}x"
        print(line)
    weighted = result["weighted_cpu_ms"]
    line = f"{'weighted by the persona mix':<55}{weighted:>8.2f}"
    if before:
        old_ms = before["weighted_cpu_ms"]
        line += f"{'':>13}{old_ms:>8.2f}{old_ms / weighted:>6.1f}x"
    print(line)
    print(f"{FLOOR:<55}{result['floor_ms']:>8.2f}")
    print(
        f"=> app CPU alone allows {cores * 1000 / weighted:.0f} req/s on {cores} cores "
        f"({1000 / weighted:.0f} per core), before server and load-generator costs"
    )
    print(f"request log lines: {result['log_lines']} (warm-up + measured requests)")
    if "cprofile" in result:
        print(result["cprofile"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=16, help="agents replayed and measured")
    parser.add_argument("--warmup-agents", type=int, default=4)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", default="2024-03-01")
    parser.add_argument("--password-hash", default="pbkdf2:sha256:10000")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument("--json", type=Path, help="save the numbers here")
    parser.add_argument("--compare", type=Path, help="a saved run to compare with")
    parser.add_argument(
        "--cprofile", metavar="ENDPOINT", help='profile one endpoint ("GET /api/v1/type") or "all"'
    )
    parser.add_argument("--top", type=int, default=25, help="functions shown by --cprofile")
    args = parser.parse_args()
    result = measure(args)
    before = json.loads(args.compare.read_text()) if args.compare else None
    report(result, before)
    if args.json:
        saved = {k: v for k, v in result.items() if k != "cprofile"}
        args.json.write_text(json.dumps(saved, indent=1) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
