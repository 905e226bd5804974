"""The app-usage side that shapes the load: sessions, their gaps, hours, weekdays and pages.

Sessions come from the app's request log (the ``events`` table) or from the agents'
decisions (:func:`sessions_from_actions`). Every fact reads a sessions frame with columns
``user_id``, ``start`` (datetime64) and ``pages`` (int).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from calibration.facts.frames import SECONDS_PER_DAY, Sessions
from calibration.facts.measure import Measurement, NotApplicable, median_over_users

SESSION_GAP_S = 30 * 60
"""A request more than 30 minutes after the previous one starts a new session."""
PAGE_ACTIONS = frozenset(
    {"view_history", "view_analysis", "view_type", "view_assets", "read_notifications"}
)
"""Agent actions that show the user a page."""
NOT_PAGE_ROUTES = ("login", "logout", "signup", "healthz", "openapi", "static")
"""Route fragments of GET requests that are not pages a user reads."""
NIGHT_HOURS = (1, 6)
MIN_SESSIONS = 100
MIN_GAPS = 10
WEEK_QUANTILE = 0.9


def _frame(rows: list[tuple[int, Any, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_id", "start", "pages"])
    frame["start"] = pd.to_datetime(frame["start"]).astype("datetime64[s]")
    return frame.astype({"user_id": np.int64, "pages": np.int64})


def sessions_from_actions(actions: Iterable[tuple[int, Any]]) -> pd.DataFrame:
    """Sessions of agents' app actions (:class:`sim.agents.Action`), per user in time order.

    A session runs from a ``login`` to the next ``logout``; its pages are the page views
    and notification reads in between. The onboarding visit (``signup`` to its ``logout``)
    is not a session.

    Args:
        actions: ``(user_id, action)`` pairs, each user's actions in time order.
    """
    rows: list[tuple[int, Any, int]] = []
    open_at: dict[int, tuple[Any, int]] = {}
    for user, action in actions:
        if action.kind == "login":
            open_at[user] = (action.at, 0)
        elif action.kind in PAGE_ACTIONS and user in open_at:
            start, pages = open_at[user]
            open_at[user] = (start, pages + 1)
        elif action.kind == "logout" and user in open_at:
            start, pages = open_at.pop(user)
            rows.append((user, start, pages))
    return _frame(rows)


def sessions_from_events(events: pd.DataFrame) -> pd.DataFrame:
    """Sessions of an app request log (the ``events`` table).

    Requests are grouped by agent (``agent_id``, else ``user_id``; requests with neither
    are left out) in time order. A new session starts at an agent's first request, after a
    gap of more than 30 minutes, after a logout, and at a login that does not follow
    another login request. Sessions with a signup are onboarding and left out. Pages are
    successful GET requests other than log-in/out, sign-up, health and API description.
    The returned ``user_id`` numbers the agents (0, 1, ...), it is not the app's user id.
    """
    fallback = "user-" + events["user_id"].astype("Int64").astype("string")
    agent = events["agent_id"].astype("string").fillna(fallback)
    keep = agent.notna().to_numpy()
    frame = pd.DataFrame(
        {
            "agent": pd.factorize(agent[keep])[0],
            "ts": events.loc[keep, "ts"].to_numpy(),
            "route": events.loc[keep, "route"].astype(str).to_numpy(),
            "get": (events.loc[keep, "method"] == "GET").to_numpy(),
            "ok": (events.loc[keep, "status"] < 400).to_numpy(),
        }
    ).sort_values(["agent", "ts"], kind="stable", ignore_index=True)
    route = frame["route"].str
    login, logout = route.contains("login").to_numpy(), route.contains("logout").to_numpy()
    sec = frame["ts"].to_numpy().astype("datetime64[s]").astype(np.int64)
    agents = frame["agent"].to_numpy()
    first = np.append(True, agents[1:] != agents[:-1])
    gap = np.append(True, np.diff(sec) > SESSION_GAP_S)
    after_logout = np.append(False, logout[:-1])
    fresh_login = login & ~np.append(False, login[:-1])
    session = np.cumsum(first | gap | after_logout | fresh_login)
    page = frame["get"].to_numpy() & frame["ok"].to_numpy()
    page &= ~route.contains("|".join(NOT_PAGE_ROUTES)).to_numpy()
    grouped = pd.DataFrame(
        {"agent": agents, "ts": frame["ts"], "page": page, "signup": route.contains("signup")}
    ).groupby(session)
    out = grouped.agg(
        user_id=("agent", "first"), start=("ts", "min"), pages=("page", "sum"), s=("signup", "any")
    )
    kept = out[~out["s"].to_numpy()]
    return pd.DataFrame(
        {
            "user_id": kept["user_id"].to_numpy(dtype=np.int64),
            "start": kept["start"].to_numpy().astype("datetime64[s]"),
            "pages": kept["pages"].to_numpy(dtype=np.int64),
        }
    )


def _sessions(sessions: Sessions | None, missing: str, minimum: int = MIN_SESSIONS) -> pd.DataFrame:
    if sessions is None:
        raise NotApplicable(missing)
    frame = sessions.frame
    if len(frame) < minimum:
        raise NotApplicable(f"{len(frame)} sessions (needs {minimum})")
    return frame


def _basis(sessions: Sessions | None, what: str) -> str:
    origin = sessions.origin if sessions is not None else "no sessions"
    return f"{what} from {origin}"


def _seconds(frame: pd.DataFrame) -> np.ndarray:
    return frame["start"].to_numpy().astype("datetime64[s]").astype(np.int64)


def sessions_per_week_tail(
    sessions: Sessions | None, missing: str = "no sessions", *, quantile: float = WEEK_QUANTILE
) -> Measurement:
    """The 90th percentile over user-weeks of sessions, divided by the median.

    Weeks are 7-day blocks from the first session in the data; user-weeks without a
    session are left out (so a quiet majority does not make the median 0). A Poisson
    user-week count is near 1.5-2; a heavy tail, a few very active weeks, gives more.
    """
    frame = _sessions(sessions, missing)
    sec = _seconds(frame)
    week = (sec - sec.min()) // (7 * SECONDS_PER_DAY)
    counts = pd.Series(1, index=[frame["user_id"].to_numpy(), week]).groupby(level=[0, 1]).sum()
    median = float(np.median(counts))
    value = float(np.quantile(counts, quantile)) / median
    users = frame["user_id"].nunique()
    basis = _basis(sessions, f"{len(counts):,} user-weeks with a session of {users:,} users")
    return Measurement(value, basis, f"median {median:g} sessions per active user-week")


def session_gap_cv(
    sessions: Sessions | None, missing: str = "no sessions", *, min_gaps: int = MIN_GAPS
) -> Measurement:
    """Median over users of the CV of the times between a user's session starts."""
    frame = _sessions(sessions, missing).sort_values(["user_id", "start"], kind="stable")
    users = frame["user_id"].to_numpy()
    same = users[1:] == users[:-1]
    gaps = np.diff(_seconds(frame)).astype(float)[same]
    grouped = pd.Series(gaps).groupby(users[1:][same])
    stats = grouped.agg(["size", "mean"]).assign(std=grouped.std(ddof=0))
    stats = stats[(stats["size"] >= min_gaps) & (stats["mean"] > 0)]
    result = median_over_users(stats["std"] / stats["mean"], f">= {min_gaps} session gaps")
    return Measurement(result.value, _basis(sessions, result.basis))


def _hours(frame: pd.DataFrame) -> np.ndarray:
    return (_seconds(frame) % SECONDS_PER_DAY) // 3600


def login_night_share(sessions: Sessions | None, missing: str = "no sessions") -> Measurement:
    """Share of sessions that start between 01:00 and 06:00 (local time)."""
    frame = _sessions(sessions, missing)
    low, high = NIGHT_HOURS
    hours = _hours(frame)
    value = float(np.mean((hours >= low) & (hours < high)))
    return Measurement(value, _basis(sessions, f"{len(frame):,} sessions"))


def login_diurnal_peak(sessions: Sessions | None, missing: str = "no sessions") -> Measurement:
    """The busiest hour's share of session starts, times 24 (1 = flat over the day)."""
    frame = _sessions(sessions, missing)
    shares = np.bincount(_hours(frame), minlength=24) / len(frame)
    peak = int(np.argmax(shares))
    basis = _basis(sessions, f"{len(frame):,} sessions")
    return Measurement(float(shares.max() * 24), basis, f"peak {peak:02d}h")


def login_weekend_ratio(sessions: Sessions | None, missing: str = "no sessions") -> Measurement:
    """Sessions per weekend day over sessions per weekday (Mon-Fri), whole days in the data."""
    frame = _sessions(sessions, missing)
    days = _seconds(frame) // SECONDS_PER_DAY
    calendar = np.arange(days.min(), days.max() + 1)
    weekend_day = ((calendar + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    weekend = ((days + 3) % 7) >= 5
    if weekend_day.all() or not weekend_day.any():
        raise NotApplicable("sessions span less than a week")
    per_weekend_day = weekend.sum() / weekend_day.sum()
    per_weekday = (~weekend).sum() / (~weekend_day).sum()
    basis = _basis(sessions, f"{len(frame):,} sessions")
    return Measurement(float(per_weekend_day / per_weekday), basis)


def pages_per_session(sessions: Sessions | None, missing: str = "no sessions") -> Measurement:
    """Mean pages viewed per session."""
    frame = _sessions(sessions, missing)
    pages = frame["pages"].to_numpy()
    detail = f"median {np.median(pages):g}, 90th percentile {np.quantile(pages, 0.9):g}"
    return Measurement(float(pages.mean()), _basis(sessions, f"{len(frame):,} sessions"), detail)
