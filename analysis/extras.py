"""The seed extras of ``monilab train``: alerts as notifications, recommendations, segments,
the behaviour score, and the real-data check. One call from :mod:`analysis.training`.

Artifacts written next to the core models:

- ``alerts.joblib``: :class:`analysis.alerts.AppAlerter` (the app's anomaly and forecast
  notifications);
- ``recommendations.joblib``: :class:`analysis.recommend.RecommenderArtifact`;
- ``behaviour_score.joblib``: :class:`analysis.behaviour_score.BehaviourScore`;
- ``alerts.parquet``: every notification of the training data (overspend, calm, unusual,
  overrun, risk_report), at most one per user, day and kind;
- ``segments.parquet`` and ``co_use.parquet``: the segment view.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from analysis import alerts, anomaly, behaviour_score, forecast, real_data, recommend, segments

log = logging.getLogger(__name__)


def _overrun_alerts(
    models: dict[str, Any], test_rows: pd.DataFrame, budget: pd.Series
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Forecast alerts on the test weeks and their precision/recall against real overruns."""
    weeks = forecast.user_weeks(test_rows, budget)
    probability = models["overrun"].predict_proba(weeks)
    expected = pd.Series(models["lightgbm"].predict_mean(test_rows), index=test_rows.index)
    top = test_rows.loc[
        expected.groupby([test_rows["user_id"], test_rows["week"]]).idxmax(), "category"
    ]
    top.index = pd.MultiIndex.from_frame(
        test_rows.loc[top.index, ["user_id", "week"]].astype({"user_id": "int64"})
    )
    notes = alerts.overrun_notifications(weeks, probability, top.astype(str))
    flagged = probability >= alerts.OVERRUN_THRESHOLD
    actual = weeks["overrun"].to_numpy(bool)
    return notes, {
        "threshold": alerts.OVERRUN_THRESHOLD,
        "user_weeks": len(weeks),
        "alerts": int(flagged.sum()),
        "precision": float(actual[flagged].mean()) if flagged.any() else 0.0,
        "recall": float(flagged[actual].mean()) if actual.any() else 0.0,
        "overrun_rate": float(actual.mean()),
    }


def train_extras(
    users: pd.DataFrame,
    tx: pd.DataFrame,
    feats: pd.DataFrame,
    out: Path,
    *,
    scorer: anomaly.AnomalyScorer,
    scored: pd.DataFrame,
    cells: pd.DataFrame,
    forecast_models: dict[str, Any],
    train_rows: pd.DataFrame,
    test_rows: pd.DataFrame,
    budget: pd.Series,
    real: real_data.RealLedger | None = None,
    random_state: int = 0,
    n_estimators: int = 200,
) -> dict[str, Any]:
    """Fit, evaluate and save the extras; return their ``metrics.json`` sections.

    Args:
        users, tx: The training dataset.
        feats: :func:`analysis.training.labelled_features` of every user.
        out: The models directory.
        scorer, scored, cells: The fitted anomaly scorer, its transaction scores and the
            evaluation cells of the training data.
        forecast_models, train_rows, test_rows, budget: The fitted forecast models, their
            time split and the users' weekly budgets.
        real: Real transactions and their source description
            (:func:`calibration.adapters.real_transactions`); None: skipped.
        random_state, n_estimators: Seed; boosting rounds of the real-data TRTR models.
    """
    result: dict[str, Any] = {}
    types = feats["spending_type"]
    numeric = feats.drop(columns=[c for c in ("spending_type", "style") if c in feats.columns])

    log.info("notifications: unusual, overrun, monthly risk report")
    app_alerter, result["alerts"], cells = alerts.fit_alerter(
        scorer, scored, cells, forecast_models
    )
    unusual = alerts.unusual_notifications(cells, "app_score", app_alerter.threshold)
    overrun, result["alerts"]["overrun"] = _overrun_alerts(forecast_models, test_rows, budget)
    report = alerts.monthly_report(anomaly.monthly_top_risky(scored))
    merged = alerts.combine(anomaly.notifications(cells), unusual, overrun, report)
    merged.to_parquet(out / "alerts.parquet", index=False)
    result["alerts"]["notifications"] = anomaly.kind_counts(merged["kind"])
    result["alerts"]["duplicates"] = int(merged.duplicated(alerts.KEYS).sum())
    joblib.dump(app_alerter, out / "alerts.joblib")

    log.info("product recommendations")
    held = recommend.holdings(tx, numeric.index)
    kinds = recommend.catalog(tx)
    result["recommendations"], _ = recommend.evaluate(
        numeric, held, kinds, types, random_state=random_state
    )
    final = recommend.ProductRecommender().fit(numeric, held, kinds)
    joblib.dump(recommend.RecommenderArtifact(final), out / "recommendations.joblib")

    log.info("segment view and behaviour score")
    ranking, co_use = segments.segment_view(users, tx)
    ranking.to_parquet(out / "segments.parquet", index=False)
    co_use.to_parquet(out / "co_use.parquet", index=False)
    result["segments"] = segments.summary(ranking, co_use)
    score = behaviour_score.BehaviourScore().fit(numeric)
    result["behaviour_score"] = behaviour_score.summary(score, numeric, types)
    joblib.dump(score, out / "behaviour_score.joblib")

    if real is not None:
        log.info("real data: %s", real[1]["source"])
        result["real"] = real_data.real_check(
            real,
            forecast_models,
            train_rows,
            scorer,
            n_estimators=n_estimators,
            random_state=random_state,
        )
    return result


def headline(result: dict[str, Any]) -> list[str]:
    """Lines for ``monilab train``'s summary."""
    lines = []
    rec = result.get("recommendations", {}).get("at_3")
    if rec:
        lines.append(
            f"recommendations hit@3 CF {rec['collaborative_filtering']['hit_rate']:.3f} "
            f"(with YOLO rule {rec['cf_with_yolo_policy']['hit_rate']:.3f}) "
            f"vs popularity {rec['popularity']['hit_rate']:.3f}"
        )
    real = result.get("real", {}).get("forecast", {}).get("tstr_trtr")
    if real and "ratio" in real:
        lines.append(
            f"real ledger forecast WAPE TSTR/TRTR {real['ratio']:.3f} "
            f"[{real['ratio_ci'][0]:.3f}, {real['ratio_ci'][1]:.3f}] (level-matched "
            f"{real['ratio_level_matched']:.3f}); zero/TRTR {real['zero_over_trtr']:.3f} "
            f"[{real['zero_over_trtr_ci'][0]:.3f}, {real['zero_over_trtr_ci'][1]:.3f}]"
        )
    if "behaviour_score" in result and "mean_by_type" in result["behaviour_score"]:
        by_type = result["behaviour_score"]["mean_by_type"]
        lines.append(
            "behaviour score mean by type: " + ", ".join(f"{k} {v:.0f}" for k, v in by_type.items())
        )
    return lines
