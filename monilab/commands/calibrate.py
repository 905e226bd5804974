"""``monilab calibrate``: fit a persona file's free parameters to reference targets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` subcommand."""
    parser = subparsers.add_parser(
        "calibrate",
        help="calibrate a persona file's free parameters to aggregate targets",
        description=(
            "Search the free parameters of a persona file so that the simulated population "
            "matches aggregate targets; write the calibrated persona file, calibration.json "
            "and report.html to --out. The input persona file is left untouched."
        ),
    )
    parser.add_argument("--personas", type=Path, required=True, help="persona TOML file")
    parser.add_argument("--targets", type=Path, help="aggregate targets CSV (fit part)")
    parser.add_argument("--reference", type=Path, help="microdata reference (not yet supported)")
    parser.add_argument("--mapping", type=Path, help="microdata mapping TOML")
    parser.add_argument("--validate", type=Path, help="held-out aggregate targets CSV")
    parser.add_argument("--budget", type=int, required=True, help="simulator calls of the search")
    parser.add_argument("--jobs", type=int, default=1, help="parallel simulator calls")
    parser.add_argument(
        "--sampler", choices=("cmaes", "tpe", "nelder-mead"), default="cmaes", help="method"
    )
    parser.add_argument("--params", action="append", help="only free parameters matching (glob)")
    parser.add_argument("--users", type=int, default=2000, help="users per simulator call")
    parser.add_argument("--days", type=int, default=90, help="days per simulator call")
    parser.add_argument("--start", default="2024-01-01", help="first simulated day")
    parser.add_argument("--seed", type=int, default=0, help="root seed")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the calibration and write its three outputs."""
    import optuna

    from calibration.calibrate_report import write_report
    from calibration.loop import calibrate
    from calibration.simulator import Simulator
    from calibration.targets import load_targets
    from monilab.errors import MonilabError
    from sim.agents.personas import load_personas
    from sim.agents.population import parse_start

    if args.reference is not None or args.mapping is not None:
        raise MonilabError(
            "microdata references (--reference/--mapping) are not yet supported; "
            "use --targets with aggregate targets"
        )
    if args.targets is None:
        raise MonilabError("give --targets FILE")
    for name in ("budget", "users", "days", "jobs"):
        if getattr(args, name) < 1:
            raise MonilabError(f"--{name} must be a positive integer")
    if args.seed < 0:
        raise MonilabError("--seed must be non-negative")
    personas = load_personas(args.personas)
    targets = load_targets(args.targets)
    validate = load_targets(args.validate) if args.validate else None
    start = parse_start(args.start).isoformat()
    args.out.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    simulator = Simulator(personas, users=args.users, days=args.days, start=start)
    result = calibrate(
        simulator,
        targets,
        out_dir=args.out,
        budget=args.budget,
        seed=args.seed,
        sampler=args.sampler,
        jobs=args.jobs,
        validate=validate,
        params=args.params,
        resume=not args.no_resume,
        progress=True,
    )
    persona_out = args.out / f"{args.personas.stem}.calibrated.toml"
    if persona_out.resolve() == args.personas.resolve():
        raise MonilabError("--out would overwrite the input persona file")
    personas.with_values(result.params).save(persona_out)
    summary = result.to_dict() | {
        "inputs": {
            "personas": str(args.personas),
            "targets": str(args.targets),
            "validate": str(args.validate) if args.validate else None,
        },
        "outputs": {"personas": persona_out.name, "report": "report.html"},
    }
    (args.out / "calibration.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    write_report(result, args.out / "report.html")
    fit = result.held_out["fit"]
    closed = fit.to_dict()["fraction_of_closable_gap_closed"]
    print(
        f"monilab calibrate: held-out loss {fit.loss_default:.4f} -> {fit.loss_final:.4f} "
        f"(noise floor {fit.noise_floor:.4f}, gap closed {closed}); wrote {args.out}",
        file=sys.stdout,
    )
    return 0
