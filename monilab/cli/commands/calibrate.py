"""``monilab calibrate``: fit a persona file's free parameters to reference data.

Two kinds of reference: aggregate targets (``--targets FILE [--validate FILE]``) or
microdata, split into fit and held-out parts by user (or, for one user, by blocks of
months; see :mod:`calibration.reference_loop`). Microdata is a CSV/Parquet file with its
mapping (``--reference FILE --mapping FILE``) or a dataset directory in the lab's own schema
(``--reference DIR``: a generated population or an app export), read with no mapping.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calibration.loop import CalibrationResult
    from calibration.reference_loop import ReferenceCalibrationResult
    from calibration.simulator import Simulator


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` subcommand."""
    parser = subparsers.add_parser(
        "calibrate",
        help="calibrate a persona file's free parameters to reference data",
        description=(
            "Search the free parameters of a persona file so that the simulated population "
            "matches aggregate targets (--targets) or reference microdata (--reference FILE "
            "with --mapping, or --reference DIR: a dataset in the lab's schema, no mapping; "
            "split by user into fit and held-out parts); write the calibrated "
            "persona file, calibration.json and report.html to --out. The input persona file "
            "is left untouched."
        ),
    )
    parser.add_argument("--personas", type=Path, required=True, help="persona TOML file")
    parser.add_argument("--targets", type=Path, help="aggregate targets CSV (fit part)")
    parser.add_argument(
        "--reference",
        type=Path,
        help="microdata reference: a CSV/Parquet file (with --mapping) or a dataset directory",
    )
    parser.add_argument("--mapping", type=Path, help="TOML mapping of a --reference file")
    parser.add_argument("--reference-users", type=Path, help="users file of the --reference")
    parser.add_argument("--validate", type=Path, help="held-out aggregate targets CSV")
    parser.add_argument("--budget", type=int, required=True, help="simulator calls of the search")
    parser.add_argument("--jobs", type=int, default=1, help="parallel simulator calls")
    parser.add_argument(
        "--sampler", choices=("cmaes", "tpe", "nelder-mead"), default="cmaes", help="method"
    )
    parser.add_argument(
        "--params",
        action="append",
        help="only free parameters matching (glob); groups with --space grouped",
    )
    parser.add_argument(
        "--space",
        choices=("full", "grouped"),
        help="full: every free parameter; grouped: one shift per group of parameters "
        "(default: full for --targets, grouped for --reference)",
    )
    parser.add_argument("--sigma0", type=float, help="CMA-ES initial step (unit cube; 1/6)")
    parser.add_argument(
        "--held-out", type=float, default=0.3, help="share of users (or month blocks) held out"
    )
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
    from calibration.simulator import Simulator
    from monilab.contracts.errors import MonilabError
    from sim.agents.personas import load_personas
    from sim.agents.population import parse_start

    microdata = args.reference is not None or args.mapping is not None
    if microdata and args.targets is not None:
        raise MonilabError("give either --targets or --reference/--mapping, not both")
    if microdata:
        _check_reference(args)
    if not microdata and args.targets is None:
        raise MonilabError(
            "give --targets FILE, --reference FILE --mapping FILE or --reference DIR"
        )
    if microdata and args.validate is not None:
        raise MonilabError("--validate is for aggregate targets; microdata is split by user")
    for name in ("budget", "users", "days", "jobs"):
        if getattr(args, name) < 1:
            raise MonilabError(f"--{name} must be a positive integer")
    if args.seed < 0:
        raise MonilabError("--seed must be non-negative")
    if args.sigma0 is not None and not 0 < args.sigma0 <= 1:
        raise MonilabError("--sigma0 must be in (0, 1]")
    if not 0 < args.held_out < 1:
        raise MonilabError("--held-out must be between 0 and 1")
    personas = load_personas(args.personas)
    start = parse_start(args.start).isoformat()
    persona_out = args.out / f"{args.personas.stem}.calibrated.toml"
    if persona_out.resolve() == args.personas.resolve():
        raise MonilabError("--out would overwrite the input persona file")
    simulator = Simulator(personas, users=args.users, days=args.days, start=start)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if microdata:
        result, inputs = _run_microdata(args, simulator)
        part = result.parts["held_out"]
        line = (
            f"held-out part (split by {result.split['by']}) loss {part.loss_default:.4f} -> "
            f"{part.loss_final:.4f} (noise floor {part.noise_floor:.4f}, "
            f"gap closed {_share(part.to_dict()['fraction_of_closable_gap_closed'])}; "
            f"C2ST AUC gbm {part.auc('gbm')['default']:.3f} -> {part.auc('gbm')['final']:.3f})"
        )
    else:
        result, inputs = _run_targets(args, simulator)
        fit = result.held_out["fit"]
        closed = fit.to_dict()["fraction_of_closable_gap_closed"]
        line = (
            f"held-out loss {fit.loss_default:.4f} -> {fit.loss_final:.4f} "
            f"(noise floor {fit.noise_floor:.4f}, gap closed {_share(closed)})"
        )
    personas.with_values(result.values or result.params).save(persona_out)
    summary = result.to_dict() | {
        "inputs": inputs,
        "outputs": {"personas": persona_out.name, "report": "report.html"},
    }
    (args.out / "calibration.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    write_report(result, args.out / "report.html")
    print(f"monilab calibrate: {line}; wrote {args.out}", file=sys.stdout)
    return 0


def _check_reference(args: argparse.Namespace) -> None:
    """A dataset directory takes no mapping; a file needs one."""
    from monilab.contracts.errors import MonilabError

    if args.reference is not None and args.reference.is_dir():
        for option, value in (
            ("--mapping", args.mapping),
            ("--reference-users", args.reference_users),
        ):
            if value is not None:
                raise MonilabError(
                    f"{args.reference} is a dataset directory, read in the lab's schema: "
                    f"drop {option} (it is for a CSV/Parquet reference)"
                )
    elif args.reference is None or args.mapping is None:
        raise MonilabError(
            "--reference FILE and --mapping go together (a dataset directory needs no mapping)"
        )


def _run_targets(
    args: argparse.Namespace, simulator: Simulator
) -> tuple[CalibrationResult, dict[str, Any]]:
    from calibration.loop import calibrate
    from calibration.targets import load_targets

    targets = load_targets(args.targets)
    validate = load_targets(args.validate) if args.validate else None
    args.out.mkdir(parents=True, exist_ok=True)
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
        space=args.space or "full",
        sigma0=args.sigma0,
        resume=not args.no_resume,
        progress=True,
    )
    inputs = {
        "personas": str(args.personas),
        "targets": str(args.targets),
        "validate": str(args.validate) if args.validate else None,
    }
    return result, inputs


def _run_microdata(
    args: argparse.Namespace, simulator: Simulator
) -> tuple[ReferenceCalibrationResult, dict[str, Any]]:
    from calibration.adapters import load_dataset_reference, load_microdata
    from calibration.reference_loop import calibrate_reference

    if args.reference.is_dir():
        reference = load_dataset_reference(args.reference)
    else:
        reference = load_microdata(args.mapping, args.reference, users_path=args.reference_users)
    args.out.mkdir(parents=True, exist_ok=True)
    result = calibrate_reference(
        simulator,
        reference,
        out_dir=args.out,
        budget=args.budget,
        seed=args.seed,
        sampler=args.sampler,
        jobs=args.jobs,
        params=args.params,
        space=args.space or "grouped",
        sigma0=args.sigma0,
        held_out_fraction=args.held_out,
        resume=not args.no_resume,
        progress=True,
    )
    inputs = {
        "personas": str(args.personas),
        "reference": str(args.reference),
        "reference_kind": "dataset" if args.reference.is_dir() else "file",
        "mapping": str(args.mapping) if args.mapping else None,
        "declared_missing": sorted(reference.declared_missing),
        "excluded_rows": reference.excluded,
    }
    return result, inputs


def _share(fraction: float | None) -> str:
    """A fraction of the closable gap as a percentage ("n/a" when nothing was closable)."""
    if fraction is None or fraction != fraction:
        return "n/a (the defaults were within the noise floor)"
    return f"{fraction:.0%}"
