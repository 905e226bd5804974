"""``monilab evaluate``: metrics of trained models on another dataset."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monilab.contracts.options import option
from monilab.lab.commands import Command


@dataclass(frozen=True)
class EvaluateOptions:
    """Which models, on which data."""

    models: Path = option(required=True, help="models directory")
    data: Path = option(required=True, help="dataset directory")
    out: Path | None = option(None, help="write the metrics JSON here")
    test_weeks: int = option(4, low=1, high=520, help="weeks held out for the forecast")


def evaluate(options: EvaluateOptions) -> dict[str, Any]:
    """The metrics (also written to ``--out`` when given)."""
    from analysis.training import evaluate as evaluate_models

    result = evaluate_models(options.models, options.data, test_weeks=options.test_weeks)
    if options.out is not None:
        options.out.write_text(json.dumps(result, indent=1, default=str))
    return result


def report(options: EvaluateOptions, result: dict[str, Any]) -> str:
    """The metrics as JSON, or where they were written."""
    if options.out is not None:
        return f"monilab evaluate: wrote {options.out}"
    return json.dumps(result, indent=1, default=str)


COMMAND = Command(
    name="evaluate",
    help="evaluate trained models on a dataset",
    description="Compute the metrics of the models in MODELS on the dataset DIR.",
    options=EvaluateOptions,
    run=evaluate,
    report=report,
)
