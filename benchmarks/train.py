"""Training benchmark: wall time and peak RSS of ``monilab train``, and anomaly scoring speed.

Generates a dataset (unless ``--data`` is given), runs ``monilab train`` in a child
process while sampling the resident memory of its whole process tree (the child and its
worker processes, summed, every 0.25 s), with the tree's CPU seconds, then times feature
building plus :class:`analysis.anomaly.AnomalyScorer` scoring of one part of the dataset
(5,000 users) in this process: anomaly scoring rows/s on one core.

Prints one JSON object. Usage: python benchmarks/train.py [--users 100000] [--days 365]
[--seed 1] [--workers 2] [--data DIR] [--trees 200] [--keep DIR] [-- extra train options]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil


def generate(out: Path, users: int, days: int, seed: int, workers: int) -> float:
    """Generate the dataset; returns the wall time in seconds."""
    from sim.agents.generate import generate_dataset

    began = time.perf_counter()
    generate_dataset(
        out, users=users, days=days, start="2024-01-01", seed=seed, workers=workers, progress=False
    )
    return time.perf_counter() - began


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants."""
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def train(data: Path, models: Path, trees: int, extra: list[str]) -> dict:
    """Run ``monilab train`` in a child process; wall time and the tree's peak RSS."""
    cmd = [sys.executable, "-m", "monilab", "train", "--data", str(data), "--out", str(models)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    child = subprocess.Popen([*cmd, "--trees", str(trees), *extra], stdout=subprocess.PIPE)
    peak, peak_at = 0, 0.0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak, peak_at
        process = psutil.Process(child.pid)
        while not done.is_set():
            try:
                rss = tree_rss(process)
            except psutil.Error:
                return
            if rss > peak:
                peak, peak_at = rss, time.perf_counter() - began
            time.sleep(0.25)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    output, _ = child.communicate()
    wall = time.perf_counter() - began
    done.set()
    watcher.join()
    if child.returncode != 0:
        raise SystemExit(f"monilab train failed with exit status {child.returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "train_seconds": round(wall, 1),
        "train_cpu_seconds": round(cpu, 1),
        "train_peak_rss_tree_mib": round(peak / 2**20, 1),
        # seconds after the start: match it against the stage times train logs on stderr
        "train_peak_at_seconds": round(peak_at, 1),
        "train_output": output.decode(errors="replace").strip().splitlines(),
    }


def anomaly_speed(data: Path, models: Path) -> dict:
    """Rows per second of feature building plus scoring of the first part, one process."""
    import joblib

    from analysis.anomaly import score_transactions
    from analysis.shards import read_part
    from monilab.contracts.datasets import read_dataset

    tx = read_part(read_dataset(data).parts("transactions")[0])
    scorer = joblib.load(models / "anomaly.joblib")
    began = time.perf_counter()
    scored = score_transactions(tx, scorer)
    seconds = time.perf_counter() - began
    return {
        "scored_rows": len(scored),
        "scoring_seconds": round(seconds, 2),
        "scoring_rows_per_second": round(len(scored) / seconds),
    }


def main() -> None:
    """Parse arguments, run the benchmark and print the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--data", type=Path, default=None, help="use this dataset instead")
    parser.add_argument("--keep", type=Path, default=None, help="write models here and keep them")
    parser.add_argument("extra", nargs="*", help="more monilab train options (after --)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result: dict = {"users": args.users, "days": args.days, "trees": args.trees}
        data = args.data
        if data is None:
            data = Path(tmp) / "data"
            result["generate_seconds"] = round(
                generate(data, args.users, args.days, args.seed, args.workers), 1
            )
        else:
            result.update(users=None, days=None, data=str(data))
        models = args.keep or Path(tmp) / "models"
        result["load_average_before"] = os.getloadavg()
        result.update(train(data, models, args.trees, args.extra))
        result["load_average_after"] = os.getloadavg()
        result.update(anomaly_speed(data, models))
        metrics = json.loads((models / "metrics.json").read_text())
        result["transactions"] = metrics["transactions"]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
