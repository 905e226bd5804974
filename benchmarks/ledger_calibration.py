"""Calibrate the personas to the real household ledger (one user), checked on held-out months.

The ledger (``../shared/reference/household_ledger``, one person in India, 2015-2018, INR)
is mapped by ``calibration/mappings/household_ledger.toml``. With one user the reference is
split by time: blocks of three calendar months, 30 % of the blocks held out (interleaved, so
seasons are on both sides). The objective compares the fit months with the simulated
population: amount shape (amounts divided by their median, since INR -> KRW is an assumed
factor), hour (rows with a known time only), weekday, day of month, category, method, and the
per-user-month spend, ticket and transaction count. The final parameters and the defaults are
scored on the held-out months with three fresh seeds, next to the reference's own noise floor
(fit months against held-out months).

Prints one JSON line (losses before/after on held-out and fit months, floor, C2ST AUCs,
flags, parameters, wall time, load average). Exits with a message when the shared reference
data is absent.

Usage: python benchmarks/ledger_calibration.py [--calls 120] [--jobs 2] [--users 300]
       [--days 90] [--space grouped|full] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import optuna

from calibration.adapters import load_reference
from calibration.loop import calibrate
from calibration.objectives.reference import ReferenceObjective
from calibration.paths import reference_dir
from calibration.simulator import Simulator
from monilab.lab.report.calibration import write_report
from sim.agents.personas import default_personas


def main() -> None:
    """Calibrate to the ledger and print the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=120)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--space", choices=("grouped", "full"), default="grouped")
    parser.add_argument("--sigma0", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="keep checkpoint and report.html here")
    args = parser.parse_args()
    if not (reference_dir() / "household_ledger").is_dir():
        sys.exit(f"no household ledger under {reference_dir()} (set MONILAB_REFERENCE_DIR)")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    reference = load_reference("household_ledger")
    simulator = Simulator(default_personas(), users=args.users, days=args.days)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or tmp
        result = calibrate(
            simulator,
            ReferenceObjective(reference),
            out_dir=out,
            budget=args.calls,
            jobs=args.jobs,
            space=args.space,
            sigma0=args.sigma0,
            seed=args.seed,
            progress=True,
        )
        if args.out:
            write_report(result, os.path.join(out, "report.html"))
    parts = {name: part.to_dict() for name, part in result.parts.items()}
    keys = ("loss_default", "loss_final", "noise_floor", "floor_kind", "c2st_auc")
    summary = {
        "reference": "household_ledger (one user, split by 3-month blocks)",
        "split": result.split,
        "simulator": {"users": args.users, "days": args.days},
        "space": args.space,
        "calls": {"search": len(result.trials), "held_out": result.held_out_calls},
        "fit_seed_loss": result.to_dict()["fit_seed_loss"],
        "held_out_months": {k: parts["held_out"][k] for k in keys},
        "held_out_improved": parts["held_out"]["loss_final"] < parts["held_out"]["loss_default"],
        "held_out_improvement_per_seed": [
            round(d - f, 4)
            for d, f in zip(
                parts["held_out"]["losses_default"], parts["held_out"]["losses_final"], strict=True
            )
        ],
        "fit_months": {k: parts["fit"][k] for k in keys},
        "worse_beyond_floor": parts["held_out"]["worse_beyond_floor"],
        "search": {k: round(v, 4) for k, v in result.params.items()},
        "wall_s": round(result.wall_seconds, 1),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(summary, default=float))


if __name__ == "__main__":
    main()
