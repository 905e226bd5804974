"""``monilab train``: train the type, anomaly and forecast models on a dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train",
        help="train the spending-type, anomaly and forecast models",
        description=(
            "Train every model on a dataset, evaluate it (held-out users, last weeks, and "
            "optionally another dataset) and write joblib artifacts, metrics.json and "
            "model_card.html to MODELS."
        ),
    )
    parser.add_argument("--data", type=Path, required=True, help="dataset directory")
    parser.add_argument("--out", type=Path, required=True, help="models directory to write")
    parser.add_argument("--eval-data", type=Path, default=None, help="another dataset to test on")
    parser.add_argument("--seed", type=int, default=0, help="random state of every model")
    parser.add_argument("--trees", type=int, default=200, help="trees per boosted model")
    parser.add_argument("--test-weeks", type=int, default=4, help="weeks held out for the forecast")
    parser.add_argument(
        "--hourly-users", type=int, default=500, help="users sampled for the hourly model (0: skip)"
    )
    parser.add_argument(
        "--max-train-users",
        type=int,
        default=5_000,
        help="fit the heavy learners on a seeded sample of at most this many users; every "
        "user is still featured, scored and evaluated (default 5000)",
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="worker processes (parts of the data, model fits)"
    )
    parser.add_argument(
        "--real",
        type=Path,
        default=None,
        help="real microdata file: forecast TSTR/TRTR and anomalies on it (metrics 'real')",
    )
    parser.add_argument(
        "--real-mapping",
        type=Path,
        default=None,
        help="TOML mapping of --real into the schema (default: the household ledger mapping)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Train and print the headline metrics."""
    from analysis.training import train
    from monilab.contracts.errors import MonilabError

    if args.trees < 1 or args.test_weeks < 1 or args.hourly_users < 0:
        raise MonilabError("--trees and --test-weeks must be positive, --hourly-users >= 0")
    if args.max_train_users < 20 or args.jobs < 1:
        raise MonilabError("--max-train-users must be at least 20 and --jobs at least 1")
    for option, path in (("--real", args.real), ("--real-mapping", args.real_mapping)):
        if path is not None and not path.is_file():
            raise MonilabError(f"{option}: no such file {path}")
    real = None
    if args.real is not None or args.real_mapping is not None:
        from calibration.adapters import real_transactions
        from calibration.paths import bundled_mapping

        mapping = args.real_mapping or bundled_mapping("household_ledger")
        real = real_transactions(args.real, mapping)
    result = train(
        args.data,
        args.out,
        eval_data=args.eval_data,
        random_state=args.seed,
        n_estimators=args.trees,
        test_weeks=args.test_weeks,
        hourly_users=args.hourly_users,
        max_train_users=args.max_train_users,
        n_jobs=args.jobs,
        real=real,
    )
    print(headline(result), file=sys.stdout)
    print(f"monilab train: wrote {args.out}/metrics.json and model_card.html", file=sys.stdout)
    return 0


def headline(result: dict) -> str:
    """A few lines with the main metrics."""
    from analysis.extras import headline as extras_headline

    types = result["types"]
    lines = [
        "type macro-F1 (held out): "
        + ", ".join(
            f"{n} {types['held_out'][n]['macro_f1']:.3f}"
            for n in ("random_forest", "xgboost", "lightgbm")
        ),
        f"k-means ARI {types['held_out']['kmeans']['ari']:.3f} "
        f"NMI {types['held_out']['kmeans']['nmi']:.3f}",
    ]
    an = result.get("anomaly", {})
    if "ensemble" in an:
        lines.append(
            f"anomaly PR-AUC ensemble {an['ensemble']['pr_auc']:.3f} "
            f"vs IQR {an['iqr']['pr_auc']:.3f}"
        )
    fc = result.get("forecast", {})
    if "two_stage_lightgbm" in fc:
        lines.append(
            f"forecast cell WAPE two-stage {fc['two_stage_lightgbm']['cells']['wape']:.3f} "
            f"vs 4-week mean {fc['mean_4_weeks']['cells']['wape']:.3f}"
        )
    lines += extras_headline(result)
    if "eval" in result:
        other = result["eval"]["types"]
        lines.append(
            "type macro-F1 (other dataset): "
            + ", ".join(
                f"{n} {other[n]['macro_f1']:.3f}" for n in ("random_forest", "xgboost", "lightgbm")
            )
        )
    return "\n".join(lines)
