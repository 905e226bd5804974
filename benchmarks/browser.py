"""Browser benchmark: Playwright journeys per minute and peak memory (127.0.0.1 only).

Starts ``monilab serve`` (SQLite, gunicorn) in a temporary directory, runs ``--agents``
full journeys (sign-up → mydata → spendings → history → analysis → type → goal →
notifications → logout) in one headless Chromium at ``--concurrency`` contexts at a time,
and prints journeys per minute (browser start-up excluded), journey time, the slowest
pages' p95 load time and peak memory of the browser (RSS and PSS sums over Chromium's
processes), the Playwright driver and this Python process.

Usage: python benchmarks/browser.py [--agents 12] [--concurrency 4] [--app-workers 2]
       [--max-spendings 3] [--population]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

from monilab.lab.appprocess import AppProcess
from sim.browser import BrowseOptions, demo_plans, run_browse


def main() -> None:
    """Run one browser session and print its numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=12)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--app-workers", type=int, default=2)
    parser.add_argument("--max-spendings", type=int, default=3)
    parser.add_argument(
        "--population", action="store_true", help="agents from sim.agents (default: demo plans)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with (
        tempfile.TemporaryDirectory() as tmp,
        AppProcess(Path(tmp) / "app", workers=args.app_workers) as app,
    ):
        options = BrowseOptions(
            host=app.url,
            out=Path(tmp) / "out",
            agents=args.agents,
            concurrency=args.concurrency,
            max_spendings=args.max_spendings,
            timeout_s=30.0,
            run_id="bench-browser",
        )
        plans = None if args.population else demo_plans(args.agents, spendings=args.max_spendings)
        summary = run_browse(options, plans=plans)
    journeys, memory = summary["journeys"], summary["peak_memory"]
    slowest = sorted(
        ((page["load_ms"]["p95"] or 0.0, name) for name, page in summary["pages"].items()),
        reverse=True,
    )[:3]
    print(
        f"journeys: {journeys['ok']}/{journeys['total']} ok at concurrency {args.concurrency} "
        f"({summary['page_loads']} page loads, app workers {args.app_workers})"
    )
    print(
        f"journeys/min: {summary['journeys_per_minute']} over {summary['journeys_time_s']} s "
        f"(wall {summary['wall_time_s']} s with browser start); journey p50 "
        f"{summary['journey_seconds']['p50']} s, p95 {summary['journey_seconds']['p95']} s"
    )
    print("slowest pages, p95 load ms: " + ", ".join(f"{n} {v}" for v, n in slowest))
    print(
        f"peak memory MiB: browser RSS-sum {memory['browser_mib']} (PSS-sum "
        f"{memory['browser_pss_mib']}), driver {memory['driver_mib']}, python "
        f"{memory['python_mib']}, total {memory['total_mib']} ({memory['samples']} samples)"
    )


if __name__ == "__main__":
    main()
