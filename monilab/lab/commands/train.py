"""``monilab train``: train the type, anomaly and forecast models on a dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monilab.contracts.errors import MonilabError
from monilab.contracts.options import option
from monilab.lab.commands import Command

if TYPE_CHECKING:
    from analysis.training import TrainingResult


@dataclass(frozen=True)
class TrainOptions:
    """What to train on, and how hard."""

    data: Path = option(required=True, help="dataset directory")
    out: Path = option(required=True, help="models directory to write")
    export: Path | None = option(
        None,
        metavar="DIR",
        help="an app export (monilab export) to train on instead: its users, spendings and "
        "request log joined to --data's ground truth by agent id",
    )
    eval_data: Path | None = option(None, help="another dataset to test on")
    perturbed_data: Path | None = option(
        None,
        metavar="DIR",
        help="a dataset from a perturbed persona file (monilab generate --perturb) to test "
        "the type and style models on",
    )
    seed: int = option(0, low=0, help="random state of every model")
    trees: int = option(200, low=1, high=10_000, help="trees per boosted model")
    test_weeks: int = option(4, low=1, high=520, help="weeks held out for the forecast")
    hourly_users: int = option(500, low=0, help="users sampled for the hourly model (0: skip)")
    max_train_users: int = option(
        5_000,
        low=20,
        help="fit the heavy learners on a seeded sample of at most this many users; every "
        "user is still featured, scored and evaluated (default 5000)",
    )
    jobs: int = option(2, low=1, high=64, help="worker processes (parts of the data, model fits)")
    real: Path | None = option(
        None, help="real microdata file: forecast TSTR/TRTR and anomalies on it (metrics 'real')"
    )
    real_mapping: Path | None = option(
        None, help="TOML mapping of --real into the schema (default: the household ledger mapping)"
    )


def train(options: TrainOptions) -> TrainingResult:
    """Train, evaluate, save the models and write the model card; the training result."""
    from analysis.training import train as train_models
    from monilab.lab.report.model_card import write_model_card

    app = None
    if options.export is not None:
        from analysis.app_dataset import build_app_dataset

        app = build_app_dataset(options.export, options.data, options.out / "app-dataset")
    result = train_models(
        app.directory if app is not None else options.data,
        options.out,
        app=app,
        eval_data=options.eval_data,
        perturbed_data=options.perturbed_data,
        random_state=options.seed,
        n_estimators=options.trees,
        test_weeks=options.test_weeks,
        hourly_users=options.hourly_users,
        max_train_users=options.max_train_users,
        n_jobs=options.jobs,
        real=_real_data(options),
    )
    write_model_card(result, options.out)
    return result


def _real_data(options: TrainOptions) -> Any:
    """The real transactions of ``--real``/``--real-mapping`` (None without them)."""
    for flag, path in (("--real", options.real), ("--real-mapping", options.real_mapping)):
        if path is not None and not path.is_file():
            raise MonilabError(f"{flag}: no such file {path}")
    if options.real is None and options.real_mapping is None:
        return None
    from calibration.adapters import real_transactions
    from calibration.paths import bundled_mapping

    mapping = options.real_mapping or bundled_mapping("household_ledger")
    return real_transactions(options.real, mapping)


def report(options: TrainOptions, result: TrainingResult) -> str:
    """The headline metrics and what was written."""
    return (
        headline(result.metrics)
        + f"\nmonilab train: wrote {options.out}/metrics.json and model_card.html"
    )


def headline(result: dict) -> str:
    """A few lines with the main metrics."""
    from analysis.extras import headline as extras_headline
    from monilab.lab.report.model_card import trained_on_line

    types = result["types"]
    lines = [
        trained_on_line(result.get("trained_on", {})),
        "type macro-F1 (held out): "
        + ", ".join(
            f"{n} {types['held_out'][n]['macro_f1']:.3f}"
            for n in ("random_forest", "xgboost", "lightgbm")
        ),
        f"k-means ARI {types['held_out']['kmeans']['ari']:.3f} "
        f"NMI {types['held_out']['kmeans']['nmi']:.3f}",
    ]
    lines += _generalisation_lines(types)
    an = result.get("anomaly", {})
    if "headline" in an:
        lines.append(f"anomaly (held-out users, per transaction): {an['headline']['verdict']}")
    elif "ensemble" in an:
        lines.append(
            f"anomaly PR-AUC on cells: ensemble {an['ensemble']['pr_auc']:.3f} "
            f"vs IQR {an['iqr']['pr_auc']:.3f}"
        )
    fc = result.get("forecast", {})
    for measure, label in (("cells", "cell"), ("weekly_total", "weekly-total")):
        if measure in fc.get("headline", {}):
            lines.append(f"forecast {label} WAPE: {fc['headline'][measure]['text']}")
    lines += extras_headline(result)
    usage = result.get("app_usage")
    if usage:
        lines.append(f"app usage features: {usage.get('verdict') or usage.get('skipped')}")
    other = types.get("other_seed", {})
    if other.get("available"):
        lines.append(
            "type macro-F1 (another seed, label history): "
            + ", ".join(
                f"{n} {other['models'][n]['macro_f1']:.3f}"
                for n in ("random_forest", "xgboost", "lightgbm")
            )
        )
    return "\n".join(lines)


def _generalisation_lines(types: dict) -> list[str]:
    """The app model's macro-F1 on held-out personas, the perturbed population and another
    seed (with intervals), and the worst of them."""
    head = types.get("headline")
    if not head or head.get("macro_f1") is None:
        return []
    model = head["model"]
    parts = []
    for name in ("held_out_personas", "perturbed", "other_seed"):
        scored = types.get(name, {})
        if scored.get("available"):
            s = scored["models"][model]
            parts.append(f"{name} {s['macro_f1']:.3f} [{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}]")
    return [
        f"type macro-F1 ({model}, label history): " + ", ".join(parts),
        f"type headline (worst: {head['evaluation']}) {head['macro_f1']:.3f} "
        f"vs chance {head['chance_macro_f1']:.3f}, k-means {head['kmeans_macro_f1']:.3f}",
    ]


COMMAND = Command(
    name="train",
    help="train the spending-type, anomaly and forecast models",
    description=(
        "Train every model on a dataset, evaluate it (held-out users, last weeks, and "
        "optionally another dataset) and write joblib artifacts, metrics.json and "
        "model_card.html to MODELS."
    ),
    options=TrainOptions,
    run=train,
    report=report,
)
