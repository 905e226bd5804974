"""How agents use the app, per user, and whether that usage says anything about their type.

The app's request log (the ``events`` table) records every request with its ``source``.
Only ``locust`` and ``browser`` rows are the agents' live behaviour: ``history`` is their bulk
history upload and ``api`` the lab's own read-back, so both are ignored here. Each live
request is named by its method and URL rule (:data:`ACTIONS`, API routes and the HTML pages
alike); :func:`usage_features` turns a user's successful live requests (status below 400)
into rates and shares (:data:`USAGE_FEATURES`), the failed ones into a failure share.

Definitions (per user):

- a session is a successful login or sign-up; per-session rates divide by the sessions
  clipped to at least 1 (requests can arrive on a session opened before the log started);
- views are GETs of the pages an agent looks at (history, analysis, type, assets,
  notifications, profile); the view shares divide each kind by the views (0 without views);
- writes are single spendings and goals (the batch endpoint is the history upload);
- active hours are the distinct clock hours (calendar, not hour of day) with a request;
- the mean gap is the mean time between consecutive successful live requests, which
  telescopes to ``(last - first) / (requests - 1)`` (0 for a single request).

:func:`usage_evaluation` then asks whether usage adds to the spending features when
classifying the spending type: LightGBM :class:`~analysis.type_model.UserClassifier` on
spending features, on spending and usage features, and on usage alone, each scored by
cross-validated macro-F1 with a bootstrap 95 % interval over users and a chance baseline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from analysis.type_eval import macro_f1_interval
from analysis.type_model import UserClassifier

log = logging.getLogger(__name__)

LIVE_SOURCES: tuple[str, ...] = ("locust", "browser")
"""Sources whose requests are the agents' live behaviour."""
VIEW_KINDS: tuple[str, ...] = ("history", "analysis", "type", "assets", "notifications", "profile")
"""Kinds of views, each with a ``usage_share_<kind>`` column."""

_API = "/api/v1"
ACTIONS: dict[tuple[str, str], str] = {
    ("POST", f"{_API}/auth/login"): "session",
    ("POST", f"{_API}/auth/signup"): "session",
    ("POST", "/login/"): "session",
    ("POST", "/signup/"): "session",
    ("POST", f"{_API}/auth/logout"): "logout",
    ("POST", "/logout/"): "logout",
    ("POST", f"{_API}/spendings"): "write",
    ("POST", "/spending/new/"): "write",
    ("POST", f"{_API}/goals"): "write",
    ("POST", "/goal/set/"): "write",
    ("POST", f"{_API}/notifications/<int:notification_id>/read"): "notification_read",
    ("POST", "/notifications/<int:notification_id>/read/"): "notification_read",
    ("GET", f"{_API}/spendings"): "view_history",
    ("GET", "/spending-history/"): "view_history",
    ("GET", "/spending-history/<day>/"): "view_history",
    ("GET", f"{_API}/analysis"): "view_analysis",
    ("GET", "/spending-analysis/"): "view_analysis",
    ("GET", f"{_API}/type"): "view_type",
    ("GET", "/spending-type/"): "view_type",
    ("GET", f"{_API}/assets"): "view_assets",
    ("GET", "/assets/"): "view_assets",
    ("GET", f"{_API}/notifications"): "view_notifications",
    ("GET", "/notifications/"): "view_notifications",
    ("GET", f"{_API}/profile"): "view_profile",
    ("GET", "/mypage/"): "view_profile",
}
"""(method, URL rule) -> action; any other request counts only towards requests and timing."""
_ACTION_NAMES: tuple[str, ...] = (
    "session",
    "logout",
    "write",
    "notification_read",
    *(f"view_{kind}" for kind in VIEW_KINDS),
)

USAGE_FEATURES: tuple[str, ...] = (
    "usage_sessions",
    "usage_requests",
    "usage_views",
    "usage_views_per_session",
    "usage_writes_per_session",
    *(f"usage_share_{kind}" for kind in VIEW_KINDS),
    "usage_notification_reads_per_session",
    "usage_logout_share",
    "usage_active_hours",
    "usage_mean_gap_s",
    "usage_failure_share",
)
"""Columns of :func:`usage_features` (all float, never NaN)."""

VARIANTS: tuple[str, ...] = ("spending", "spending_and_usage", "usage_only")
"""Feature sets compared by :func:`usage_evaluation`."""
BOOTSTRAP = 1000
"""Bootstrap resamples behind each 95 % interval, and random guesses behind chance."""


# --------------------------------------------------------------------------- features


def _empty_features() -> pd.DataFrame:
    """A feature frame without users."""
    index = pd.Index([], dtype="int64", name="user_id")
    return pd.DataFrame(columns=list(USAGE_FEATURES), index=index, dtype=float)


def _action_counts(done: pd.DataFrame, users: pd.Index) -> pd.DataFrame:
    """Requests per user and action (columns :data:`_ACTION_NAMES`, zeros filled)."""
    keys = pd.MultiIndex.from_frame(done[["method", "route"]].astype(str))
    lookup = pd.Series(ACTIONS)
    action = pd.Series(lookup.reindex(keys).to_numpy(), index=done.index)
    counts = done.groupby([done["user_id"], action]).size().unstack(fill_value=0)
    return counts.reindex(index=users, columns=list(_ACTION_NAMES), fill_value=0).astype(float)


def _timing(done: pd.DataFrame, users: pd.Index) -> pd.DataFrame:
    """Requests, active clock hours and the mean gap between requests, per user."""
    ts = done.groupby("user_id")["ts"]
    requests = ts.size().astype(float)
    span = (ts.max() - ts.min()).dt.total_seconds()
    hours = done["ts"].dt.floor("h").groupby(done["user_id"]).nunique()
    return pd.DataFrame(
        {
            "usage_requests": requests,
            "usage_active_hours": hours.astype(float),
            "usage_mean_gap_s": span / (requests - 1).clip(lower=1),
        }
    ).reindex(users)


def usage_features(events: pd.DataFrame) -> pd.DataFrame:
    """Usage features of every app user with a successful live request.

    Args:
        events: The request log (``ts``, ``user_id``, ``source``, ``method``, ``route``,
            ``status``; see :mod:`target_app.requestlog`).

    Returns:
        One row per ``user_id`` (index, sorted), the float columns :data:`USAGE_FEATURES`
        as defined in the module docstring.
    """
    live = events.loc[
        events["source"].isin(LIVE_SOURCES) & events["user_id"].notna(),
        ["ts", "user_id", "method", "route", "status"],
    ].astype({"user_id": "int64"})
    ok = live["status"].to_numpy() < 400
    done = live[ok]
    if done.empty:
        return _empty_features()
    users = pd.Index(np.unique(done["user_id"].to_numpy()), name="user_id")
    counts = _action_counts(done, users)
    sessions = counts["session"].clip(lower=1)
    views = counts[[f"view_{kind}" for kind in VIEW_KINDS]].sum(axis=1)
    out = _timing(done, users)
    out["usage_sessions"] = counts["session"]
    out["usage_views"] = views
    out["usage_views_per_session"] = views / sessions
    out["usage_writes_per_session"] = counts["write"] / sessions
    for kind in VIEW_KINDS:
        out[f"usage_share_{kind}"] = counts[f"view_{kind}"] / views.clip(lower=1)
    out["usage_notification_reads_per_session"] = counts["notification_read"] / sessions
    out["usage_logout_share"] = counts["logout"] / sessions
    failed = pd.Series(~ok, index=live.index, dtype=float).groupby(live["user_id"]).mean()
    out["usage_failure_share"] = failed.reindex(users)
    return out[list(USAGE_FEATURES)].astype(float)


# --------------------------------------------------------------------------- evaluation


def chance_macro_f1(
    truth: Sequence[str] | np.ndarray, *, seed: int, draws: int = BOOTSTRAP
) -> float:
    """Mean macro-F1 of random guesses drawn from the label shares (a stratified guess).

    Each of ``draws`` guesses gives every user a label drawn with the truth's class
    shares; macro-F1 is over the classes of the truth, as :func:`sklearn.metrics.f1_score`
    with those labels computes it.

    Args:
        truth: The labels.
        seed: Seed of the guesses (a child of ``SeedSequence(seed)``).
        draws: Number of guesses averaged.

    Returns:
        The mean macro-F1 of the guesses.
    """
    _, codes, counts = np.unique(np.asarray(truth), return_inverse=True, return_counts=True)
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    guesses = rng.choice(len(counts), size=(draws, len(codes)), p=counts / len(codes))
    f1 = np.empty((draws, len(counts)))
    for c, true_n in enumerate(counts):
        guessed = guesses == c
        hits = (guessed & (codes == c)).sum(axis=1)
        f1[:, c] = 2 * hits / (true_n + guessed.sum(axis=1))
    return float(f1.mean())


def _skip_reason(labels: pd.Series, min_users: int) -> str | None:
    """Why the users cannot be evaluated (too few, one class, a class of one), or None."""
    counts = labels.value_counts()
    if len(labels) < min_users:
        return f"{len(labels)} users with spending features, usage and a label (need {min_users})"
    if len(counts) < 2:
        return f"a single spending type among the users ({', '.join(map(str, counts.index))})"
    if counts.min() < 2:
        rare = ", ".join(sorted(map(str, counts.index[counts < 2])))
        return f"spending types with a single user cannot be stratified: {rare}"
    return None


def _score(truth: np.ndarray, predicted: np.ndarray, chance: float, seed: int) -> dict[str, Any]:
    """Macro-F1 over the truth's classes, its bootstrap 95 % interval and the chance score."""
    classes = sorted(set(truth))
    interval = macro_f1_interval(truth, predicted, classes, seed=seed, resamples=BOOTSTRAP)
    return {
        "macro_f1": float(f1_score(truth, predicted, labels=classes, average="macro")),
        "ci95": interval["ci95"],
        "accuracy": interval["accuracy"],
        "chance_macro_f1": chance,
    }


def _verdict(variants: Mapping[str, Mapping[str, Any]]) -> str:
    """Whether usage adds to spending features (interval overlap = no measurable gain)."""
    base, both, alone = (variants[name] for name in VARIANTS)
    scores = (
        f"macro-F1 {both['macro_f1']:.3f} {_interval(both)} with usage features, "
        f"{base['macro_f1']:.3f} {_interval(base)} without"
    )
    if both["ci95"][0] > base["ci95"][1]:
        gain = f"usage features add a measurable gain: {scores}"
    elif both["ci95"][1] < base["ci95"][0]:
        gain = f"usage features make it measurably worse: {scores}"
    else:
        gain = f"no measurable gain from usage features (95 % intervals overlap): {scores}"
    above = "above" if alone["ci95"][0] > alone["chance_macro_f1"] else "not above"
    return (
        f"{gain}; usage alone {alone['macro_f1']:.3f} {_interval(alone)} is {above} "
        f"chance {alone['chance_macro_f1']:.3f}"
    )


def _interval(score: Mapping[str, Any]) -> str:
    """``[low, high]`` of a score's 95 % interval."""
    low, high = score["ci95"]
    return f"[{low:.3f}, {high:.3f}]"


def usage_evaluation(
    features: pd.DataFrame,
    usage: pd.DataFrame,
    labels: pd.Series,
    *,
    spending_features: Sequence[str],
    seed: int,
    folds: int = 5,
    min_users: int = 20,
) -> dict[str, Any]:
    """Does usage help classify the spending type? Spending vs spending + usage vs usage.

    On the users with spending features, usage features and a label, each variant's
    LightGBM classifier predicts every user once from stratified folds (shuffled, seeded;
    ``min(folds, smallest class)`` of them). The bootstrap intervals of the variants share
    their resamples (same seed, same users), so the variants are compared on the same draws.

    Args:
        features: Spending features per user (index ``user_id``).
        usage: :func:`usage_features` (index ``user_id``).
        labels: Spending type per ``user_id``.
        spending_features: Columns of ``features`` used.
        seed: Seed of the folds, the classifiers, the bootstrap and the chance guesses.
        folds: Folds at most.
        min_users: Fewer users than this are not evaluated.

    Returns:
        ``{"users", "folds", "seed", "variants": {name: {"macro_f1", "ci95", "accuracy",
        "chance_macro_f1"}}, "verdict"}``, or ``{"users", "skipped": reason}``.
    """
    users = features.index.intersection(usage.index).intersection(labels.dropna().index)
    truth = labels.loc[users]
    reason = _skip_reason(truth, min_users)
    if reason is not None:
        log.info("usage evaluation skipped: %s", reason)
        return {"users": len(users), "skipped": reason}
    columns = {
        "spending": tuple(spending_features),
        "spending_and_usage": (*spending_features, *USAGE_FEATURES),
        "usage_only": USAGE_FEATURES,
    }
    frame = features.loc[users, list(spending_features)].join(
        usage.loc[users, list(USAGE_FEATURES)]
    )
    k = max(2, min(folds, int(truth.value_counts().min())))
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    y = truth.astype(str).to_numpy()
    chance = chance_macro_f1(y, seed=seed)
    variants = {}
    for name in VARIANTS:
        model = UserClassifier(
            estimator="lightgbm", features=columns[name], n_estimators=100, random_state=seed
        )
        predicted = np.asarray(cross_val_predict(model, frame, y, cv=cv))
        variants[name] = _score(y, predicted, chance, seed)
    log.info("usage evaluation: %d users, %d folds", len(users), k)
    return {
        "users": len(users),
        "folds": k,
        "seed": seed,
        "variants": variants,
        "verdict": _verdict(variants),
    }
