"""``monilab calibrate``: fit a persona file's free parameters to reference data.

Two kinds of reference: aggregate targets (``--targets FILE [--validate FILE]``) or
microdata, split into fit and held-out parts by user (or, for one user, by blocks of
months; see :mod:`calibration.objectives.reference`). Microdata is a CSV/Parquet file with its
mapping (``--reference FILE --mapping FILE``) or a dataset directory in the lab's own schema
(``--reference DIR``: a generated population or an app export), read with no mapping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from monilab.contracts.options import option, parse_date
from monilab.lab.commands import Command

if TYPE_CHECKING:
    from calibration.objectives.base import Objective
    from calibration.result import (
        CalibrationResult,
        ReferenceCalibrationResult,
        TargetsCalibrationResult,
    )
    from calibration.simulator import Simulator

SAMPLERS = ("cmaes", "tpe", "nelder-mead")
R = TypeVar("R", bound="CalibrationResult")


@dataclass(frozen=True)
class CalibrateOptions:
    """Which persona file, against which reference, on which budget."""

    personas: Path = option(required=True, help="persona TOML file")
    targets: Path | None = option(None, help="aggregate targets CSV (fit part)")
    reference: Path | None = option(
        None, help="microdata reference: a CSV/Parquet file (with --mapping) or a dataset directory"
    )
    mapping: Path | None = option(None, help="TOML mapping of a --reference file")
    reference_users: Path | None = option(None, help="users file of the --reference")
    validate: Path | None = option(None, help="held-out aggregate targets CSV")
    budget: int = option(required=True, low=1, help="simulator calls of the search")
    jobs: int = option(1, low=1, high=64, help="parallel simulator calls")
    sampler: str = option("cmaes", choices=SAMPLERS, help="method")
    params: list[str] = option(
        [], repeat=True, help="only free parameters matching (glob); groups with --space grouped"
    )
    space: str | None = option(
        None,
        choices=("full", "grouped"),
        help="full: every free parameter; grouped: one shift per group of parameters "
        "(default: full for --targets, grouped for --reference)",
    )
    sigma0: float | None = option(
        None, low=1e-6, high=1.0, help="CMA-ES initial step (unit cube; 1/6)"
    )
    held_out: float = option(
        0.3, low=0.01, high=0.99, help="share of users (or month blocks) held out"
    )
    users: int = option(2000, low=1, help="users per simulator call")
    days: int = option(90, low=1, high=3660, help="days per simulator call")
    start: str = option("2024-01-01", parse=parse_date, help="first simulated day")
    seed: int = option(0, low=0, help="root seed")
    out: Path = option(required=True, help="output directory")
    no_resume: bool = option(False, help="ignore an existing checkpoint")


@dataclass(frozen=True)
class CalibrateOutcome:
    """The calibration's result and its one-line summary."""

    result: CalibrationResult
    line: str


def calibrate_personas(options: CalibrateOptions) -> CalibrateOutcome:
    """Run the calibration and write its three outputs."""
    import optuna

    from calibration.simulator import Simulator
    from monilab.contracts.errors import MonilabError
    from monilab.lab.report.calibration import write_report
    from sim.agents.personas import load_personas
    from sim.agents.population import parse_start

    microdata = options.reference is not None or options.mapping is not None
    if microdata and options.targets is not None:
        raise MonilabError("give either --targets or --reference/--mapping, not both")
    if microdata:
        _check_reference(options)
    if not microdata and options.targets is None:
        raise MonilabError(
            "give --targets FILE, --reference FILE --mapping FILE or --reference DIR"
        )
    if microdata and options.validate is not None:
        raise MonilabError("--validate is for aggregate targets; microdata is split by user")
    personas = load_personas(options.personas)
    start = parse_start(options.start).isoformat()
    persona_out = options.out / f"{options.personas.stem}.calibrated.toml"
    if persona_out.resolve() == options.personas.resolve():
        raise MonilabError("--out would overwrite the input persona file")
    simulator = Simulator(personas, users=options.users, days=options.days, start=start)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    result: CalibrationResult
    if microdata:
        reference_result, inputs = _run_microdata(options, simulator)
        result, line = reference_result, _reference_line(reference_result)
    else:
        targets_result, inputs = _run_targets(options, simulator)
        result, line = targets_result, _targets_line(targets_result)
    personas.with_values(result.values or result.params).save(persona_out)
    summary = result.to_dict() | {
        "inputs": inputs,
        "outputs": {"personas": persona_out.name, "report": "report.html"},
    }
    (options.out / "calibration.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    write_report(result, options.out / "report.html")
    return CalibrateOutcome(result, line)


def _check_reference(options: CalibrateOptions) -> None:
    """A dataset directory takes no mapping; a file needs one."""
    from monilab.contracts.errors import MonilabError

    if options.reference is not None and options.reference.is_dir():
        for option, value in (
            ("--mapping", options.mapping),
            ("--reference-users", options.reference_users),
        ):
            if value is not None:
                raise MonilabError(
                    f"{options.reference} is a dataset directory, read in the lab's schema: "
                    f"drop {option} (it is for a CSV/Parquet reference)"
                )
    elif options.reference is None or options.mapping is None:
        raise MonilabError(
            "--reference FILE and --mapping go together (a dataset directory needs no mapping)"
        )


def _reference_line(result: ReferenceCalibrationResult) -> str:
    part = result.parts["held_out"]
    return (
        f"held-out part (split by {result.split['by']}) loss {part.loss_default:.4f} -> "
        f"{part.loss_final:.4f} (noise floor {part.noise_floor:.4f}, "
        f"gap closed {_share(part.to_dict()['fraction_of_closable_gap_closed'])}; "
        f"C2ST AUC gbm {part.auc('gbm')['default']:.3f} -> {part.auc('gbm')['final']:.3f})"
    )


def _targets_line(result: TargetsCalibrationResult) -> str:
    fit = result.held_out["fit"]
    closed = fit.to_dict()["fraction_of_closable_gap_closed"]
    return (
        f"held-out loss {fit.loss_default:.4f} -> {fit.loss_final:.4f} "
        f"(noise floor {fit.noise_floor:.4f}, gap closed {_share(closed)})"
    )


def _run_targets(
    options: CalibrateOptions, simulator: Simulator
) -> tuple[TargetsCalibrationResult, dict[str, Any]]:
    from calibration.objectives.targets import TargetsObjective
    from calibration.targets import load_targets

    assert options.targets is not None  # checked by calibrate_personas
    targets = load_targets(options.targets)
    validate = load_targets(options.validate) if options.validate else None
    result = _search(options, simulator, TargetsObjective(targets, validate=validate))
    inputs = {
        "personas": str(options.personas),
        "targets": str(options.targets),
        "validate": str(options.validate) if options.validate else None,
    }
    return result, inputs


def _run_microdata(
    options: CalibrateOptions, simulator: Simulator
) -> tuple[ReferenceCalibrationResult, dict[str, Any]]:
    from calibration.adapters import load_dataset_reference, load_microdata
    from calibration.objectives.reference import ReferenceObjective

    assert options.reference is not None  # checked by _check_reference
    if options.reference.is_dir():
        reference = load_dataset_reference(options.reference)
    else:
        assert options.mapping is not None  # checked by _check_reference
        reference = load_microdata(
            options.mapping, options.reference, users_path=options.reference_users
        )
    objective = ReferenceObjective(reference, held_out_fraction=options.held_out)
    result = _search(options, simulator, objective)
    inputs = {
        "personas": str(options.personas),
        "reference": str(options.reference),
        "reference_kind": "dataset" if options.reference.is_dir() else "file",
        "mapping": str(options.mapping) if options.mapping else None,
        "declared_missing": sorted(reference.declared_missing),
        "excluded_rows": reference.excluded,
    }
    return result, inputs


def _search(options: CalibrateOptions, simulator: Simulator, objective: Objective[Any, R]) -> R:
    """The calibration of ``simulator`` to ``objective`` with the search settings of ``options``
    (the space defaults to the objective's: full for targets, grouped for a reference)."""
    from calibration.loop import calibrate

    options.out.mkdir(parents=True, exist_ok=True)
    return calibrate(
        simulator,
        objective,
        out_dir=options.out,
        budget=options.budget,
        seed=options.seed,
        sampler=options.sampler,
        jobs=options.jobs,
        params=options.params or None,
        space=options.space,
        sigma0=options.sigma0,
        resume=not options.no_resume,
        progress=True,
    )


def _share(fraction: float | None) -> str:
    """A fraction of the closable gap as a percentage ("n/a" when nothing was closable)."""
    if fraction is None or fraction != fraction:
        return "n/a (the defaults were within the noise floor)"
    return f"{fraction:.0%}"


COMMAND = Command(
    name="calibrate",
    help="calibrate a persona file's free parameters to reference data",
    description=(
        "Search the free parameters of a persona file so that the simulated population "
        "matches aggregate targets (--targets) or reference microdata (--reference FILE "
        "with --mapping, or --reference DIR: a dataset in the lab's schema, no mapping; "
        "split by user into fit and held-out parts); write the calibrated "
        "persona file, calibration.json and report.html to --out. The input persona file "
        "is left untouched."
    ),
    options=CalibrateOptions,
    run=calibrate_personas,
    report=lambda options, outcome: f"monilab calibrate: {outcome.line}; wrote {options.out}",
)
