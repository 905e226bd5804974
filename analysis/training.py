"""Train every model on a dataset, evaluate them (also on another dataset) and save them.

Artifacts in the models directory (all ``joblib``):

- ``spending_type.joblib``: the app's type model (``predict_user(spendings) -> type``);
- ``type_models.joblib``: the K-means clusterer and the three type classifiers;
- ``style_model.joblib``: the style classifier;
- ``anomaly.joblib``: the Isolation Forest + K-means scorer;
- ``forecast.joblib``: the two-stage forecasters and the overrun classifier.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split

from analysis import anomaly, extras, forecast, metrics, report
from analysis.features import hourly_slots, user_features
from analysis.hourly import evaluate_slots
from analysis.type_model import ESTIMATORS, TypeClusterer, UserClassifier
from monilab.errors import MonilabError
from monilab.schema import SPENDING_TYPES, STYLES, read_dataset

log = logging.getLogger(__name__)

ARTIFACTS = ("spending_type", "type_models", "style_model", "anomaly", "forecast")
MAX_ANOMALY_FIT_ROWS = 200_000
MAX_FORECAST_FIT_ROWS = 1_000_000


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


def evaluate_anomaly(
    scorer: anomaly.AnomalyScorer, tx: pd.DataFrame, scored: pd.DataFrame | None = None
) -> tuple[dict, pd.DataFrame]:
    """Each method's PR-AUC and precision/recall at the IQR rule's alert budget, on cells."""
    cells = anomaly.cell_scores(tx, scorer, scored)
    budget = int(cells["is_alert"].sum())
    out: dict[str, Any] = {"cells": len(cells), "iqr_alerts": budget}
    if "is_anomaly" in cells.columns and cells["is_anomaly"].notna().any():
        y = cells["is_anomaly"].fillna(False).to_numpy(bool)
        for method in anomaly.METHODS:
            out[method] = metrics.ranking(y, cells[method].to_numpy(), budget)
    return out, cells


def evaluate_forecast(models: dict[str, Any], test: pd.DataFrame, budget: pd.Series) -> dict:
    """Occurrence AUC/Brier vs base rate; MAE/WAPE of cells and weekly totals; overrun.

    Two-stage cells use the mixture median (MAE-optimal); weekly totals sum the category
    means (a sum of medians underestimates a total), as the forecast module documents.
    """
    y = test["amount"].to_numpy(float)
    keys = [test["user_id"], test["week"]]
    totals = test.groupby(["user_id", "week"])["amount"].sum()
    out: dict[str, Any] = {"cells": len(test), "zero_forecast": metrics.errors(y, 0 * y)}
    for name, column in forecast.BASELINES.items():
        guess = test[column].fillna(0.0).to_numpy()
        out[name] = {
            "cells": metrics.errors(y, guess),
            "weekly_total": metrics.errors(totals, pd.Series(guess).groupby(keys).sum()),
        }
    for backend in ("lightgbm", "xgboost"):
        model: forecast.TwoStageForecaster = models[backend]
        p, _ = model.components(test)
        point = model.predict(test)
        expected = pd.Series(model.predict_mean(test))
        out[f"two_stage_{backend}"] = {
            "cells": metrics.errors(y, point),
            "weekly_total": metrics.errors(totals, expected.groupby(keys).sum()),
            "weekly_total_of_medians": metrics.errors(totals, pd.Series(point).groupby(keys).sum()),
            "occurrence_auc": float(roc_auc_score(y > 0, p)),
            "occurrence_brier": float(brier_score_loss(y > 0, p)),
            "base_rate_brier": float(brier_score_loss(y > 0, np.full(len(y), model.base_rate_))),
        }
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


def fit_types(
    feats: pd.DataFrame, random_state: int, n_estimators: int
) -> tuple[dict, UserClassifier]:
    """The clusterer and the three type classifiers, and the style classifier."""
    models: dict[str, Any] = {"kmeans": TypeClusterer(random_state=random_state).fit(feats)}
    for name in ESTIMATORS:
        models[name] = UserClassifier(name, n_estimators=n_estimators, random_state=random_state)
        models[name].fit(feats, _labels(feats, "spending_type"))
    style = UserClassifier(n_estimators=n_estimators, random_state=random_state)
    return models, style.fit(feats, _labels(feats, "style"))


def fit_forecast(
    train: pd.DataFrame, random_state: int, n_estimators: int
) -> tuple[dict[str, Any], pd.Series]:
    """Both two-stage forecasters and the overrun classifier; also the users' budgets."""
    budget = forecast.weekly_budget(train)
    sample = train
    if len(train) > MAX_FORECAST_FIT_ROWS:
        sample = train.sample(MAX_FORECAST_FIT_ROWS, random_state=random_state)
    models: dict[str, Any] = {}
    for backend in ("lightgbm", "xgboost"):
        models[backend] = forecast.TwoStageForecaster(
            backend, n_estimators=n_estimators, random_state=random_state
        ).fit(sample, sample["amount"])
    weeks = forecast.user_weeks(train, budget)
    models["overrun"] = forecast.OverrunClassifier(
        n_estimators=n_estimators // 2, random_state=random_state
    ).fit(weeks, weeks["overrun"])
    return models, budget


def train(
    data: str | Path,
    out: str | Path,
    *,
    eval_data: str | Path | None = None,
    random_state: int = 0,
    n_estimators: int = 200,
    test_weeks: int = 4,
    hourly_users: int = 500,
    real: str | Path | None = None,
    real_mapping: str | Path | None = None,
) -> dict[str, Any]:
    """Train, evaluate and save every model; return the metrics (also in ``metrics.json``).

    The extras (:mod:`analysis.extras`: notifications, recommendations, segments, behaviour
    score) are always fitted; with ``real`` and/or ``real_mapping`` the forecast and anomaly
    pipelines also run on that real microdata (``real`` section, TSTR/TRTR).

    Type models are evaluated on held-out users (25 %) and, with ``eval_data``, on every
    user of another dataset; the forecast on the last ``test_weeks`` weeks; the hourly-slot
    models (LightGBM vs logistic) on a sample of ``hourly_users`` users (0 skips them).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    users, tx = load(data)
    feats = labelled_features(users, tx)
    types = _labels(feats, "spending_type")
    if len(feats) < 20 or types.value_counts().min() < 2:
        raise MonilabError("need at least 20 users and 2 of every spending type to train")
    train_users, test_users = train_test_split(
        feats.index, test_size=0.25, random_state=random_state, stratify=types
    )
    log.info("type models on %d users", len(train_users))
    type_models, style = fit_types(feats.loc[train_users], random_state, n_estimators)
    result: dict[str, Any] = {
        "data": str(data),
        "users": len(feats),
        "transactions": len(tx),
        "random_state": random_state,
        "types": {"held_out": evaluate_types(type_models, style, feats.loc[test_users])},
    }
    best = max(ESTIMATORS, key=lambda n: result["types"]["held_out"][n]["macro_f1"])
    result["types"]["app_model"] = best

    log.info("anomaly models on %d transactions", len(tx))
    txn_feats = anomaly.transaction_features(tx)
    fit_rows = txn_feats.sample(
        min(len(txn_feats), MAX_ANOMALY_FIT_ROWS), random_state=random_state
    )
    scorer = anomaly.AnomalyScorer(
        n_estimators=min(100, max(n_estimators, 50)), random_state=random_state
    )
    scorer.fit(fit_rows)
    scored = anomaly.score_transactions(tx, scorer)
    result["anomaly"], cells = evaluate_anomaly(scorer, tx, scored)
    notes = anomaly.notifications(cells)
    notes.to_parquet(out / "notifications.parquet", index=False)
    anomaly.monthly_top_risky(scored).to_parquet(out / "risky_top10.parquet", index=False)
    result["anomaly"]["notifications"] = (
        notes["kind"].str.split(":").str[0].value_counts().to_dict()
    )

    log.info("forecast models")
    try:
        train_rows, test_rows = forecast.time_split(forecast.weekly_rows(tx), test_weeks)
    except ValueError as exc:
        raise MonilabError(f"cannot train the forecast: {exc}") from None
    if train_rows.empty or test_rows.empty:
        raise MonilabError("cannot train the forecast: no user has 3 months of history")
    forecast_models, budget = fit_forecast(train_rows, random_state, n_estimators)
    result["forecast"] = {
        "train_last_week": str(train_rows["week"].max().date()),
        "test_first_week": str(test_rows["week"].min().date()),
        **evaluate_forecast(forecast_models, test_rows, budget),
    }

    result.update(
        extras.train_extras(
            users,
            tx,
            feats,
            out,
            scorer=scorer,
            scored=scored,
            cells=cells,
            forecast_models=forecast_models,
            train_rows=train_rows,
            test_rows=test_rows,
            budget=budget,
            real=real,
            real_mapping=real_mapping,
            random_state=random_state,
            n_estimators=n_estimators,
        )
    )

    if hourly_users > 0:
        log.info("hourly-slot models on %d users", hourly_users)
        slots = hourly_slots(tx, max_users=hourly_users, seed=random_state)
        result["hourly"] = evaluate_slots(slots, n_estimators)

    # the app model: retrain the best classifier on every user
    app_model = UserClassifier(best, n_estimators=n_estimators, random_state=random_state)
    app_model.fit(feats, feats["spending_type"])
    joblib.dump(app_model, out / "spending_type.joblib")
    joblib.dump(type_models, out / "type_models.joblib")
    joblib.dump(style, out / "style_model.joblib")
    joblib.dump(scorer, out / "anomaly.joblib")
    joblib.dump({**forecast_models, "budget": budget}, out / "forecast.joblib")
    if eval_data is not None:
        result["eval"] = evaluate(out, eval_data, test_weeks=test_weeks)
    (out / "metrics.json").write_text(json.dumps(result, indent=1, default=str))
    write_card(result, out, cells, test_rows, forecast_models)
    return result


def write_card(
    result: dict[str, Any],
    out: Path,
    cells: pd.DataFrame,
    test_rows: pd.DataFrame,
    forecast_models: dict[str, Any],
) -> Path:
    """The PNG plots and ``model_card.html``."""
    report.plot_confusions(result["types"]["held_out"], out / "confusion.png")
    images = ["confusion.png"]
    if "is_anomaly" in cells.columns:
        y = cells["is_anomaly"].fillna(False).to_numpy(bool)
        curves = {m: metrics.pr_curve(y, cells[m].to_numpy()) for m in anomaly.METHODS}
        report.plot_pr_curves(curves, out / "pr_curves.png")
        images.append("pr_curves.png")
    by_week = test_rows.groupby("week")
    weekly = {"actual": by_week["amount"].sum().to_numpy()}
    weekly["4-week mean"] = by_week["mean4"].sum().to_numpy()
    for backend in ("lightgbm", "xgboost"):
        point = pd.Series(forecast_models[backend].predict(test_rows), index=test_rows.index)
        weekly[f"two-stage {backend} (medians)"] = point.groupby(test_rows["week"]).sum().to_numpy()
    mean = pd.Series(forecast_models["lightgbm"].predict_mean(test_rows), index=test_rows.index)
    weekly["two-stage lightgbm (means)"] = mean.groupby(test_rows["week"]).sum().to_numpy()
    report.plot_forecast(weekly, np.array(sorted(by_week.groups)), out / "forecast.png")
    images.append("forecast.png")
    return report.model_card(result, out, images)


def evaluate(models: str | Path, data: str | Path, *, test_weeks: int = 4) -> dict[str, Any]:
    """Metrics of saved models on another dataset (types on all users, forecast on its
    last ``test_weeks`` weeks with budgets from its earlier weeks)."""
    models = Path(models)
    missing = [a for a in ARTIFACTS if not (models / f"{a}.joblib").is_file()]
    if missing:
        raise MonilabError(f"{models}: missing model artifact(s) {', '.join(missing)}")
    users, tx = load(data)
    feats = labelled_features(users, tx)
    type_models = joblib.load(models / "type_models.joblib")
    style = joblib.load(models / "style_model.joblib")
    result: dict[str, Any] = {"data": str(data), "users": len(feats)}
    result["types"] = evaluate_types(type_models, style, feats)
    result["anomaly"], _ = evaluate_anomaly(joblib.load(models / "anomaly.joblib"), tx)
    try:
        train_rows, test_rows = forecast.time_split(forecast.weekly_rows(tx), test_weeks)
    except ValueError as exc:
        raise MonilabError(f"cannot evaluate the forecast: {exc}") from None
    if not test_rows.empty:
        fc = joblib.load(models / "forecast.joblib")
        result["forecast"] = evaluate_forecast(fc, test_rows, forecast.weekly_budget(train_rows))
    return result
