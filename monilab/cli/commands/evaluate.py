"""``monilab evaluate``: metrics of trained models on another dataset."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand."""
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate trained models on a dataset",
        description="Compute the metrics of the models in MODELS on the dataset DIR.",
    )
    parser.add_argument("--models", type=Path, required=True, help="models directory")
    parser.add_argument("--data", type=Path, required=True, help="dataset directory")
    parser.add_argument("--out", type=Path, default=None, help="write the metrics JSON here")
    parser.add_argument("--test-weeks", type=int, default=4, help="weeks held out for the forecast")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the metrics as JSON (or write them to --out)."""
    from analysis.training import evaluate

    result = evaluate(args.models, args.data, test_weeks=args.test_weeks)
    text = json.dumps(result, indent=1, default=str)
    if args.out is None:
        print(text, file=sys.stdout)
    else:
        args.out.write_text(text)
        print(f"monilab evaluate: wrote {args.out}", file=sys.stdout)
    return 0
