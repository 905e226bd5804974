"""Carrying out an agent's actions against the Moni JSON API (``/api/v1``).

:class:`MoniApi` wraps a Locust HTTP client for one agent: it signs up (or logs in) with the
agent's derived credentials, sends every request with ``X-Run-Id``, ``X-Agent-Id`` and
``X-Source: locust``, names parameterised URLs for the stats, and makes spending writes safe
to retry: a failed write (connection error, 5xx, timeout; one spending or a batch of them)
is retried with the *same* ``client_txn_id`` until the app acknowledges it or the retry
budget runs out, and every attempt and acknowledgement goes to the ledger for
reconciliation. A 401 (the app restarted
with a new key, or the token expired) triggers one fresh login.

It imports nothing from Locust, so it is testable with any client that has Locust's
``request(method, path, name=..., headers=..., json=..., catch_response=True)`` shape.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sim.plan.records import AgentPlan, PlannedAction, agent_credentials
from sim.reconcile.ledger import Ledger

log = logging.getLogger(__name__)

API = "/api/v1"
KST_OFFSET = "+09:00"
WRITE_RETRIES = 12
RETRY_BACKOFF = (0.2, 0.5, 1.0, 2.0, 3.0)
MAX_BATCH = 500
"""Most spendings one batch request carries (the app's limit)."""

_SPENDING_FIELDS = ("amount", "category", "direction", "method", "merchant", "memo")
_SIGNUP_FIELDS = ("age", "gender", "occupation", "region", "monthly_income", "name")


class MoniApi:
    """One agent's session with the app."""

    def __init__(
        self,
        client: Any,
        run_id: str,
        plan: AgentPlan,
        ledger: Ledger,
        *,
        sleep: Callable[[float], None] = time.sleep,
        profile: Mapping[str, Any] | None = None,
        worker_index: int = 0,
        source: str = "locust",
    ) -> None:
        self.client = client
        self.plan = plan
        self.ledger = ledger
        self.sleep = sleep
        self.profile = dict(profile or {})
        self.worker_index = worker_index
        self.email, self.password = agent_credentials(run_id, plan.agent_id)
        self.headers = {"X-Run-Id": run_id, "X-Agent-Id": plan.agent_id, "X-Source": source}
        self.token: str | None = None
        self.user_id: int | None = None

    # ------------------------------------------------------------------ session

    def start_session(self) -> None:
        """Sign up as the agent (or log in when the account exists)."""
        body = {
            "email": self.email,
            "password": self.password,
            "name": self.profile.get("name") or self.plan.agent_id,
            "persona": self.plan.persona,
            "agent_id": self.plan.agent_id,
            **{k: self.profile[k] for k in _SIGNUP_FIELDS if self.profile.get(k) is not None},
        }
        for attempt in range(WRITE_RETRIES + 1):
            status, data = self._call(
                "POST", f"{API}/auth/signup", json=body, auth=False, ok=(201, 409), body=True
            )
            if status == 201:
                self._accept_token(data)
                break
            if status == 409 and self._login():
                break
            if 400 <= status < 500 and status != 409:
                break  # refused for good (a bad profile): the agent acts without an account
            self._backoff(attempt)
        self.ledger.record(
            "agent",
            agent_id=self.plan.agent_id,
            persona=self.plan.persona,
            email=self.email,
            user_id=self.user_id,
            worker=self.worker_index,
        )

    def _login(self) -> bool:
        creds = {"email": self.email, "password": self.password}
        status, data = self._call("POST", f"{API}/auth/login", json=creds, auth=False, body=True)
        if status == 200:
            self._accept_token(data)
            return True
        return False

    def _accept_token(self, data: Mapping[str, Any] | None) -> None:
        if data:
            self.token = data.get("token")
            self.user_id = (data.get("user") or {}).get("id", self.user_id)

    # ------------------------------------------------------------------ actions

    def perform(self, action: PlannedAction) -> None:
        """Carry out one planned action."""
        handler = getattr(self, f"_do_{action.kind}", None)
        if handler is None:
            log.warning("agent %s: unknown action kind %r", self.plan.agent_id, action.kind)
            return
        handler(action)

    def _do_login(self, action: PlannedAction) -> None:
        if self.token is None:
            self._login()

    def _do_signup(self, action: PlannedAction) -> None:
        if self.token is None:
            self.start_session()

    def _do_logout(self, action: PlannedAction) -> None:
        if self.token is not None:
            self._call("POST", f"{API}/auth/logout", ok=(204,))
            self.token = None

    def _do_mydata_start(self, action: PlannedAction) -> None:
        self._ensure_login()
        self._call("POST", f"{API}/mydata/start", json=dict(action.payload), ok=(200, 201))

    def _do_view_history(self, action: PlannedAction) -> None:
        self._ensure_login()
        params = {k: action.payload[k] for k in ("from", "to", "category") if k in action.payload}
        if "month" in action.payload and "from" not in params:
            params["from"], params["to"] = month_range(str(action.payload["month"]))
        query = "&".join(f"{k}={v}" for k, v in params.items())
        path = f"{API}/spendings" + (f"?{query}" if query else "")
        self._call("GET", path, name=f"{API}/spendings [list]")

    def _do_view_analysis(self, action: PlannedAction) -> None:
        self._ensure_login()
        self._call("GET", f"{API}/analysis")

    def _do_view_type(self, action: PlannedAction) -> None:
        self._ensure_login()
        self._call("GET", f"{API}/type")

    def _do_view_assets(self, action: PlannedAction) -> None:
        self._ensure_login()
        self._call("GET", f"{API}/assets")

    def _do_view_profile(self, action: PlannedAction) -> None:
        self._ensure_login()
        self._call("GET", f"{API}/profile")

    def _do_set_goal(self, action: PlannedAction) -> None:
        self._ensure_login()
        body = {
            k: v for k, v in action.payload.items() if k in ("title", "target_amount", "deadline")
        }
        self._call("POST", f"{API}/goals", json=body, ok=(200, 201))

    def _do_read_notifications(self, action: PlannedAction) -> None:
        self._ensure_login()
        _, data = self._call("GET", f"{API}/notifications", body=True)
        unread = [n for n in (data or {}).get("items", []) if not n.get("read_at")]
        for note in unread[: int(action.payload.get("read", 3))]:
            self._call(
                "POST",
                f"{API}/notifications/{note['id']}/read",
                name=f"{API}/notifications/<id>/read",
            )

    def _do_add_spending(self, action: PlannedAction) -> None:
        """Send one spending; retried with the same client_txn_id until acknowledged."""
        self._ensure_login()
        body = spending_body(action.payload)
        self._write_reliably(f"{API}/spendings", body, [body["client_txn_id"]])

    def upload_spendings(self, payloads: Sequence[Mapping[str, Any]]) -> int:
        """Upload planned spendings through the batch endpoint, one calendar month (at most
        :data:`MAX_BATCH` spendings) per request, each batch retried like one spending;
        returns how many were acknowledged."""
        self._ensure_login()
        acknowledged = 0
        for batch in month_batches(payloads):
            body = {"items": [spending_body(p) for p in batch]}
            ids = [item["client_txn_id"] for item in body["items"]]
            if self._write_reliably(f"{API}/spendings/batch", body, ids) is not None:
                acknowledged += len(ids)
        return acknowledged

    def _write_reliably(self, path: str, body: Any, txn_ids: list[str]) -> Any:
        """POST a write until the app acknowledges it (same ids on every retry) or refuses it
        for good; every attempt and the acknowledgement go to the ledger. Returns the
        acknowledged answer's JSON, else None."""
        self._record_writes("sent", txn_ids)
        for attempt in range(WRITE_RETRIES + 1):
            status, data = self._call("POST", path, json=body, ok=(200, 201), body=True)
            if status in (200, 201):
                self._record_writes("ack", txn_ids, spending_id=(data or {}).get("id"))
                return data if data is not None else {}
            if 400 <= status < 500 and status not in (401, 408, 429):
                return None  # the app refused it for good: nothing to retry or acknowledge
            if status == 401:
                self._login()
            self._backoff(attempt)
        return None

    def _record_writes(self, kind: str, txn_ids: list[str], **extra: Any) -> None:
        who = {"agent_id": self.plan.agent_id, "email": self.email}
        if len(txn_ids) == 1:
            self.ledger.record(kind, **who, client_txn_id=txn_ids[0], **extra)
        else:
            self.ledger.record(f"{kind}_batch", **who, client_txn_ids=txn_ids)

    # ------------------------------------------------------------------ plumbing

    def _backoff(self, attempt: int) -> None:
        self.sleep(RETRY_BACKOFF[min(attempt, len(RETRY_BACKOFF) - 1)])

    def _ensure_login(self) -> None:
        if self.token is None:
            self._login()

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        name: str | None = None,
        auth: bool = True,
        ok: tuple[int, ...] = (200,),
        body: bool = False,
    ) -> tuple[int, Any]:
        """One request, judged by Locust as failed unless its status is in ``ok``.

        The answer's JSON is decoded only when ``body`` asks for it (or for a failure's
        message): most views are read and thrown away, and decoding costs the client CPU.
        """
        headers = dict(self.headers)
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        with self.client.request(
            method, path, name=name or path, headers=headers, json=json, catch_response=True
        ) as response:
            status = int(response.status_code or 0)
            wanted = body or status not in ok
            data = _json_or_none(response) if wanted and status and status != 204 else None
            if status in ok:
                response.success()
            else:
                response.failure(f"HTTP {status}: {_error_text(data)}")
        if status == 401 and auth:
            self.token = None
        return status, data


def spending_body(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The API body of a planned spending (``ts`` or ``spent_at`` is the spend time)."""
    spent_at = str(payload.get("spent_at") or payload.get("ts")).replace(" ", "T")
    if not _has_offset(spent_at):
        spent_at += KST_OFFSET  # the simulated clock is Korean local time
    body = {"spent_at": spent_at, "client_txn_id": str(payload["client_txn_id"])}
    body.update({k: payload[k] for k in _SPENDING_FIELDS if payload.get(k) is not None})
    return body


def month_batches(payloads: Sequence[Mapping[str, Any]]) -> Iterator[list[Mapping[str, Any]]]:
    """Spendings (in time order) grouped by calendar month, at most MAX_BATCH per group."""
    batch: list[Mapping[str, Any]] = []
    month = ""
    for payload in payloads:
        this_month = str(payload.get("spent_at") or payload.get("ts"))[:7]
        if batch and (this_month != month or len(batch) == MAX_BATCH):
            yield batch
            batch = []
        month = this_month
        batch.append(payload)
    if batch:
        yield batch


def month_range(month: str) -> tuple[str, str]:
    """First and last day of a ``YYYY-MM`` month, ISO formatted."""
    first = dt.date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first.isoformat(), (following - dt.timedelta(days=1)).isoformat()


def _has_offset(stamp: str) -> bool:
    time_part = stamp.partition("T")[2]
    return time_part.endswith("Z") or "+" in time_part or "-" in time_part


def _json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except Exception:
        return None


def _error_text(data: Any) -> str:
    if isinstance(data, Mapping):
        return str(data.get("error") or data)[:200]
    return "no JSON body"
