"""``monilab run``: the whole lab on one configuration, ending in an HTML report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

DEMO_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "demo.toml"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``monilab run``."""
    parser = subparsers.add_parser(
        "run",
        help="run the whole lab: population, app, load, browsers, models, calibration, report",
        description=(
            "Generate a population, serve the app on SQLite, drive it with persona-shaped "
            "Locust load and Chromium journeys, export and reconcile what it stored, train "
            "the models, calibrate the personas against the bundled targets, and write an "
            "HTML report (OUT/index.html). Every flag is a key of the config file; "
            "--set section.key=value sets any other key."
        ),
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"run configuration TOML (default: {DEMO_CONFIG.relative_to(DEMO_CONFIG.parents[1])})",
    )
    parser.add_argument(
        "--out", type=Path, help="output directory (run.out; default out/run-<time>)"
    )
    parser.add_argument("--quick", action="store_true", help="apply the config's [quick] sizes")
    parser.add_argument("--seed", type=int, help="root seed of the run (run.seed)")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="STAGE",
        help="skip a stage (run.skip; repeatable)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a config key, e.g. --set load.users=20 (repeatable)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="write into a non-empty --out directory"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``monilab run``."""
    import json

    from monilab.contracts.errors import MonilabError
    from monilab.lab.run import LabRun
    from monilab.lab.runconfig import load_run_config

    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"run.seed={args.seed}")
    if args.out is not None:
        overrides.append(f"run.out={json.dumps(str(args.out))}")
    config_path = args.config or DEMO_CONFIG
    config = load_run_config(config_path, quick=args.quick, overrides=overrides)
    if args.skip:  # --skip adds to the config's run.skip
        skip = json.dumps(sorted(set(config.run.skip) | set(args.skip)))
        config = load_run_config(
            config_path, quick=args.quick, overrides=[*overrides, f"run.skip={skip}"]
        )
    out = Path(config.run.out or time.strftime("out/run-%Y%m%d-%H%M%S"))
    if out.exists() and not out.is_dir():
        raise MonilabError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not args.overwrite:
        raise MonilabError(f"--out {out} is not empty; use --overwrite or another --out")
    lab = LabRun(config, out)
    if args.overwrite:
        lab.paths.clear()
    status = lab.run()
    print(f"monilab run: {lab.status}; report: {lab.paths.index}")
    return status
