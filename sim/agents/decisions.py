"""What each agent does in the Moni app, in simulated time: the online transports' script.

:func:`agent_actions` yields one agent's :class:`Action` stream. It is built from the same
shard simulation as ``monilab generate``, so for a seed the ``add_spending`` payloads of an
agent are exactly that agent's offline transaction rows (same ``txn_id`` order, amounts,
merchants, times). Sessions come from the persona's app usage: some open shortly after a
payment (``after_spend``), the rest follow the persona's hour and weekday profiles up to
the user's own engagement (lognormal around ``sessions_per_week``) on bursty days; each
session logs in, syncs the payments made since the last one (``add_spending``, like a
mydata refresh), views pages (a geometric number), maybe reads notifications or sets a
goal (when the agent reached its goal), and logs out. The stream starts with ``signup``
(which leaves the agent logged in), ``mydata_start``, the initial ``set_goal`` of goal
holders, and ``logout``; afterwards every action other than ``login`` happens between a
``login`` and a ``logout``. Payments after the last session are synced by a final session
shortly after the last payment.

Action kinds and payloads (JSON-ready; times are simulated local time, ISO 8601):

- ``signup``: ``username``, ``password``, ``name``, ``email``, ``age``, ``gender``
- ``login``: ``username``, ``password``
- ``mydata_start``: ``opening_balance`` (KRW)
- ``add_spending``: ``client_txn_id``, ``ts``, ``amount``, ``category``, ``merchant``,
  ``method``, ``direction`` (``truth`` carries ``txn_id``, ``is_anomaly``,
  ``anomaly_kind``: ground truth for request context, never sent to the app)
- ``view_history`` / ``view_analysis``: ``month`` (``YYYY-MM``)
- ``view_type``, ``view_assets``, ``read_notifications``, ``logout``: no fields
- ``set_goal``: ``title`` (e.g. ``5,000만원 모으기``), ``target_amount`` (KRW)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.agents.seeds import DECISIONS, generator
from sim.agents.users import agent_id

if TYPE_CHECKING:
    from sim.agents.population import Population

ACTION_KINDS: tuple[str, ...] = (
    "signup",
    "login",
    "mydata_start",
    "add_spending",
    "view_history",
    "view_analysis",
    "view_type",
    "view_assets",
    "set_goal",
    "read_notifications",
    "logout",
)
PAGES: tuple[str, ...] = ("view_history", "view_analysis", "view_type", "view_assets")
PAGE_WEIGHTS: dict[str, tuple[float, ...]] = {
    "saver": (0.4, 0.3, 0.1, 0.2),
    "stable": (0.4, 0.3, 0.1, 0.2),
    "goal_setter": (0.3, 0.3, 0.1, 0.3),
    "yolo": (0.45, 0.25, 0.2, 0.1),
    "investor": (0.2, 0.25, 0.1, 0.45),
}
"""Which pages a session views, by spending type (history, analysis, type, assets)."""
TRIGGER_DELAY_S = 480.0
"""Mean delay (s) between a payment and the session it triggers."""
MERGE_GAP_S = 600
"""Sessions starting within this many seconds of the previous one are merged."""
PAGE_DWELL_S = 25.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEND_CATEGORIES_EXCLUDED = ("savings", "investment", "income")


@dataclass(frozen=True)
class Action:
    """One thing an agent does in the app.

    Attributes:
        at: Simulated local time of the request.
        kind: One of :data:`ACTION_KINDS`.
        payload: The request's fields (JSON-ready).
        truth: Ground-truth labels for logs and reconciliation; never sent to the app.
    """

    at: dt.datetime
    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    truth: Mapping[str, Any] | None = None


def credentials(seed: int, agent: str) -> dict[str, str]:
    """Deterministic username and password of an agent."""
    secret = hashlib.sha256(f"monilab:{seed}:{agent}".encode()).hexdigest()[:20]
    return {"username": agent, "password": secret}


def goal_title(amount: float) -> str:
    """Korean goal title, e.g. ``5,000만원 모으기`` or ``1억원 모으기``."""
    man = round(amount / 10_000)
    if man >= 10_000 and man % 10_000 == 0:
        return f"{man // 10_000}억원 모으기"
    return f"{man:,}만원 모으기"


def _seconds(t: dt.datetime) -> int:
    return int((t - dt.datetime(1970, 1, 1)).total_seconds())


def _time(seconds: float) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(seconds))


def _session_starts(pop: Population, shard: int, local: int, pay_ts: np.ndarray) -> np.ndarray:
    """Epoch seconds at which the agent opens the app (sorted, merged)."""
    data = pop.shard(shard)
    t, p = pop.tables, int(data.model.state.persona[local])
    rng = generator(pop.seed, DECISIONS, shard, local)
    sigma = t.engagement_sigma[p]
    engagement = np.exp(sigma * rng.standard_normal() - sigma**2 / 2)
    triggered = pay_ts[rng.random(len(pay_ts)) < min(1.0, t.after_spend[p] * engagement)]
    triggered = triggered + 30 + rng.exponential(TRIGGER_DELAY_S, len(triggered))
    wanted = t.sessions_per_week[p] * engagement * pop.days / 7.0
    browse_rate = max(0.0, wanted - len(triggered)) / pop.days
    cal = pop.calendar
    shape = t.session_day_shape[p]
    weeks = rng.gamma(1.0, 1.0, pop.days // 7 + 1)  # busy and quiet weeks
    bursty = rng.gamma(shape, 1.0 / shape, pop.days) * np.repeat(weeks, 7)[: pop.days]
    per_day = rng.poisson(browse_rate * bursty * t.weekday[p, cal.weekday.astype(int)])
    days = np.repeat(np.arange(pop.days), per_day)
    hour_cdf = t.base_hour_cdf[p]
    hours = np.searchsorted(hour_cdf, rng.random(len(days)), side="right")
    night = rng.random(len(days)) < t.night_share[p]
    hours[night] = rng.integers(0, 6, int(night.sum()))
    day_start = cal.dates.astype("datetime64[s]").astype(np.int64)
    browse = day_start[days] + hours * 3600 + rng.integers(0, 3600, len(days))
    starts = np.sort(np.concatenate([triggered, browse]).astype(np.int64))
    if len(starts) == 0:
        return starts
    keep = np.concatenate([[True], np.diff(starts) > MERGE_GAP_S])
    return starts[keep]


def agent_actions(pop: Population, index: int) -> Iterator[Action]:
    """The app actions of the agent at population ``index``, in time order."""
    shard, local = divmod(index, pop.shard_size)
    data = pop.shard(shard)
    user = data.users.slice(local, 1).to_pylist()[0]
    state, t = data.model.state, pop.tables
    p = int(state.persona[local])
    rows = data.frame_of(local)
    rows["sec"] = rows.ts.astype("datetime64[s]").astype(np.int64)
    pay = rows[
        (rows.direction == "out")
        & (rows.method != "auto_debit")
        & ~rows.category.isin(_SPEND_CATEGORIES_EXCLUDED)
    ]
    starts = _session_starts(pop, shard, local, pay.sec.to_numpy())
    rng = generator(pop.seed, DECISIONS, shard, local, 1)
    agent = agent_id(pop.seed, user["user_id"])
    login = credentials(pop.seed, agent)
    goals = _goal_events(data.model, local, pop)
    weights = np.array(PAGE_WEIGHTS[t.spending_types[p]])

    clock = _seconds(user["signup_at"])
    profile = {
        "name": user["name"],
        "email": f"{agent}@users.monilab.test",
        "age": user["age"],
        "gender": user["gender"],
    }
    yield Action(_time(clock), "signup", {**login, **profile})
    clock += int(rng.integers(20, 120))
    yield Action(
        _time(clock), "mydata_start", {"opening_balance": int(state.opening_balance[local])}
    )
    goal_pos = 0
    while goal_pos < len(goals) and goals[goal_pos][0] <= clock:
        clock += int(rng.integers(10, 60))
        yield Action(_time(clock), "set_goal", _goal_payload(goals[goal_pos][1]))
        goal_pos += 1
    clock += int(rng.integers(10, 60))
    yield Action(_time(clock), "logout")

    records: list[dict[str, Any]] = rows.to_dict("records")  # type: ignore[assignment]
    sessions = [int(x) for x in starts]
    if records and (not sessions or sessions[-1] < records[-1]["sec"]):
        sessions.append(records[-1]["sec"] + 30 + int(rng.exponential(TRIGGER_DELAY_S)))
    sent = 0
    for start in sessions:
        clock = max(int(start), clock + 1)
        yield Action(_time(clock), "login", dict(login))
        while sent < len(records) and records[sent]["sec"] <= clock:
            clock += int(rng.integers(1, 4))
            yield _spending_action(agent, records[sent], clock)
            sent += 1
        for page in rng.choice(len(PAGES), size=_page_count(rng, t, p), p=weights):
            clock += 3 + int(rng.exponential(PAGE_DWELL_S))
            yield Action(_time(clock), PAGES[page], _page_payload(PAGES[page], clock))
        if rng.random() < t.notification_read[p]:
            clock += 3 + int(rng.exponential(PAGE_DWELL_S))
            yield Action(_time(clock), "read_notifications")
        while goal_pos < len(goals) and goals[goal_pos][0] <= clock:
            clock += 5 + int(rng.exponential(PAGE_DWELL_S))
            yield Action(_time(clock), "set_goal", _goal_payload(goals[goal_pos][1]))
            goal_pos += 1
        clock += 2 + int(rng.exponential(10.0))
        yield Action(_time(clock), "logout")


def _page_count(rng: np.random.Generator, tables: Any, persona: int) -> int:
    """1 + a geometric number of further pages (mean ``pages_per_session``)."""
    return 1 + int(rng.negative_binomial(1, 1.0 / tables.pages_per_session[persona]))


def _page_payload(kind: str, clock: int) -> dict[str, str]:
    if kind in ("view_history", "view_analysis"):
        return {"month": _time(clock).strftime("%Y-%m")}
    return {}


def _goal_payload(amount: float) -> dict[str, Any]:
    return {"title": goal_title(amount), "target_amount": int(amount)}


def _goal_events(model: Any, local: int, pop: Population) -> list[tuple[int, float]]:
    """``(available from, amount)`` of the agent's goals: at sign-up, then day after reaching."""
    day_start = pop.calendar.dates.astype("datetime64[s]").astype(np.int64)
    out = []
    for day, users, amounts in model.goal_events:
        hit = np.flatnonzero(users == local)
        if len(hit):
            when = -(2**62) if day < 0 else int(day_start[day]) + 86_400
            out.append((when, float(amounts[hit[0]])))
    return out


def _spending_action(agent: str, row: Mapping[str, Any], clock: int) -> Action:
    payload = spending_payload(agent, row)
    truth = {
        "txn_id": int(row["txn_id"]),
        "is_anomaly": bool(row["is_anomaly"]),
        "anomaly_kind": row["anomaly_kind"] if isinstance(row["anomaly_kind"], str) else None,
    }
    return Action(_time(clock), "add_spending", payload, truth)


def spending_payload(agent: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The ``add_spending`` payload of a transaction row (offline and online agree on it)."""
    return {
        "client_txn_id": f"{agent}-{int(row['txn_id'])}",
        "ts": pd.Timestamp(row["ts"]).strftime("%Y-%m-%dT%H:%M:%S"),
        "amount": int(row["amount"]),
        "category": str(row["category"]),
        "merchant": str(row["merchant"]),
        "method": str(row["method"]),
        "direction": str(row["direction"]),
    }


def merged_actions(pop: Population, indices: Iterable[int]) -> Iterator[tuple[str, Action]]:
    """Several agents' actions merged in time order, as ``(agent_id, action)`` pairs."""

    def keyed(order: int, index: int) -> Iterator[tuple[dt.datetime, int, str, Action]]:
        agent = agent_id(pop.seed, index + 1)
        for action in agent_actions(pop, index):
            yield action.at, order, agent, action

    streams = [keyed(order, index) for order, index in enumerate(indices)]
    for _, _, agent, action in heapq.merge(*streams):
        yield agent, action


def activity_profile(pop: Population) -> pd.DataFrame:
    """Expected sessions started per hour of each weekday across the population.

    Sessions are short (minutes), so this is also the expected number of users active in
    that hour: the diurnal shape for a load test. Analytic (from the personas, ignoring
    state effects such as budgets), so it needs no simulation.

    Returns:
        DataFrame indexed by weekday (``mon``..``sun``) with columns 0..23.
    """
    t = pop.tables
    spend_hours = (t.hour_weights * t.cat_share[:, :, None]).sum(axis=1)
    base = np.diff(np.concatenate([np.zeros((len(t.names), 1)), t.base_hour_cdf], axis=1))
    per_day = t.sessions_per_week / 7.0
    triggered = np.minimum(1.0, t.after_spend * t.txn_per_day / np.maximum(per_day, 1e-9))
    hourly = triggered[:, None] * spend_hours + (1 - triggered[:, None]) * base
    users = pop.users * t.share
    profile = np.einsum("p,pw,ph->wh", users * per_day, t.weekday, hourly)
    return pd.DataFrame(profile, index=list(WEEKDAYS), columns=list(range(24)))
