"""Train every model on a dataset, evaluate them (also on another dataset) and save them.

Artifacts in the models directory (all ``joblib``):

- ``spending_type.joblib``: the app's type model (``predict_user(spendings) -> type``);
- ``type_models.joblib``: the K-means clusterer and the three type classifiers;
- ``style_model.joblib``: the style classifier;
- ``anomaly.joblib``: the Isolation Forest + K-means scorer;
- ``forecast.joblib``: the two-stage forecasters and the overrun classifier.

and ``metrics.json``. :func:`train` returns a :class:`TrainingResult` (the metrics and the
data of the model card's figures); it writes no HTML and draws nothing: the caller renders
the card (:func:`monilab.lab.report.model_card.write_model_card`). Its steps, each with a
typed result: :func:`read_training_data` → :func:`fit_first_stage` → :func:`summary_metrics`
→ :func:`score_and_evaluate` → :func:`fit_extras` → :func:`save_models`.

Scale: transactions are read part by part (:mod:`analysis.shards`, two worker processes)
and every row is featured and scored, but the heavy learners are fitted on a seeded sample
of at most ``max_train_users`` users (:func:`fit_sample`): the type classifiers on the
sampled training users (held-out users are never sampled), the anomaly models on
transactions of the sampled users, the forecasters on their training weeks (the time split
is the whole dataset's), the hourly-slot models on ``hourly_users`` users. With fewer users
than the cap, everything is fitted on every user, as before. The extras
(:mod:`analysis.extras`) run on the sampled users' rows.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split

from analysis import anomaly, extras, forecast, forecast_baselines, metrics, shards, type_eval
from analysis.anomaly_eval import StackedDetector, TxnEvaluator, kind_codes
from analysis.anomaly_eval import evaluate as evaluate_anomalies
from analysis.app_dataset import AppDataset
from analysis.app_usage import usage_evaluation
from analysis.features import hourly_slots, sample_users, user_features
from analysis.hourly import evaluate_slots
from analysis.real_data import RealLedger
from analysis.type_model import ESTIMATORS, TYPE_FEATURES, TypeClusterer, UserClassifier
from monilab.contracts.datasets import read_dataset
from monilab.contracts.errors import MonilabError
from monilab.contracts.vocabulary import SPENDING_TYPES, STYLES

log = logging.getLogger(__name__)

ARTIFACTS = ("spending_type", "type_models", "style_model", "anomaly", "forecast")
STACKED = "anomaly_stacked"
"""The rules-plus-models anomaly combination (saved when the training data has labels)."""
MAX_ANOMALY_FIT_ROWS = shards.MAX_ANOMALY_FIT_ROWS
MAX_FORECAST_FIT_ROWS = 1_000_000
MAX_TRAIN_USERS = 5_000
"""Default cap on the users the heavy learners are fitted on (``--max-train-users``)."""
ANOMALY_TREES = 64
"""Isolation Forest trees (fewer with ``n_estimators`` < 64, never under 50). Path lengths
settle well before sklearn's default 100: on 10k users x 365 days (7.6 M rows) 64 trees
gave PR-AUC 0.373 (Isolation Forest) and 0.255 (ensemble) against 0.327 and 0.254 with
100, and scored the rows in 45 s instead of 63 s (docs/benchmarks.md)."""
N_JOBS = 2
"""Worker processes for the passes over the parts and for fitting models side by side (the
lab machine has 2 cores); every model itself stays single-threaded, so results do not
depend on it."""


def load(directory: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Users and transactions of a dataset (MonilabError when unusable)."""
    path = Path(directory)
    if not path.is_dir():
        raise MonilabError(f"{path}: no such dataset directory")
    dataset = read_dataset(path)
    users = dataset.frame("users")
    tx = dataset.frame("transactions")
    if tx.empty or users.empty:
        raise MonilabError(f"{path}: the dataset has no users or no transactions")
    return users, tx


def labelled_features(users: pd.DataFrame, tx: pd.DataFrame) -> pd.DataFrame:
    """User features joined with the ground-truth ``spending_type`` and ``style``."""
    columns = [c for c in ("spending_type", "style") if c in users.columns]
    return user_features(tx).join(users.set_index("user_id")[columns])


def _labels(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns or frame[column].isna().all():
        raise MonilabError(f"the users table has no {column} labels to train on")
    return frame[column]


def evaluate_types(models: dict[str, Any], style: UserClassifier, feats: pd.DataFrame) -> dict:
    """Clustering (ARI/NMI, named-cluster macro-F1) and classifier metrics on users."""
    truth = _labels(feats, "spending_type")
    clusterer: TypeClusterer = models["kmeans"]
    out: dict[str, Any] = {
        "kmeans": {
            **metrics.clustering(truth, clusterer.predict_cluster(feats)),
            **metrics.classification(truth, clusterer.predict(feats), SPENDING_TYPES),
        }
    }
    for name in ESTIMATORS:
        out[name] = metrics.classification(truth, models[name].predict(feats), SPENDING_TYPES)
    if "style" in feats.columns and feats["style"].notna().any():
        out["style"] = metrics.classification(feats["style"], style.predict(feats), STYLES)
    return out


def anomaly_metrics(
    columns: dict[str, np.ndarray], cells: int, n_jobs: int = N_JOBS
) -> tuple[dict, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Each method's PR-AUC and precision/recall at the IQR rule's alert budget, on cells;
    also each method's precision-recall curve (thinned for plotting)."""
    budget = int(columns["is_alert"].sum())
    out: dict[str, Any] = {"cells": cells, "iqr_alerts": budget}
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if "is_anomaly" in columns:
        y = np.asarray(columns["is_anomaly"], dtype=bool)

        def one(method: str) -> tuple[dict, tuple[np.ndarray, np.ndarray]]:
            return metrics.ranking_with_curve(y, columns[method], budget)

        with ThreadPoolExecutor(max(n_jobs, 1)) as pool:
            for method, (ranked, curve) in zip(
                anomaly.METHODS, pool.map(one, anomaly.METHODS), strict=True
            ):
                out[method], curves[method] = ranked, curve
    return out, curves


def evaluate_forecast(
    models: dict[str, Any],
    test: pd.DataFrame,
    budget: pd.Series,
    predictions: dict[str, np.ndarray] | None = None,
    *,
    seed: int = 0,
) -> dict:
    """Every baseline and the two-stage models on the test cells and weekly totals (WAPE with
    95 % intervals over users), the headline against the best baseline on each measure
    (:func:`analysis.forecast_baselines.population_comparison`); occurrence AUC/Brier vs
    base rate; overrun.

    Two-stage cells use the mixture median (MAE-optimal); weekly totals sum the category
    means (a sum of medians underestimates a total), as the forecast module documents.
    ``predictions`` reuses :func:`analysis.forecast.two_stage_predictions` of ``test``.
    """
    if predictions is None:
        predictions = forecast.two_stage_predictions(models, test)
    y = test["amount"].to_numpy(float)
    backends = ("lightgbm", "xgboost")
    out: dict[str, Any] = {
        "cells": len(test),
        **forecast_baselines.population_comparison(
            test,
            {f"two_stage_{b}": predictions[f"{b}_median"] for b in backends},
            {f"two_stage_{b}": predictions[f"{b}_mean"] for b in backends},
            seed=seed,
        ),
    }
    for backend in backends:
        model: forecast.TwoStageForecaster = models[backend]
        p = predictions[f"{backend}_p"]
        out[f"two_stage_{backend}"].update(
            occurrence_auc=float(roc_auc_score(y > 0, p)),
            occurrence_brier=float(brier_score_loss(y > 0, p)),
            base_rate_brier=float(brier_score_loss(y > 0, np.full(len(y), model.base_rate_))),
        )
    weeks = forecast.user_weeks(test, budget)
    prob = models["overrun"].predict_proba(weeks)
    base = np.full(len(weeks), models["overrun"].base_rate_)
    out["overrun"] = {
        "rate": float(weeks["overrun"].mean()),
        "auc": float(roc_auc_score(weeks["overrun"], prob))
        if weeks["overrun"].nunique() > 1
        else None,
        "brier": float(brier_score_loss(weeks["overrun"], prob)),
        "base_rate_brier": float(brier_score_loss(weeks["overrun"], base)),
    }
    return out


def _fit(model: Any, X: pd.DataFrame, y: pd.Series) -> Any:
    """``model.fit(X, y)`` (a picklable task for the worker processes)."""
    return model.fit(X, y)


def fit_sample(ids: pd.Index, labels: pd.Series, cap: int, random_state: int) -> pd.Index:
    """At most ``cap`` of ``ids``, a seeded sample stratified by ``labels`` (all when fewer)."""
    if len(ids) <= cap:
        return ids
    sample, _ = train_test_split(
        ids, train_size=cap, random_state=random_state, stratify=labels.loc[ids]
    )
    return pd.Index(np.sort(sample), name=ids.name)


def fit_models(
    one: shards.PassOne,
    feats: pd.DataFrame,
    type_users: pd.Index,
    slots: pd.DataFrame | None,
    *,
    random_state: int,
    n_estimators: int,
    n_jobs: int = N_JOBS,
) -> dict[str, Any]:
    """Every learner of the first stage, fitted side by side in ``n_jobs`` processes.

    Type models on ``type_users``; the two-stage forecasters on at most
    :data:`MAX_FORECAST_FIT_ROWS` of the sampled users' training weeks (seeded), the overrun
    classifier on all of their weeks; the anomaly models on the transaction sample; the
    hourly-slot models on ``slots`` (evaluated by time split inside the task).
    """
    train = one.fit_rows
    if train.empty:
        raise MonilabError("cannot train the forecast: no user has 3 months of history")
    sample = train
    if len(train) > MAX_FORECAST_FIT_ROWS:
        sample = train.sample(MAX_FORECAST_FIT_ROWS, random_state=random_state)
    weeks = forecast.user_weeks(train, one.budget)
    typed = feats.loc[type_users]
    tasks: dict[str, Any] = {}
    if slots is not None:
        tasks["hourly"] = delayed(evaluate_slots)(slots, n_estimators)
    for backend in ("lightgbm", "xgboost"):
        model = forecast.TwoStageForecaster(
            backend, n_estimators=n_estimators, random_state=random_state
        )
        tasks[f"forecast_{backend}"] = delayed(_fit)(model, sample, sample["amount"])
    for name in ESTIMATORS:
        model = UserClassifier(name, n_estimators=n_estimators, random_state=random_state)
        tasks[f"type_{name}"] = delayed(_fit)(model, typed, _labels(typed, "spending_type"))
    style = UserClassifier(n_estimators=n_estimators, random_state=random_state)
    tasks["style"] = delayed(_fit)(style, typed, _labels(typed, "style"))
    tasks["kmeans"] = delayed(_fit)(TypeClusterer(random_state=random_state), typed, None)
    scorer = anomaly.AnomalyScorer(
        n_estimators=min(ANOMALY_TREES, max(n_estimators, 50)), random_state=random_state
    )
    tasks["anomaly"] = delayed(_fit)(scorer, one.txn_sample, None)
    overrun = forecast.OverrunClassifier(n_estimators=n_estimators // 2, random_state=random_state)
    tasks["overrun"] = delayed(_fit)(overrun, weeks, weeks["overrun"])
    log.info("fitting %d models in %d process(es)", len(tasks), n_jobs)
    fitted = Parallel(n_jobs=n_jobs)(tasks.values())
    return dict(zip(tasks, fitted, strict=True))


def _passes_labels(users: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in ("spending_type", "style") if c in users.columns]
    return features.join(users.set_index("user_id")[columns])


@dataclass(frozen=True)
class WeeklyTotals:
    """Weekly totals over the test users: actual, 4-week mean and the two-stage forecasts.

    Attributes:
        weeks: The test weeks, sorted.
        series: Name → one total per week.
    """

    weeks: np.ndarray
    series: dict[str, np.ndarray]


@dataclass(frozen=True)
class TrainingResult:
    """What :func:`train` returns: the metrics and the data of the model card's figures.

    Attributes:
        metrics: The ``metrics.json`` content.
        pr_curves: Anomaly method → (precision, recall), thinned for plotting.
        weekly: Weekly totals of the forecast test weeks.
    """

    metrics: dict[str, Any]
    pr_curves: dict[str, tuple[np.ndarray, np.ndarray]]
    weekly: WeeklyTotals


@dataclass(frozen=True)
class TrainingData:
    """The dataset as training sees it (the first pass itself is kept apart, to be freed).

    Attributes:
        info: The scan of the dataset.
        feats: Features of every user with their ``spending_type`` and ``style`` labels.
        types: The ``spending_type`` labels.
        fit_users: The seeded sample of users the heavy learners are fitted on.
        hourly_ids: The users of the hourly-slot models.
        test_users: Held-out users of the type models.
        train_users: The other users.
        type_users: The training users the type models are fitted on.
    """

    info: shards.Scan
    feats: pd.DataFrame
    types: pd.Series
    fit_users: np.ndarray
    hourly_ids: np.ndarray
    test_users: pd.Index
    train_users: pd.Index
    type_users: pd.Index


@dataclass(frozen=True)
class FittedModels:
    """The first stage's learners (see :func:`fit_models`).

    Attributes:
        types: K-means and the type classifiers by name.
        style: The style classifier.
        scorer: The anomaly scorer.
        forecast: The two-stage forecasters (``lightgbm``, ``xgboost``) and ``overrun``.
        hourly: Metrics of the hourly-slot models (None when skipped).
    """

    types: dict[str, Any]
    style: UserClassifier
    scorer: anomaly.AnomalyScorer
    forecast: dict[str, Any]
    hourly: dict[str, Any] | None


@dataclass(frozen=True)
class Scoring:
    """The evaluations made from the anomaly pass over every part.

    Attributes:
        forecast: The ``forecast`` section of the metrics.
        anomaly: The ``anomaly`` section of the metrics.
        pr_curves: Each anomaly method's precision-recall curve.
        weekly: Weekly totals for the forecast figure.
    """

    forecast: dict[str, Any]
    anomaly: dict[str, Any]
    pr_curves: dict[str, tuple[np.ndarray, np.ndarray]]
    weekly: WeeklyTotals


def read_training_data(
    data: str | Path,
    *,
    test_weeks: int,
    hourly_users: int,
    max_train_users: int,
    random_state: int,
    n_jobs: int,
) -> tuple[TrainingData, shards.PassOne]:
    """Scan the dataset, run the first pass and split the users (MonilabError when the data
    cannot train every model)."""
    info = shards.scan(data)
    fit_users = sample_users(info.tx_users, max_train_users, random_state)
    hourly_ids = sample_users(info.tx_users, hourly_users, random_state)
    try:
        one = shards.features_pass(
            info,
            test_weeks=test_weeks,
            fit_users=fit_users,
            hourly_users=hourly_ids if hourly_users > 0 else np.array([], dtype=np.int64),
            random_state=random_state,
            n_jobs=n_jobs,
        )
    except ValueError as exc:
        raise MonilabError(f"cannot train the forecast: {exc}") from None
    feats = _passes_labels(info.users, one.features)
    types = _labels(feats, "spending_type")
    if len(feats) < 20 or types.value_counts().min() < 2:
        raise MonilabError("need at least 20 users and 2 of every spending type to train")
    if one.test_rows.empty:
        raise MonilabError("cannot train the forecast: no user has 3 months of history")
    train_users, test_users = train_test_split(
        feats.index, test_size=0.25, random_state=random_state, stratify=types
    )
    type_users = fit_sample(pd.Index(train_users), types, max_train_users, random_state)
    log.info("type models on %d of %d training users", len(type_users), len(train_users))
    prepared = TrainingData(
        info=info,
        feats=feats,
        types=types,
        fit_users=fit_users,
        hourly_ids=hourly_ids,
        test_users=pd.Index(test_users),
        train_users=pd.Index(train_users),
        type_users=type_users,
    )
    return prepared, one


def fit_first_stage(
    prepared: TrainingData,
    one: shards.PassOne,
    *,
    hourly_users: int,
    random_state: int,
    n_estimators: int,
    n_jobs: int,
) -> FittedModels:
    """Every learner of the first stage (:func:`fit_models`), with the hourly slots built
    from the first pass when ``hourly_users`` > 0."""
    slots = None
    if hourly_users > 0:
        info = prepared.info
        slots = hourly_slots(
            one.hourly_tx,
            max_users=hourly_users,
            seed=random_state,
            span=(info.first_ts, info.last_ts),
        )
    fitted = fit_models(
        one,
        prepared.feats,
        prepared.type_users,
        slots,
        random_state=random_state,
        n_estimators=n_estimators,
        n_jobs=n_jobs,
    )
    return FittedModels(
        types={"kmeans": fitted["kmeans"], **{n: fitted[f"type_{n}"] for n in ESTIMATORS}},
        style=fitted["style"],
        scorer=fitted["anomaly"],
        forecast={
            "lightgbm": fitted["forecast_lightgbm"],
            "xgboost": fitted["forecast_xgboost"],
            "overrun": fitted["overrun"],
        },
        hourly=fitted.get("hourly"),
    )


def summary_metrics(
    data: str | Path,
    prepared: TrainingData,
    one: shards.PassOne,
    models: FittedModels,
    *,
    max_train_users: int,
    random_state: int,
) -> dict[str, Any]:
    """The head of ``metrics.json``: the data, the fit sample and the held-out type metrics
    (with the best classifier as ``app_model``)."""
    held_out = evaluate_types(models.types, models.style, prepared.feats.loc[prepared.test_users])
    return {
        "data": str(data),
        "users": len(prepared.feats),
        "transactions": prepared.info.rows,
        "random_state": random_state,
        "fit_sample": {
            "max_train_users": max_train_users,
            "type_users": len(prepared.type_users),
            "users": len(prepared.fit_users),
            "anomaly_rows": len(one.txn_sample),
            "forecast_rows": min(len(one.fit_rows), MAX_FORECAST_FIT_ROWS),
        },
        "types": {
            "held_out": held_out,
            "app_model": max(ESTIMATORS, key=lambda n: held_out[n]["macro_f1"]),
        },
    }


MIN_USAGE_USERS = 50
"""Fewer users with live requests than this leave the app-usage evaluation unscored (the
boosted classifier cannot split on folds of a few dozen users)."""

MAX_ANOMALY_EVAL_USERS = 1_000
"""Held-out users whose transactions the per-kind anomaly evaluation scores (a seeded sample).
Its bootstrap costs positives × users × resamples: 2,000 users (1.65 M transactions at
100k × 365) took 3 min of the 100k training; 1,000 take about a quarter of that, with
intervals about 1.4 times wider (at 2,000: Isolation Forest PR-AUC 0.264 [0.250, 0.283])."""


def anomaly_evaluator(
    prepared: TrainingData, one: shards.PassOne, scorer: anomaly.AnomalyScorer
) -> TxnEvaluator | None:
    """The per-kind evaluation of the anomaly methods: the rules-plus-models combination fitted
    on the labelled sample of the training users (held-out users left out), evaluated on at
    most :data:`MAX_ANOMALY_EVAL_USERS` held-out users. None without labels."""
    sample = one.txn_sample
    if sample.empty or "anomaly_kind" not in sample.columns:
        return None
    held_out = prepared.test_users.to_numpy()
    train = sample[~sample["user_id"].isin(held_out).to_numpy()]
    if not (kind_codes(train) >= 0).any():
        return None
    stacked = StackedDetector(random_state=0).fit(train, scorer)
    users = sample_users(held_out, MAX_ANOMALY_EVAL_USERS, 0)
    return TxnEvaluator(scorer, stacked, users)


def anomaly_held_out(evaluator: TxnEvaluator | None, frame: pd.DataFrame) -> dict[str, Any]:
    """``held_out`` (per-kind metrics with intervals, every method) and ``headline`` (the best
    model against the best rule) of the anomaly section; empty without an evaluation."""
    if evaluator is None or frame.empty or not (frame["kind"] >= 0).any():
        return {}
    log.info("per-kind anomaly evaluation on %d held-out transactions", len(frame))
    result = evaluate_anomalies(frame, evaluator.stacked.choice_)
    return {"headline": result.pop("headline"), "held_out": result}


def score_and_evaluate(
    prepared: TrainingData, one: shards.PassOne, models: FittedModels, out: Path, n_jobs: int
) -> tuple[Scoring, shards.PassTwo]:
    """Score every part (writing the notifications), then evaluate the forecast on the test
    weeks and the anomaly methods on every cell; also the pass, whose kept users' scores and
    cells feed the extras (its evaluation columns and predictions are freed). The anomaly
    methods are also measured per kind on held-out users' transactions, rules beside models
    (:func:`anomaly_held_out`)."""
    evaluator = anomaly_evaluator(prepared, one, models.scorer)
    if evaluator is not None:
        joblib.dump(evaluator.stacked, out / f"{STACKED}.joblib")
    two = shards.anomaly_pass(
        prepared.info,
        models.scorer,
        out=out,
        keep_users=prepared.fit_users,
        one=one,
        forecasters=models.forecast,
        n_jobs=n_jobs,
        evaluator=evaluator,
    )
    log.info("forecast evaluation on %d test cells", len(one.test_rows))
    forecast_metrics = {
        "train_last_week": str(one.fit_rows["week"].max().date()),
        "test_first_week": str(one.test_rows["week"].min().date()),
        **evaluate_forecast(models.forecast, one.test_rows, one.budget, two.predictions),
    }
    weekly = weekly_totals(one.test_rows, two.predictions)
    two.predictions = {}
    log.info("anomaly evaluation on %d cells", two.cells)
    # one method at a time: the precision-recall curve of tens of millions of cells is large
    ranked, curves = anomaly_metrics(two.eval, two.cells, n_jobs=1)
    anomaly_section = {**ranked, "scored_transactions": two.scored_rows, "notifications": two.notes}
    anomaly_section.update(anomaly_held_out(evaluator, two.txn_eval))
    two.eval, two.txn_eval = {}, pd.DataFrame()  # freed before the extras
    return Scoring(forecast_metrics, anomaly_section, curves, weekly), two


def fit_extras(
    prepared: TrainingData,
    one: shards.PassOne,
    models: FittedModels,
    two: shards.PassTwo,
    out: Path,
    *,
    real: RealLedger | None,
    random_state: int,
    n_estimators: int,
) -> dict[str, Any]:
    """:func:`analysis.extras.train_extras` on the sampled users' rows; their metrics."""
    users, fit_users = prepared.info.users, prepared.fit_users
    kept = one.test_rows["user_id"].isin(fit_users).to_numpy()
    sampled = prepared.feats.index.isin(fit_users)
    return extras.train_extras(
        users[users["user_id"].isin(fit_users)],
        one.fit_tx,
        prepared.feats[sampled],
        out,
        scorer=models.scorer,
        scored=two.kept_scored,
        cells=two.kept_cells,
        forecast_models=models.forecast,
        train_rows=one.fit_rows,
        test_rows=one.test_rows[kept].reset_index(drop=True),
        budget=one.budget,
        real=real,
        random_state=random_state,
        n_estimators=n_estimators,
    )


def save_models(
    out: Path,
    prepared: TrainingData,
    models: FittedModels,
    budget: pd.Series,
    *,
    app_model: str,
    max_train_users: int,
    random_state: int,
    n_estimators: int,
) -> None:
    """Retrain the best classifier on every user (at most ``max_train_users``) as the app
    model and write every artifact of :data:`ARTIFACTS`."""
    feats = prepared.feats
    app_users = fit_sample(feats.index, prepared.types, max_train_users, random_state)
    model = UserClassifier(app_model, n_estimators=n_estimators, random_state=random_state)
    model.fit(feats.loc[app_users], feats.loc[app_users, "spending_type"])
    joblib.dump(model, out / "spending_type.joblib")
    joblib.dump(models.types, out / "type_models.joblib")
    joblib.dump(models.style, out / "style_model.joblib")
    joblib.dump(models.scorer, out / "anomaly.joblib")
    joblib.dump({**models.forecast, "budget": budget}, out / "forecast.joblib")


def train(
    data: str | Path,
    out: str | Path,
    *,
    eval_data: str | Path | None = None,
    perturbed_data: str | Path | None = None,
    random_state: int = 0,
    n_estimators: int = 200,
    test_weeks: int = 4,
    hourly_users: int = 500,
    real: RealLedger | None = None,
    max_train_users: int = MAX_TRAIN_USERS,
    n_jobs: int = N_JOBS,
    app: AppDataset | None = None,
) -> TrainingResult:
    """Train, evaluate and save every model; return the metrics (also in ``metrics.json``)
    and the data of the model card's figures (the card: :mod:`monilab.lab.report.model_card`).

    The extras (:mod:`analysis.extras`: notifications, recommendations, segments, behaviour
    score) are always fitted; with ``real`` (real transactions and their source, see
    :func:`calibration.adapters.real_transactions`) the forecast and anomaly pipelines also run
    on that real data (``real`` section, TSTR/TRTR).

    Type models are evaluated on held-out users (25 %) and, with ``eval_data``, on every
    user of another dataset; the forecast on the last ``test_weeks`` weeks of every user; the
    anomaly methods on every user-day-category cell; the hourly-slot models (LightGBM vs
    logistic) on a sample of ``hourly_users`` users (0 skips them). Learners are fitted on at
    most ``max_train_users`` users (see the module docstring); ``n_jobs`` processes. The
    ``types`` section also holds :func:`analysis.type_eval.evaluate_generalisation`: held-out
    personas, the ``perturbed_data`` population and the ``eval_data`` one, the worst as
    ``headline``.

    With ``app`` (:func:`analysis.app_dataset.build_app_dataset`: ``data`` is then the app's
    export joined to the ground truth) ``trained_on`` says so, with the join's counts, and
    ``app_usage`` scores what the request log's usage features add to the type model
    (:func:`analysis.app_usage.usage_evaluation`).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prepared, one = read_training_data(
        data,
        test_weeks=test_weeks,
        hourly_users=hourly_users,
        max_train_users=max_train_users,
        random_state=random_state,
        n_jobs=n_jobs,
    )
    sizes = {"random_state": random_state, "n_estimators": n_estimators}
    models = fit_first_stage(prepared, one, hourly_users=hourly_users, n_jobs=n_jobs, **sizes)
    metrics = summary_metrics(
        data, prepared, one, models, max_train_users=max_train_users, random_state=random_state
    )
    scoring, two = score_and_evaluate(prepared, one, models, out, n_jobs)
    metrics["forecast"], metrics["anomaly"] = scoring.forecast, scoring.anomaly
    metrics.update(fit_extras(prepared, one, models, two, out, real=real, **sizes))
    budget = one.budget
    del one, two
    if models.hourly is not None:
        metrics["hourly"] = models.hourly
    app_model = metrics["types"]["app_model"]
    save_models(
        out, prepared, models, budget, app_model=app_model, max_train_users=max_train_users, **sizes
    )
    other_seed = None
    if eval_data is not None:
        metrics["eval"], other_features = evaluate_dataset(
            out, eval_data, test_weeks=test_weeks, n_jobs=n_jobs
        )
        other_seed = (eval_data, other_features)
    metrics["types"].update(
        type_eval.evaluate_generalisation(
            data,
            prepared.feats,
            prepared.info.users,
            models.types,
            models.style,
            app_model=app_model,
            perturbed_data=perturbed_data,
            other_seed=other_seed,
            max_train_users=max_train_users,
            n_jobs=n_jobs,
            **sizes,
        )
    )
    metrics["trained_on"] = trained_on(data, app)
    if app is not None:
        metrics["app_usage"] = usage_evaluation(
            prepared.feats,
            app.usage,
            prepared.types,
            spending_features=TYPE_FEATURES,
            seed=random_state,
            min_users=MIN_USAGE_USERS,
        )
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1, default=str))
    return TrainingResult(metrics, scoring.pr_curves, scoring.weekly)


def trained_on(data: str | Path, app: AppDataset | None) -> dict[str, Any]:
    """What the models learned from: a generated dataset, or the app's export joined to the
    ground truth (with the join's counts)."""
    if app is None:
        return {"kind": "generated dataset", "data": str(data)}
    return {"kind": "app export joined to the ground truth", "data": str(data), **app.join}


def weekly_totals(test: pd.DataFrame, predictions: dict[str, np.ndarray]) -> WeeklyTotals:
    """Weekly totals over the test users: actual, 4-week mean and the two-stage forecasts."""
    week = test["week"]
    weekly = {
        "actual": test["amount"].groupby(week).sum().to_numpy(),
        "4-week mean": test["mean4"].groupby(week).sum().to_numpy(),
    }
    for backend in ("lightgbm", "xgboost"):
        median = pd.Series(predictions[f"{backend}_median"], index=test.index)
        weekly[f"two-stage {backend} (medians)"] = median.groupby(week).sum().to_numpy()
    mean = pd.Series(predictions["lightgbm_mean"], index=test.index)
    weekly["two-stage lightgbm (means)"] = mean.groupby(week).sum().to_numpy()
    return WeeklyTotals(weeks=np.sort(week.unique()), series=weekly)


def evaluate(
    models: str | Path, data: str | Path, *, test_weeks: int = 4, n_jobs: int = N_JOBS
) -> dict[str, Any]:
    """Metrics of saved models on another dataset (types on all users, anomaly methods on
    every cell, forecast on its last ``test_weeks`` weeks with budgets from its earlier
    weeks), read part by part."""
    result, features = evaluate_dataset(models, data, test_weeks=test_weeks, n_jobs=n_jobs)
    models = Path(models)
    type_models = joblib.load(models / "type_models.joblib")
    style = joblib.load(models / "style_model.joblib")
    return {**result, "types": evaluate_types(type_models, style, features)}


def evaluate_dataset(
    models: str | Path, data: str | Path, *, test_weeks: int = 4, n_jobs: int = N_JOBS
) -> tuple[dict[str, Any], pd.DataFrame]:
    """:func:`evaluate` without the type models (training scores those against the label
    history, :mod:`analysis.type_eval`), and the dataset's labelled user features. With the
    saved rules-plus-models combination the anomaly section also has the per-kind evaluation
    (``headline``, ``held_out``) on at most :data:`MAX_ANOMALY_EVAL_USERS` of its users."""
    models = Path(models)
    missing = [a for a in ARTIFACTS if not (models / f"{a}.joblib").is_file()]
    if missing:
        raise MonilabError(f"{models}: missing model artifact(s) {', '.join(missing)}")
    info = shards.scan(data)
    none = np.array([], dtype=np.int64)
    try:
        one = shards.features_pass(
            info,
            test_weeks=test_weeks,
            fit_users=none,
            hourly_users=none,
            random_state=0,
            n_jobs=n_jobs,
        )
    except ValueError as exc:
        raise MonilabError(f"cannot evaluate the forecast: {exc}") from None
    feats = _passes_labels(info.users, one.features)
    result: dict[str, Any] = {"data": str(data), "users": len(feats)}
    scorer = joblib.load(models / "anomaly.joblib")
    fc = joblib.load(models / "forecast.joblib")
    evaluator = None
    if (models / f"{STACKED}.joblib").is_file():
        users = sample_users(info.tx_users, MAX_ANOMALY_EVAL_USERS, 0)
        evaluator = TxnEvaluator(scorer, joblib.load(models / f"{STACKED}.joblib"), users)
    two = shards.anomaly_pass(
        info,
        scorer,
        out=None,
        keep_users=none,
        one=one,
        forecasters=fc,
        n_jobs=n_jobs,
        evaluator=evaluator,
    )
    result["anomaly"], _ = anomaly_metrics(two.eval, two.cells, n_jobs)
    result["anomaly"].update(anomaly_held_out(evaluator, two.txn_eval))
    if not one.test_rows.empty:
        result["forecast"] = evaluate_forecast(fc, one.test_rows, one.budget, two.predictions)
    return result, feats
