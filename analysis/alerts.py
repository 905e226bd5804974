"""Alerts → notifications: learned-anomaly and forecast-overrun alerts, the monthly risky
spend report, and :class:`AppAlerter`, the artifact the app serves them from.

Every notification frame has ``user_id, notify_on, kind, category, message`` and
:func:`combine` keeps at most one per user, day and kind (the seed's rule: the same alert is
never sent twice on a day). Message styles follow the seed (000, 5.3/5.4):

- overspend (IQR fence, :func:`analysis.anomaly.notifications`): "어제 food에서 12,000원만큼
  과소비가 발생했어요 T.T" / "어제 food에서 평소보다 소비가 높았어요"; calm days: "어제는
  충동적인 소비가 없었어요 >,<!";
- unusual (ensemble score above its threshold, amount within the fence): "어제 food에서 평소와
  다른 소비가 있었어요";
- overrun (forecast): "다음 주 예산을 넘을 확률이 72%예요. food 지출을 미리 계획해 보세요";
- risk report (monthly): "2024-03 위험 소비 Top 10: 1) travel 320,000원 …".

The ensemble threshold of the app is absolute: each learned score is turned into its
percentile among the training transactions' scores (the ensemble's rank average, ranked
against the training population rather than the batch), and the threshold is set so that the
share of alerted cells equals the IQR rule's alert share on the training data (the same alert
budget as the evaluation).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis import anomaly, forecast
from analysis.features import CONSUMPTION, check_transactions

KEYS = ["user_id", "notify_on", "kind"]
COLUMNS = ["user_id", "notify_on", "kind", "category", "message"]
OVERRUN_THRESHOLD = 0.5
"""Overrun probability from which the forecast alert is sent."""
HISTORY_DAYS = 120
"""Days of a user's history the app alerter scores (features are relative to the user)."""
REFERENCE_POINTS = 1001


def combine(*frames: pd.DataFrame) -> pd.DataFrame:
    """Notification frames merged, at most one per user, day and kind (first one wins).

    A ``calm`` note ("no impulsive spending yesterday") is dropped where the same user and
    day has an ``overspend`` or ``unusual`` alert, so the two never contradict each other.
    """
    parts = [f[[c for c in COLUMNS if c in f.columns]] for f in frames if len(f)]
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(parts, ignore_index=True).drop_duplicates(KEYS)
    family = out["kind"].str.split(":").str[0]
    alerted = out[family.isin(["overspend", "unusual"])][["user_id", "notify_on"]]
    contradicted = pd.MultiIndex.from_frame(out[["user_id", "notify_on"]]).isin(
        pd.MultiIndex.from_frame(alerted)
    )
    out = out[~((family == "calm").to_numpy() & contradicted)]
    return out.sort_values(KEYS, kind="stable").reset_index(drop=True)


def unusual_message(category: str) -> str:
    """The alert for a cell the learned models flag while its sum is within the fence."""
    return f"어제 {category}에서 평소와 다른 소비가 있었어요"


def unusual_notifications(cells: pd.DataFrame, score: str, threshold: float) -> pd.DataFrame:
    """Cells whose ``score`` column is at least ``threshold``, as next-day notifications.

    The kind is ``unusual:<category>``; the message names the overspend when the cell is also
    above its IQR fence.
    """
    hit = cells[cells[score] >= threshold]
    over = hit["excess"].fillna(-1) > 0
    messages = [
        anomaly.overspend_message(c, e) if o else unusual_message(c)
        for c, e, o in zip(hit["category"].astype(str), hit["excess"], over, strict=True)
    ]
    return combine(
        pd.DataFrame(
            {
                "user_id": hit["user_id"],
                "notify_on": hit["day"] + pd.Timedelta(days=1),
                "kind": "unusual:" + hit["category"].astype(str),
                "category": hit["category"].astype(str),
                "message": messages,
            }
        )
    )


def overrun_message(probability: float, category: str | None) -> str:
    """The forecast alert text."""
    text = f"다음 주 예산을 넘을 확률이 {probability:.0%}예요."
    if category:
        text += f" {category} 지출을 미리 계획해 보세요"
    return text


def overrun_notifications(
    weeks: pd.DataFrame, probability: np.ndarray, top_category: pd.Series | None = None
) -> pd.DataFrame:
    """Forecast alerts for user-weeks whose overrun probability reaches the threshold.

    Args:
        weeks: :func:`analysis.forecast.user_weeks` rows (index user_id, week).
        probability: Overrun probability of each row.
        top_category: Optional category each (user, week) will most likely spend most in.
    """
    hit = weeks.index[np.asarray(probability) >= OVERRUN_THRESHOLD]
    p = pd.Series(probability, index=weeks.index)[hit]
    cats = [None if top_category is None else top_category.get(key) for key in hit]
    return combine(
        pd.DataFrame(
            {
                "user_id": hit.get_level_values("user_id"),
                "notify_on": hit.get_level_values("week"),
                "kind": "overrun",
                "category": cats,
                "message": [overrun_message(v, c) for v, c in zip(p, cats, strict=True)],
            }
        )
    )


def monthly_report(top: pd.DataFrame, show: int = 10) -> pd.DataFrame:
    """One ``risk_report`` notification per user and month from
    :func:`analysis.anomaly.monthly_top_risky` rows (sent on the 1st of the next month)."""
    top = top[top["rank"] <= show].sort_values(["user_id", "month", "rank"], kind="stable")
    if top.empty:
        return combine()
    amounts = np.round(top["amount"].to_numpy(dtype=float)).astype(np.int64)
    items = [
        f"{rank}) {category} {amount:,}원" + (f" ({merchant})" if _named(merchant) else "")
        for rank, category, amount, merchant in zip(
            top["rank"], top["category"], amounts, top["merchant"], strict=True
        )
    ]
    user, month = top["user_id"].to_numpy(), top["month"].to_numpy()
    first = np.ones(len(top), dtype=bool)
    first[1:] = (user[1:] != user[:-1]) | (month[1:] != month[:-1])
    starts = np.flatnonzero(first)
    ends = [*starts[1:], len(top)]
    months = month[starts]
    messages = [
        f"{m} 위험 소비 Top 10: " + "; ".join(items[a:b])
        for m, a, b in zip(months, starts, ends, strict=True)
    ]
    notify_on = pd.to_datetime(pd.Series(months), format="%Y-%m") + pd.offsets.MonthBegin(1)
    report = pd.DataFrame(
        {
            "user_id": user[starts],
            "notify_on": notify_on.to_numpy(),
            "kind": "risk_report",
            "category": None,
            "message": messages,
        }
    )
    return combine(report)


def _named(merchant: object) -> bool:
    return isinstance(merchant, str) and bool(merchant)


def future_rows(tx: pd.DataFrame) -> pd.DataFrame:
    """Weekly rows of every user with the week after the last complete one appended
    (``amount`` NaN there), lags recomputed; the future rows are those of the last week."""
    rows = forecast.weekly_rows(tx)
    last = rows["week"].max()
    future = rows[rows["week"] == last][["user_id", "category"]].assign(
        week=last + pd.Timedelta(days=7), amount=np.nan
    )
    grid = pd.concat([rows[["user_id", "week", "category", "amount"]], future])
    grid["category"] = pd.Categorical(grid["category"].astype(str), categories=list(CONSUMPTION))
    return forecast.weekly_rows(tx, grid)


class AppAlerter:
    """The app's anomaly and forecast alerts from trained models (one user at a time).

    Args:
        scorer: A fitted :class:`analysis.anomaly.AnomalyScorer`.
        reference: Learned scores of training transactions (columns ``isolation_forest`` and
            ``kmeans``), reduced to quantiles.
        threshold: Absolute ensemble score from which a cell is alerted.
        forecaster: A fitted two-stage forecaster.
        overrun: A fitted :class:`analysis.forecast.OverrunClassifier`.
    """

    min_history_days = forecast.MIN_HISTORY_DAYS

    def __init__(
        self,
        scorer: anomaly.AnomalyScorer,
        reference: pd.DataFrame,
        threshold: float,
        forecaster: forecast.TwoStageForecaster,
        overrun: forecast.OverrunClassifier,
    ) -> None:
        q = np.linspace(0, 1, REFERENCE_POINTS)
        self.scorer = scorer
        self.reference = {m: np.quantile(reference[m], q) for m in ("isolation_forest", "kmeans")}
        self.threshold = float(threshold)
        self.forecaster = forecaster
        self.overrun = overrun

    def absolute_ensemble(self, scores: pd.DataFrame) -> np.ndarray:
        """Mean percentile of the learned scores among the training transactions."""
        parts = [
            np.searchsorted(self.reference[m], scores[m].to_numpy(), side="right")
            / REFERENCE_POINTS
            for m in ("isolation_forest", "kmeans")
        ]
        return (parts[0] + parts[1]) / 2

    def cells(self, spendings: pd.DataFrame) -> pd.DataFrame:
        """IQR cells of the user's spendings with the absolute ensemble score (``app_score``)."""
        tx = check_transactions(spendings)
        tx = tx[tx["ts"] >= tx["ts"].max().normalize() - pd.Timedelta(days=HISTORY_DAYS)]
        scored = anomaly.score_transactions(tx, self.scorer)
        scored["app_score"] = self.absolute_ensemble(scored)
        per_cell = scored.groupby(anomaly.CELL_KEYS, observed=True)["app_score"].max()
        return anomaly.iqr_cells(tx).merge(per_cell.reset_index(), on=anomaly.CELL_KEYS)

    def anomaly_alert(self, spendings: pd.DataFrame, day: pd.Timestamp) -> dict[str, Any]:
        """The alert about ``day`` (the app's "yesterday"): ``kind``, ``message``,
        ``categories`` flagged (largest score first) and their ``scores``."""
        cells = self.cells(spendings)
        cells = cells[cells["day"] == pd.Timestamp(day).normalize()]
        flagged = cells[cells["app_score"] >= self.threshold].sort_values(
            "app_score", ascending=False
        )
        if flagged.empty:
            return {"kind": "anomaly", "message": anomaly.CALM_MESSAGE, "categories": []}
        notes = unusual_notifications(flagged, "app_score", self.threshold)
        first = notes.set_index("category").loc[str(flagged["category"].iloc[0]), "message"]
        message = str(first) + (f" (외 {len(flagged) - 1}개 항목)" if len(flagged) > 1 else "")
        return {
            "kind": "anomaly",
            "message": message,
            "categories": flagged["category"].astype(str).tolist(),
            "scores": [round(float(s), 4) for s in flagged["app_score"]],
        }

    def forecast_alert(self, spendings: pd.DataFrame) -> dict[str, Any]:
        """Next week's forecast for one user: per category probability and amount, the
        overrun probability against the user's budget (mean weekly consumption so far) and
        the message; ``status`` is ``not_enough_data`` under 3 months of history."""
        tx = check_transactions(spendings)
        rows = future_rows(tx)
        week = rows["week"].max()
        future = rows[rows["week"] == week].reset_index(drop=True)
        if future.empty or future["history_days"].max() < self.min_history_days:
            return {"status": "not_enough_data", "min_history_days": self.min_history_days}
        past = rows[rows["week"] < week]
        budget = forecast.weekly_budget(past)
        weeks = forecast.user_weeks(future.fillna({"amount": 0.0}), budget)
        probability = float(self.overrun.predict_proba(weeks)[0])
        p, _ = self.forecaster.components(future)
        expected = self.forecaster.predict_mean(future)
        top = str(future["category"].iloc[int(np.argmax(expected))])
        return {
            "status": "ok",
            "week": str(week.date()),
            "budget": round(float(budget.iloc[0])),
            "expected_total": round(float(expected.sum())),
            "overrun_probability": round(probability, 4),
            "alert": probability >= OVERRUN_THRESHOLD,
            "message": overrun_message(probability, top),
            "categories": [
                {
                    "category": str(c),
                    "probability": round(float(pc), 4),
                    "expected": round(float(e)),
                }
                for c, pc, e in zip(future["category"], p, expected, strict=True)
            ],
        }


def fit_alerter(
    scorer: anomaly.AnomalyScorer,
    scored: pd.DataFrame,
    cells: pd.DataFrame,
    forecast_models: dict[str, Any],
) -> tuple[AppAlerter, dict[str, Any], pd.DataFrame]:
    """The app alerter with its threshold at the IQR rule's alert share, how its alerts fare
    on the training cells (precision and recall against the injected labels), and the cells
    with their absolute ensemble score (``app_score``)."""
    probe = AppAlerter(scorer, scored, 1.0, forecast_models["lightgbm"], forecast_models["overrun"])
    scored = scored.assign(app_score=probe.absolute_ensemble(scored))
    per_cell = scored.groupby(anomaly.CELL_KEYS, observed=True)["app_score"].max()
    cells = cells.merge(per_cell.reset_index(), on=anomaly.CELL_KEYS, how="left")
    cells["app_score"] = cells["app_score"].fillna(0.0)
    share = float(cells["is_alert"].mean())
    threshold = float(np.quantile(cells["app_score"], 1 - share)) if share else 1.0
    probe.threshold = threshold
    flagged = cells["app_score"] >= threshold
    out: dict[str, Any] = {"threshold": threshold, "alert_share": share}
    if "is_anomaly" in cells.columns:
        y = cells["is_anomaly"].fillna(False).to_numpy(bool)
        for name, mask in (("app_ensemble", flagged.to_numpy()), ("iqr", cells["is_alert"])):
            mask = np.asarray(mask, bool)
            out[name] = {
                "alerts": int(mask.sum()),
                "precision": float(y[mask].mean()) if mask.any() else 0.0,
                "recall": float(mask[y].mean()) if y.any() else 0.0,
            }
    return probe, out, cells
