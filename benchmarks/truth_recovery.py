"""Truth recovery: calibrate against a reference the simulator made from hidden parameters.

The reference is a simulation (``--ref-users`` users, its own seed) of the default personas
with a documented subset of parameters perturbed (:data:`TRUTH`: shifts of whole groups of
free parameters, see :class:`calibration.space.GroupedSpace`). The loop is not told the
truth: it starts from the defaults, splits the reference by user (70 % fit, 30 % held out),
searches on the fit users and is scored on the held-out users with three fresh seeds.
The search space is one shift per persona field (:data:`BASE_GROUPS` of
:func:`calibration.space.persona_field_groups`: seven groups, three of them not perturbed).
``--params PATTERN`` (repeatable) chooses other groups: adding the five shared coffee
ticket-by-hour bands (12 dimensions instead of 7) closed 83.8 % of the held-out gap in 200
calls instead of 89.5 %.

Prints one JSON line: the fraction of the closable gap closed on held-out users (target
>= 0.90), the C2ST AUCs on held-out users before and after (target <= 0.60, ambition 0.55),
losses and noise floors, the recovered parameters against the truth, calls, wall time and
the load average.

Usage: python benchmarks/truth_recovery.py [--calls 200] [--jobs 2] [--space grouped|full]
       [--params PATTERN ...]
       [--ref-users 2000] [--users 1000] [--days 60] [--sigma0 0.1] [--sampler cmaes]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile

import optuna

from calibration.loop import calibrate
from calibration.objectives.reference import ReferenceObjective
from calibration.simulator import Simulator
from calibration.space import GroupedSpace, persona_field_groups
from sim.agents.personas import default_personas

TRUTH: dict[str, float] = {
    "*.spending.txn_per_day": 0.10,  # every persona x1.39 transactions per day
    "*.categories.food.median": -0.12,  # food tickets x0.73
    "*.categories.coffee.median": 0.20,  # coffee tickets x1.50
    "*.categories.coffee.sigma": 0.20,  # coffee ticket spread +0.22 (log scale)
}
"""The hidden perturbation: unit-cube shifts of four groups; the other three groups
(budget share, discipline, payday impulse) stay at the persona file's values."""
REFERENCE_SEED = 20_240_917
BASE_GROUPS = (
    "*.spending.txn_per_day",
    "*.spending.budget_share",
    "*.spending.discipline",
    "*.spending.payday_impulse",
    "*.categories.food.median",
    "*.categories.coffee.median",
    "*.categories.coffee.sigma",
)
"""The default search space: the seven persona-field groups the benchmark was built on (the
realism groups, e.g. ``*.spending.day_shape``, are added with ``--params``)."""


def recovery_table(space: GroupedSpace, found: dict[str, float]) -> dict[str, dict]:
    """Per group: true shift, recovered shift, and both as a factor (log) or offset."""
    table = {}
    for group in space.groups:
        if group.name not in found:  # not searched
            continue
        member = group.members[0]
        truth = TRUTH.get(group.name, 0.0)
        got = found[group.name]
        if member.log:
            span = member.high / member.low
            effect = {"true_factor": span**truth, "found_factor": span**got}
        else:
            span = member.high - member.low
            effect = {"true_offset": span * truth, "found_offset": span * got}
        table[group.name] = {"true_shift": truth, "found_shift": round(got, 4)} | {
            k: round(v, 4) for k, v in effect.items()
        }
    return table


def main() -> None:
    """Build the hidden-truth reference, calibrate, print the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--space", choices=("grouped", "full"), default="grouped")
    parser.add_argument("--sampler", default="cmaes")
    parser.add_argument("--sigma0", type=float, default=0.1)
    parser.add_argument("--ref-users", type=int, default=2000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--params", action="append", help="group pattern (default: persona fields)")
    parser.add_argument("--out", help="keep the checkpoint here (default: a temporary dir)")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    personas = default_personas()
    grouped = GroupedSpace.from_personas(personas)
    params = args.params or [g for g in persona_field_groups(personas) if g in BASE_GROUPS]
    truth_values = grouped.expand(grouped.defaults() | TRUTH)
    reference, _ = Simulator(personas, users=args.ref_users, days=args.days)(
        truth_values, seed=REFERENCE_SEED
    )
    simulator = Simulator(personas, users=args.users, days=args.days)
    with tempfile.TemporaryDirectory() as tmp:
        result = calibrate(
            simulator,
            ReferenceObjective(reference),
            out_dir=args.out or tmp,
            budget=args.calls,
            jobs=args.jobs,
            sampler=args.sampler,
            space=args.space,
            params=params,
            sigma0=args.sigma0,
            seed=args.seed,
            progress=True,
        )
    held = result.parts["held_out"].to_dict()
    summary = {
        "space": args.space,
        "params": params,
        "sampler": args.sampler,
        "sigma0": args.sigma0,
        "reference": {"users": args.ref_users, "days": args.days, "rows": len(reference)},
        "simulator": {"users": args.users, "days": args.days},
        "split": result.split,
        "calls": {"search": len(result.trials), "held_out": result.held_out_calls},
        "wall_s": round(result.wall_seconds, 1),
        "held_out": {
            k: held[k]
            for k in (
                "loss_default",
                "loss_final",
                "noise_floor",
                "floor_kind",
                "worse_beyond_floor",
            )
        },
        "fraction_of_closable_gap_closed_held_out": held["fraction_of_closable_gap_closed"],
        "c2st_auc_held_out": held["c2st_auc"],
        "fit_part_gap_closed": result.parts["fit"].to_dict()["fraction_of_closable_gap_closed"],
        "load_average": os.getloadavg(),
    }
    if args.space == "grouped":
        summary["recovered"] = recovery_table(grouped, result.params)
    else:
        errors = {
            name: abs(result.values[name] - truth_values[name]) / max(abs(truth_values[name]), 1e-9)
            for name in truth_values
        }
        summary["recovered"] = {
            "median_relative_error": sorted(errors.values())[len(errors) // 2],
            "default_median_relative_error": sorted(
                abs(result.default_values[n] - truth_values[n]) / max(abs(truth_values[n]), 1e-9)
                for n in truth_values
            )[len(truth_values) // 2],
        }
    print(json.dumps(summary, default=float))


if __name__ == "__main__":
    main()
