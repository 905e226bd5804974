"""Training benchmark: wall time and peak RSS of ``monilab train``, and anomaly scoring speed.

Generates a dataset (unless ``--data`` is given), runs ``monilab train`` in a child
process measured with ``resource.getrusage`` (peak RSS of the children), then times
:class:`analysis.anomaly.AnomalyScorer` scoring on the dataset's transactions.

The default (100,000 users × 365 days) needs a large machine and an hour or more; use
``--users 10000`` or less on a laptop. Prints one JSON object.

Usage: python benchmarks/train.py [--users 100000] [--days 365] [--seed 1] [--workers 2]
       [--data DIR] [--trees 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generate(out: Path, users: int, days: int, seed: int, workers: int) -> float:
    """Generate the dataset; returns the wall time in seconds."""
    from sim.agents.generate import generate_dataset

    began = time.perf_counter()
    generate_dataset(
        out, users=users, days=days, start="2024-01-01", seed=seed, workers=workers, progress=False
    )
    return time.perf_counter() - began


def train(data: Path, models: Path, trees: int) -> dict:
    """Run ``monilab train`` in a child process; wall time and the child's peak RSS."""
    began = time.perf_counter()
    cmd = [sys.executable, "-m", "monilab", "train", "--data", str(data), "--out", str(models)]
    subprocess.run([*cmd, "--trees", str(trees)], check=True, capture_output=True)
    wall = time.perf_counter() - began
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"train_seconds": round(wall, 1), "train_peak_rss_mib": round(peak_kib / 1024, 1)}


def anomaly_speed(data: Path, models: Path) -> dict:
    """Rows per second of feature building plus scoring with the trained scorer."""
    import joblib

    from analysis.anomaly import score_transactions
    from monilab.schema import read_dataset

    tx = read_dataset(data).frame("transactions")
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
        result.update(train(data, models, args.trees))
        result.update(anomaly_speed(data, models))
        metrics = json.loads((models / "metrics.json").read_text())
        result["transactions"] = metrics["transactions"]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
