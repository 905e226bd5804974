"""Tests for analysis.alerts: notifications never duplicate; the app alerter artifact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest

from analysis import alerts, anomaly, forecast


@pytest.fixture(scope="module")
def fitted(transactions: pd.DataFrame) -> dict[str, Any]:
    tx = transactions[transactions["user_id"] <= 80]
    scorer = anomaly.AnomalyScorer(n_estimators=30).fit(anomaly.transaction_features(tx))
    scored = anomaly.score_transactions(tx, scorer)
    cells = anomaly.cell_scores(tx, scorer, scored)
    train, test = forecast.time_split(forecast.weekly_rows(tx), test_weeks=3)
    budget = forecast.weekly_budget(train)
    weeks = forecast.user_weeks(train, budget)
    models = {
        "lightgbm": forecast.TwoStageForecaster(n_estimators=15).fit(train, train["amount"]),
        "overrun": forecast.OverrunClassifier(n_estimators=15).fit(weeks, weeks["overrun"]),
    }
    alerter, metrics, cells = alerts.fit_alerter(scorer, scored, cells, models)
    return {
        "tx": tx,
        "scored": scored,
        "cells": cells,
        "alerter": alerter,
        "metrics": metrics,
        "models": models,
        "test": test,
        "budget": budget,
    }


def test_every_kind_is_at_most_once_per_user_and_day(fitted: dict[str, Any]) -> None:
    cells, alerter = fitted["cells"], fitted["alerter"]
    unusual = alerts.unusual_notifications(cells, "app_score", alerter.threshold)
    iqr = anomaly.notifications(cells)
    weeks = forecast.user_weeks(fitted["test"], fitted["budget"])
    p = fitted["models"]["overrun"].predict_proba(weeks)
    overrun = alerts.overrun_notifications(weeks, np.maximum(p, 0.6))
    report = alerts.monthly_report(anomaly.monthly_top_risky(fitted["scored"]))
    once = alerts.combine(iqr, unusual, overrun, report)
    twice = alerts.combine(iqr, unusual, overrun, report, iqr, unusual, overrun, report)
    assert not twice.duplicated(alerts.KEYS).any()
    pd.testing.assert_frame_equal(once, twice)
    families = set(once["kind"].str.split(":").str[0])
    assert families == {"overspend", "calm", "unusual", "overrun", "risk_report"}
    assert len(overrun) == len(weeks)  # every forced alert kept, one per user-week


def test_calm_never_contradicts_an_alert(fitted: dict[str, Any]) -> None:
    cells, alerter = fitted["cells"], fitted["alerter"]
    notes = alerts.combine(
        anomaly.notifications(cells),
        alerts.unusual_notifications(cells, "app_score", alerter.threshold),
    )
    family = notes["kind"].str.split(":").str[0]
    calm = set(map(tuple, notes[family == "calm"][["user_id", "notify_on"]].to_numpy()))
    other = set(map(tuple, notes[family != "calm"][["user_id", "notify_on"]].to_numpy()))
    assert not calm & other


def test_message_styles() -> None:
    assert (
        anomaly.overspend_message("food", 81_462)
        == "어제 food에서 81,462원만큼 과소비가 발생했어요 T.T"
    )
    assert alerts.unusual_message("coffee") == "어제 coffee에서 평소와 다른 소비가 있었어요"
    assert alerts.overrun_message(0.72, "food").startswith("다음 주 예산을 넘을 확률이 72%예요.")


def test_monthly_report_lists_the_top_ten(fitted: dict[str, Any]) -> None:
    top = anomaly.monthly_top_risky(fitted["scored"])
    report = alerts.monthly_report(top)
    assert (report["kind"] == "risk_report").all()
    assert len(report) == top.groupby(["user_id", "month"]).ngroups
    first = report["message"].iloc[0]
    assert "1) " in first and "10) " in first and "11) " not in first
    assert (report["notify_on"].dt.day == 1).all()


def test_monthly_report_text_is_exact() -> None:
    top = pd.DataFrame(
        {
            "user_id": [2, 1, 1, 1],
            "month": ["2024-12", "2024-03", "2024-03", "2024-03"],
            "rank": [1, 2, 1, 11],
            "category": ["food", "coffee", "shopping", "food"],
            "merchant": ["김밥천국", "", "쿠팡", "x"],
            "amount": [8500.0, 4500.0, 1234567.0, 1.0],
        }
    )
    report = alerts.monthly_report(top)
    assert report["user_id"].tolist() == [1, 2]
    assert report["notify_on"].tolist() == [pd.Timestamp("2024-04-01"), pd.Timestamp("2025-01-01")]
    assert report["message"].tolist() == [
        "2024-03 위험 소비 Top 10: 1) shopping 1,234,567원 (쿠팡); 2) coffee 4,500원",
        "2024-12 위험 소비 Top 10: 1) food 8,500원 (김밥천국)",
    ]
    assert alerts.monthly_report(top.iloc[:0]).empty


def test_app_threshold_matches_the_iqr_budget(fitted: dict[str, Any]) -> None:
    metrics = fitted["metrics"]
    share = metrics["alert_share"]
    assert 0 < share < 1
    flagged = (fitted["cells"]["app_score"] >= metrics["threshold"]).mean()
    assert flagged == pytest.approx(share, abs=0.02)
    assert 0 <= metrics["app_ensemble"]["precision"] <= 1


def test_app_alerter_round_trips_and_alerts_one_user(
    fitted: dict[str, Any], tmp_path: Path
) -> None:
    joblib.dump(fitted["alerter"], tmp_path / "alerts.joblib")
    alerter = joblib.load(tmp_path / "alerts.joblib")
    tx = fitted["tx"]
    one = tx[tx["user_id"] == 3].drop(columns=["is_anomaly"])
    day = one["ts"].max().normalize() - pd.Timedelta(days=1)
    alert = alerter.anomaly_alert(one, day)
    assert alert["kind"] == "anomaly" and alert["message"].startswith("어제")
    fc = alerter.forecast_alert(one)
    assert fc["status"] == "ok" and 0 <= fc["overrun_probability"] <= 1
    assert {c["category"] for c in fc["categories"]} == set(forecast.CONSUMPTION)
    assert fc["message"].startswith("다음 주 예산을 넘을 확률이")
    short = one[one["ts"] >= one["ts"].max() - pd.Timedelta(days=40)]
    assert alerter.forecast_alert(short)["status"] == "not_enough_data"
