"""``monilab browse``: agents' journeys through the app's HTML pages in real Chromium."""

from __future__ import annotations

import argparse
from pathlib import Path

from monilab.cli.args import check_host


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``monilab browse``."""
    parser = subparsers.add_parser(
        "browse",
        help="replay agents' journeys through the HTML pages in Chromium (Playwright)",
        description=(
            "Run agents' journeys (sign-up, mydata, spendings through the form, history, "
            "analysis, type, goal, notifications, logout) in one headless Chromium, one "
            "browser context per agent. Writes browser_summary.json (journeys, failures with "
            "screenshots, page timing percentiles, journeys per minute, peak memory) and the "
            "page timings as an events dataset in OUT/events."
        ),
    )
    parser.add_argument(
        "--host", required=True, help="base URL of the app, e.g. http://127.0.0.1:8000"
    )
    parser.add_argument("--agents", type=int, default=4, help="journeys to run (default 4)")
    parser.add_argument("--concurrency", type=int, default=2, help="journeys at once (default 2)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--plan", type=Path, help="a plan file (default: ask the population)")
    source.add_argument("--personas", type=Path, help="persona file (default: bundled)")
    parser.add_argument("--seed", type=int, default=7, help="population seed (default 7)")
    parser.add_argument("--days", type=int, default=14, help="simulated days of decisions")
    parser.add_argument("--start", default="2024-03-01", help="first simulated day")
    parser.add_argument("--run-id", help="X-Run-Id of the run (default: derived from time)")
    parser.add_argument(
        "--max-spendings", type=int, default=3, help="planned spendings entered per journey"
    )
    parser.add_argument(
        "--timeout-s", type=float, default=15.0, help="limit of each browser action (s)"
    )
    parser.add_argument("--chromium", type=Path, help="Chromium executable (default: Debian's)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``monilab browse``; exit status 1 when a journey failed."""
    from sim.browser.runner import CHROMIUM, SUMMARY_NAME, BrowseOptions, run_browse

    options = BrowseOptions(
        host=check_host(args.host),
        out=args.out,
        agents=args.agents,
        concurrency=args.concurrency,
        plan=args.plan,
        personas=args.personas,
        seed=args.seed,
        days=args.days,
        start=args.start,
        run_id=args.run_id,
        max_spendings=args.max_spendings,
        timeout_s=args.timeout_s,
        chromium=args.chromium or CHROMIUM,
    )
    summary = run_browse(options)
    journeys = summary["journeys"]
    load = [page["load_ms"]["p95"] for page in summary["pages"].values() if page["load_ms"]["p95"]]
    print(
        f"monilab browse: {journeys['ok']}/{journeys['total']} journeys ok, "
        f"{summary['journeys_per_minute']} journeys/min, worst page p95 load "
        f"{max(load, default=None)} ms, peak memory {summary['peak_memory']['total_mib']} MiB "
        f"-> {args.out / SUMMARY_NAME}"
    )
    return 0 if journeys["failed"] == 0 else 1
