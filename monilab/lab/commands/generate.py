"""``monilab generate``: a seeded synthetic population written as a Parquet dataset."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monilab.contracts.options import option, parse_date
from monilab.lab.commands import Command

DEFAULT_SHARD_SIZE = 5000
"""Users per shard (:data:`sim.agents.population.SHARD_SIZE`, checked by a test)."""


@dataclass(frozen=True)
class GenerateOptions:
    """What to generate."""

    users: int = option(required=True, low=1, help="number of users")
    days: int = option(required=True, low=1, high=3660, help="simulated days")
    start: str = option(
        "2024-01-01", parse=parse_date, help="first simulated day, YYYY-MM-DD (default 2024-01-01)"
    )
    seed: int = option(required=True, low=0, help="root seed")
    personas: str | None = option(None, metavar="FILE", help="persona TOML (default: bundled)")
    workers: int = option(
        1, low=1, high=256, help="worker processes (default 1; output does not depend on it)"
    )
    anomaly_rate: float = option(
        0.01,
        low=0.0,
        high=0.5,
        help="anomaly episodes per normal payment before persona propensity (default 0.01)",
    )
    shard_size: int = option(
        DEFAULT_SHARD_SIZE, low=1, help="users per shard (default 5000; changes the data)"
    )
    perturb: float = option(
        0.0,
        low=0.0,
        high=0.9,
        metavar="F",
        help="shift every free persona parameter by a random relative amount up to ±F, "
        "within its bounds (default 0: the persona file as is)",
    )
    perturb_seed: int = option(
        0, low=0, metavar="S", help="seed of --perturb's shifts (default 0; not the data seed)"
    )
    out: Path = option(required=True, metavar="DIR", help="output directory")
    overwrite: bool = option(False, help="write into a non-empty output directory")
    no_progress: bool = option(False, help="no progress bar")


def generate(options: GenerateOptions) -> dict[str, Any]:
    """Generate the dataset; returns its manifest."""
    from sim.agents.generate import generate_dataset

    arguments = dataclasses.asdict(options)
    no_progress = arguments.pop("no_progress")
    perturb, perturb_seed = arguments.pop("perturb"), arguments.pop("perturb_seed")
    meta = None
    if perturb > 0:
        from sim.agents.personas import load_personas
        from sim.agents.perturb import perturb_personas

        arguments["personas"] = perturb_personas(
            load_personas(options.personas), perturb, perturb_seed
        )
        meta = {"perturb": perturb, "perturb_seed": perturb_seed}
    return generate_dataset(**arguments, progress=False if no_progress else None, meta=meta)


def report(options: GenerateOptions, manifest: dict[str, Any]) -> str:
    """One line: what was written, how fast."""
    counts, run_info = manifest["counts"], manifest["run"]
    return (
        f"wrote {counts['users']:,} users, {counts['transactions']:,} transactions "
        f"({counts['anomalies']:,} anomalous) to {options.out} in {run_info['seconds']:.1f} s "
        f"({run_info['rows_per_second']:,} rows/s, {run_info['workers']} worker(s))"
    )


COMMAND = Command(
    name="generate",
    help="generate users, transactions and daily population metrics (Parquet)",
    description="Simulate a seeded population of persona-driven Moni users and write "
    "users, transactions (with labelled anomalies) and population_daily as a Parquet "
    "dataset with manifest.json. The same seed gives the same bytes for any --workers. "
    "--perturb F --perturb-seed S first shifts the persona file's free parameters "
    "(an evaluation population the models have never seen).",
    options=GenerateOptions,
    run=generate,
    report=report,
)
