"""Calibration benchmark: one simulator call, and a short calibration run.

Prints (a) the wall time of one simulator call (default 5,000 users × 90 days; the issue's
target is <= 2 s) split into simulation and target-discrepancy scoring, and (b) a short
calibration against the bundled Seoul coffee targets (default 40 calls, 2 jobs, CMA-ES):
wall time, held-out losses, noise floor and the fraction of the closable gap closed.

Usage: python benchmarks/calibrate.py [--users 5000] [--days 90] [--run-users 2000]
       [--calls 40] [--jobs 2] [--sampler cmaes] [--params PATTERN ...]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import optuna

from calibration.loop import calibrate
from calibration.metrics import target_discrepancy
from calibration.simulator import Simulator
from calibration.targets import default_targets
from sim.agents.personas import default_personas


def one_call(users: int, days: int) -> dict[str, float]:
    """Time one simulator call and its scoring (after a small warm-up call)."""
    targets = default_targets()
    Simulator(default_personas(), users=50, days=7)({}, seed=0)
    simulator = Simulator(default_personas(), users=users, days=days)
    started = time.perf_counter()
    transactions, users_frame = simulator({"*.categories.coffee.median": 7000.0}, seed=1)
    simulated = time.perf_counter()
    loss = target_discrepancy(targets, transactions, users_frame).attrs["loss"]
    scored = time.perf_counter()
    return {
        "users": users,
        "days": days,
        "rows": len(transactions),
        "simulate_s": round(simulated - started, 2),
        "score_s": round(scored - simulated, 2),
        "loss": round(loss, 4),
    }


def short_run(args: argparse.Namespace) -> dict[str, object]:
    """A short calibration against the bundled targets; returns its summary."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    simulator = Simulator(default_personas(), users=args.run_users, days=args.days)
    with tempfile.TemporaryDirectory() as out:
        result = calibrate(
            simulator,
            default_targets(),
            out_dir=out,
            budget=args.calls,
            jobs=args.jobs,
            sampler=args.sampler,
            params=args.params,
            seed=0,
            progress=True,
        )
    fit = result.held_out["fit"].to_dict()
    return {
        "users": args.run_users,
        "days": args.days,
        "calls": len(result.trials),
        "jobs": args.jobs,
        "sampler": args.sampler,
        "wall_s": round(result.wall_seconds, 1),
        "fit_seed_loss": result.to_dict()["fit_seed_loss"],
        "held_out": {k: fit[k] for k in ("loss_default", "loss_final", "noise_floor")},
        "fraction_of_closable_gap_closed": fit["fraction_of_closable_gap_closed"],
    }


def main() -> None:
    """Parse arguments, run both benchmarks, print JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--run-users", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sampler", default="cmaes")
    parser.add_argument("--params", action="append")
    parser.add_argument("--skip-run", action="store_true")
    args = parser.parse_args()
    print(json.dumps({"one_call": one_call(args.users, args.days)}))
    if not args.skip_run:
        print(json.dumps({"short_run": short_run(args)}))


if __name__ == "__main__":
    main()
