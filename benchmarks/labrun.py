"""Lab run benchmark: wall time of ``monilab run`` (full and ``--quick``) against its targets.

Runs the real command in a temporary directory (or ``--out``), then prints each stage's
seconds, the total, and its ratio to the target (10 minutes for the full run on the
default configs/demo.toml, 2 minutes for ``--quick``), with the load average, since the
machine's other work changes the numbers.

Usage: python benchmarks/labrun.py [--quick] [--full] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS_S = {"quick": 120.0, "full": 600.0}


def run_once(kind: str, out: Path) -> dict:
    """Run ``monilab run`` once and return its run.json (plus the measured wall time)."""
    cmd = [sys.executable, "-m", "monilab", "run", "--out", str(out), "--overwrite"]
    if kind == "quick":
        cmd.append("--quick")
    started = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"monilab run ({kind}) exited with {done.returncode}: {done.stderr[-800:]}")
    state = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return state | {"wall_s": wall}


def main() -> None:
    """Run the requested lab runs and print their numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="measure monilab run --quick")
    parser.add_argument("--full", action="store_true", help="measure the full monilab run")
    parser.add_argument("--out", type=Path, help="keep the runs here (default: a temp dir)")
    args = parser.parse_args()
    kinds = [k for k in ("quick", "full") if getattr(args, k)] or ["quick", "full"]
    with tempfile.TemporaryDirectory() as tmp:
        base = args.out or Path(tmp)
        for kind in kinds:
            before = os.getloadavg()[0]
            state = run_once(kind, base / kind)
            after = os.getloadavg()[0]
            stages = ", ".join(
                f"{s['name']} {s['seconds']:.0f}s" for s in state["stages"] if s["seconds"]
            )
            target = TARGETS_S[kind]
            print(
                f"monilab run {'--quick' if kind == 'quick' else '(full)'}: "
                f"{state['wall_s']:.0f} s wall (target {target:.0f} s, ratio "
                f"{state['wall_s'] / target:.2f}); load average {before:.1f} -> {after:.1f}"
            )
            print(f"  stages: {stages}")


if __name__ == "__main__":
    main()
