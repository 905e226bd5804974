"""Stylized facts of app usage: sessions from agent actions and from a request log."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from calibration.facts import Sessions
from calibration.facts.measure import NotApplicable
from calibration.facts.usage import (
    login_diurnal_peak,
    login_night_share,
    login_weekend_ratio,
    pages_per_session,
    session_gap_cv,
    sessions_from_actions,
    sessions_from_events,
    sessions_per_week_tail,
)

MONDAY = dt.datetime(2024, 1, 1)


def action(kind: str, at: dt.datetime) -> SimpleNamespace:
    """Stands in for :class:`sim.agents.Action` (only ``kind`` and ``at`` are read)."""
    return SimpleNamespace(kind=kind, at=at)


def sessions(starts, *, users=None, pages=3) -> Sessions:
    frame = pd.DataFrame(
        {
            "user_id": users if users is not None else 1,
            "start": pd.to_datetime(starts).astype("datetime64[s]"),
            "pages": pages,
        }
    )
    return Sessions(frame, "constructed")


def daily(n_days: int, hour: int = 12, users: int = 1) -> Sessions:
    starts = [MONDAY + dt.timedelta(days=d, hours=hour) for d in range(n_days)] * users
    ids = np.repeat(np.arange(1, users + 1), n_days)
    return sessions(starts, users=ids)


def test_sessions_from_actions_skip_onboarding_and_count_pages() -> None:
    t = MONDAY
    stream = [
        (1, action("signup", t)),
        (1, action("mydata_start", t + dt.timedelta(minutes=1))),
        (1, action("logout", t + dt.timedelta(minutes=2))),
        (1, action("login", t + dt.timedelta(hours=5))),
        (1, action("add_spending", t + dt.timedelta(hours=5, seconds=5))),
        (1, action("view_history", t + dt.timedelta(hours=5, seconds=30))),
        (1, action("read_notifications", t + dt.timedelta(hours=5, seconds=60))),
        (1, action("logout", t + dt.timedelta(hours=5, seconds=90))),
        (2, action("login", t + dt.timedelta(hours=7))),
        (2, action("logout", t + dt.timedelta(hours=7, seconds=20))),
    ]
    frame = sessions_from_actions(stream)
    assert frame["user_id"].tolist() == [1, 2]
    assert frame["pages"].tolist() == [2, 0]
    assert frame["start"].iloc[0] == pd.Timestamp(t + dt.timedelta(hours=5))


def event(agent: str, at: dt.datetime, route: str, method: str = "GET", status: int = 200):
    return {"ts": at, "agent_id": agent, "user_id": 7, "method": method, "route": route,
            "status": status}  # fmt: skip


def test_sessions_from_events_split_on_logout_login_and_long_gaps() -> None:
    t = MONDAY + dt.timedelta(hours=9)
    minutes = [dt.timedelta(minutes=m) for m in range(200)]
    log = [
        event("a1", t, "/api/v1/auth/signup", "POST"),
        event("a1", t + minutes[1], "/api/v1/auth/logout", "POST"),
        event("a1", t + minutes[30], "/api/v1/auth/login", "POST"),
        event("a1", t + minutes[31], "/api/v1/spendings"),
        event("a1", t + minutes[32], "/api/v1/analysis"),
        event("a1", t + minutes[33], "/api/v1/assets", status=500),
        event("a1", t + minutes[34], "/api/v1/auth/logout", "POST"),
        event("a1", t + minutes[40], "/login/"),
        event("a1", t + minutes[41], "/login/", "POST"),
        event("a1", t + minutes[42], "/spending-history/"),
        event("a1", t + minutes[150], "/spending-analysis/"),  # > 30 min later
        event(None, t + minutes[151], "/api/v1/type"),  # falls back to the user id
    ]
    frame = sessions_from_events(pd.DataFrame(log))
    assert frame["pages"].tolist() == [2, 1, 1, 1]
    assert frame["start"].tolist()[:3] == [t + minutes[30], t + minutes[40], t + minutes[150]]


def test_regular_daily_noon_sessions() -> None:
    regular = daily(70, users=3)
    assert session_gap_cv(regular).value == pytest.approx(0.0)
    assert login_night_share(regular).value == 0.0
    assert login_diurnal_peak(regular).value == pytest.approx(24.0)
    assert login_weekend_ratio(regular).value == pytest.approx(1.0)
    assert pages_per_session(regular).value == pytest.approx(3.0)
    assert sessions_per_week_tail(regular).value == pytest.approx(1.0)


def test_night_share_weekend_ratio_and_weekly_tail() -> None:
    weekday_only = [MONDAY + dt.timedelta(days=d, hours=3) for d in range(140) if d % 7 < 5]
    frame = sessions(weekday_only)
    assert login_night_share(frame).value == 1.0
    assert login_weekend_ratio(frame).value == 0.0
    # 80 weeks with one session and 20 with ten: the median week has 1.
    starts = [MONDAY + dt.timedelta(days=7 * w, hours=10) for w in range(100)]
    starts += [MONDAY + dt.timedelta(days=7 * w, hours=10 + h) for w in range(0, 100, 5)
               for h in range(1, 10)]  # fmt: skip
    tail = sessions_per_week_tail(sessions(starts))
    assert tail.value == pytest.approx(np.quantile([1] * 80 + [10] * 20, 0.9))


def test_usage_facts_without_sessions_are_not_applicable() -> None:
    with pytest.raises(NotApplicable, match="no app usage"):
        pages_per_session(None, "the source has no app usage")
    with pytest.raises(NotApplicable, match="needs 100"):
        pages_per_session(daily(10))
