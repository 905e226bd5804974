"""One agent's session with any app, carried out as its target file says.

:class:`TargetSession` takes an HTTP client with Locust's shape
(``client.request(method, path, name=..., headers=..., json=..., data=...,
catch_response=True)``, used as a context manager) and a :class:`~sim.targets.spec.TargetSpec`.
It signs the agent up (or logs it in when the account exists), keeps what the answers
capture (a token, a CSRF token, ids), sends every planned action as the target's templates
say, and makes writes safe to retry: a write with a key is resent with the same key until
the app acknowledges it or the retry budget runs out, and every attempt and
acknowledgement goes to the ledger for reconciliation. A template that fails to render, or
a required capture that never matches, is a failed request with its reason (reported
through ``on_failure``, which the locustfile turns into a Locust failure).

It imports nothing from Locust (the locustfile, the history upload and the target check all
use it).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from sim.plan.records import AgentPlan, PlannedAction, agent_credentials
from sim.reconcile.ledger import Ledger
from sim.targets.spec import ActionSpec, Capture, RequestSpec, TargetSpec
from sim.targets.templates import TemplateError, render_tree

log = logging.getLogger(__name__)

WRITE_RETRIES = 12
LOGIN_RETRIES = 5
RETRY_BACKOFF = (0.2, 0.5, 1.0, 2.0, 3.0)
RETRYABLE = (401, 408, 429)
PROFILE_FIELDS = ("name", "age", "gender", "occupation", "region", "monthly_income")

FailureHook = Callable[[str, str, str], None]
"""``(method, name, reason)`` of a request that could not be sent or was judged failed."""


def _log_failure(method: str, name: str, reason: str) -> None:
    log.warning("%s %s failed: %s", method, name, reason)


def agent_fields(
    run_id: str, plan: AgentPlan, profile: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What templates see as ``agent``: id, persona, the derived email and password, and
    the sign-up profile (:data:`PROFILE_FIELDS`, None where the profile lacks one)."""
    email, password = agent_credentials(run_id, plan.agent_id)
    profile = dict(profile or {})
    agent = {k: profile.get(k) for k in PROFILE_FIELDS}
    agent.update(id=plan.agent_id, persona=plan.persona, email=email, password=password)
    return agent


class Answer:
    """What one request returned: status (0 when it never got one), body, and success."""

    def __init__(self, status: int, data: Any, ok: bool) -> None:
        self.status, self.data, self.ok = status, data, ok


class TargetSession:
    """One agent's session with the app described by ``spec``."""

    def __init__(
        self,
        spec: TargetSpec,
        client: Any,
        run_id: str,
        plan: AgentPlan,
        ledger: Ledger,
        *,
        sleep: Callable[[float], None] = time.sleep,
        profile: Mapping[str, Any] | None = None,
        worker_index: int = 0,
        source: str = "locust",
        on_failure: FailureHook = _log_failure,
    ) -> None:
        self.spec, self.client, self.plan, self.ledger = spec, client, plan, ledger
        self.sleep, self.worker_index, self.on_failure = sleep, worker_index, on_failure
        agent = agent_fields(run_id, plan, profile)
        self.email, self.password = agent["email"], agent["password"]
        self.base = {"agent": agent, "run": {"id": run_id, "source": source}}
        self.captures: dict[str, Any] = {}
        self.logged_in = False
        self.user_id: Any = None
        self.skipped = 0
        self.last = Answer(0, None, False)

    # ------------------------------------------------------------------ session

    def start_session(self) -> None:
        """Sign up as the agent (or log in when the account exists); one ledger line."""
        signup = self.spec.actions["signup"]
        first = signup.steps[0]
        for attempt in range(WRITE_RETRIES + 1):
            answer = self.request(first, {}, auth=False)
            if answer.ok:
                # a sign-up that captures nothing (no token) did not start a session
                self.logged_in = bool(first.captures) or self.login()
                break
            if answer.status in first.exists and self.login():
                break
            if 400 <= answer.status < 500 and answer.status not in (*first.exists, *RETRYABLE):
                break  # refused for good (a bad profile): the agent acts without an account
            self._backoff(attempt)
        self.user_id = self.captures.get("user_id", self.user_id)
        self.ledger.record(
            "agent",
            agent_id=self.plan.agent_id,
            persona=self.plan.persona,
            email=self.email,
            user_id=self.user_id,
            worker=self.worker_index,
        )

    def login(self) -> bool:
        """Log in (the target's ``login`` action); True on success. A busy or unreachable
        app (429, 5xx, no answer) is asked again, backing off; a refusal is final."""
        for attempt in range(LOGIN_RETRIES + 1):
            answers = self._run(self.spec.actions["login"], {}, auth=False)
            self.logged_in = bool(answers) and all(a.ok for a in answers)
            status = answers[-1].status if answers else 0
            if self.logged_in or (400 <= status < 500 and status not in (408, 429)):
                break
            self._backoff(attempt)
        self.user_id = self.captures.get("user_id", self.user_id)
        return self.logged_in

    # ------------------------------------------------------------------ actions

    def perform(self, action: PlannedAction) -> None:
        """Carry out one planned action as the target says (skipped kinds are counted)."""
        if action.kind == "signup":
            if not self.logged_in:
                self.start_session()
            return
        if action.kind == "login":
            if not self.logged_in:
                self.login()
            return
        spec = self.spec.action(action.kind)
        if spec is None:
            self.skipped += 1
            return
        if action.kind == "logout" and not self.logged_in:
            return
        if not self.logged_in:
            self.login()
        if spec.key is not None:
            self._write(spec, [action.payload])
        else:
            self._run(spec, {"action": dict(action.payload)})

    def upload_spendings(self, payloads: Sequence[Mapping[str, Any]]) -> int:
        """Upload spendings with the target's batch write (``add_spendings``, at most
        ``batch_size`` a request, one calendar month each) or, when it skips batches, one
        by one; returns how many the app acknowledged."""
        if not self.logged_in:
            self.login()
        batch = self.spec.action("add_spendings")
        single = self.spec.actions["add_spending"]
        done = 0
        if batch is None:
            return sum(self._write(single, [p]) for p in payloads)
        for chunk in month_batches(payloads, self.spec.batch_size):
            done += self._write(batch, chunk)
        return done

    # ------------------------------------------------------------------ writes

    def _write(self, spec: ActionSpec, payloads: Sequence[Mapping[str, Any]]) -> int:
        """Send a write (one spending or a batch) until acknowledged or refused for good;
        returns the spendings acknowledged."""
        try:
            keys = [str(render_tree(spec.key, self._context(p))) for p in payloads]
            context = self._write_context(spec, payloads)
        except TemplateError as exc:
            self.on_failure(spec.steps[0].method, spec.steps[0].name, f"template: {exc}")
            return 0
        extra = {spec.idempotency_header: keys[0]} if spec.idempotency_header and keys else {}
        self._record("sent", keys)
        for attempt in range(WRITE_RETRIES + 1):
            answer = self.request(spec.steps[0], context, extra_headers=extra, body=True)
            if answer.ok:
                self._record("ack", keys, answer)
                return len(keys)
            if 400 <= answer.status < 500 and answer.status not in RETRYABLE:
                return 0  # refused for good: nothing to retry, nothing acknowledged
            if answer.status == 401:
                self.login()
            self._backoff(attempt)
        return 0

    def _write_context(
        self, spec: ActionSpec, payloads: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        if spec.name != "add_spendings":
            return {"action": dict(payloads[0])}
        single = self.spec.actions["add_spending"].steps[0]
        bodies = [render_tree(single.json or single.form, self._context(p)) for p in payloads]
        return {"batch": bodies, "action": {"count": len(payloads)}}

    def _record(self, kind: str, keys: list[str], answer: Answer | None = None) -> None:
        who = {"agent_id": self.plan.agent_id, "email": self.email}
        if len(keys) == 1:
            data = answer.data if answer is not None and isinstance(answer.data, dict) else {}
            extra = {"spending_id": data.get("id")} if kind == "ack" else {}
            self.ledger.record(kind, **who, client_txn_id=keys[0], **extra)
        else:
            self.ledger.record(f"{kind}_batch", **who, client_txn_ids=keys)

    # ------------------------------------------------------------------ requests

    def _context(self, payload: Mapping[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        context = {**self.base, "session": dict(self.captures), **extra}
        if payload is not None:
            context["action"] = dict(payload)
        return context

    def _run(
        self, spec: ActionSpec, context: Mapping[str, Any], *, auth: bool = True
    ) -> list[Answer]:
        """Every step of a (non-write) action; stops at the first failed step."""
        answers: list[Answer] = []
        for step in spec.steps:
            for item in self._items(step, context):
                answer = self.request(step, {**context, **item}, auth=auth and step.auth)
                answers.append(answer)
                if not answer.ok:
                    return answers
        return answers

    def _items(self, step: RequestSpec, context: Mapping[str, Any]) -> list[dict[str, Any]]:
        if step.for_each is None:
            return [{}]
        full = self._context(**context)
        try:
            values = list(step.for_each.render(full) or [])
            limit = int(step.limit.render(full)) if step.limit is not None else len(values)
        except (TemplateError, TypeError, ValueError) as exc:
            self.on_failure(step.method, step.name, f"for_each: {exc}")
            return []
        return [{"item": value} for value in values[: max(limit, 0)]]

    def request(
        self,
        step: RequestSpec,
        context: Mapping[str, Any],
        *,
        auth: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        body: bool = False,
    ) -> Answer:
        """One request as ``step`` says, judged by its statuses and captures.

        The answer's JSON is decoded only when something needs it (a JSON capture, a
        failure's message, ``body``): most views are read and thrown away, and decoding
        costs the client CPU."""
        full = self._context(**context)
        try:
            path, kwargs = self._build(step, full, auth and step.auth)
        except TemplateError as exc:
            self.on_failure(step.method, step.name, f"template: {exc}")
            self.last = Answer(0, None, False)
            return self.last
        kwargs["headers"].update(extra_headers or {})
        with self.client.request(
            step.method, path, name=step.name, catch_response=True, **kwargs
        ) as response:
            status = int(response.status_code or 0)
            ok = status in step.ok
            wanted = body or not ok or any(c.source == "json" for c in step.captures)
            data = _json_or_none(response) if wanted and status and status != 204 else None
            problem = self._capture(step.captures, response, data) if ok else None
            if (ok and problem is None) or status in step.exists:
                response.success()  # "the account exists" is an answer, not a failure
            else:
                response.failure(problem or f"HTTP {status}: {_error_text(data)}")
                ok = False
        if status == 401 and auth:
            self._end_session()
        if ok and step.end_session:
            self._end_session()
        self.last = Answer(status, data, ok)
        return self.last

    def _build(
        self, step: RequestSpec, context: Mapping[str, Any], auth: bool
    ) -> tuple[str, dict[str, Any]]:
        path = str(step.path.render(context))
        query = render_tree(step.query, context) if step.query else {}
        if query:
            path += ("&" if "?" in path else "?") + urlencode(query, doseq=True)
        headers = {
            **render_tree(self.spec.headers or {}, context),
            **render_tree(step.headers or {}, context),
        }
        headers = {k: str(v) for k, v in headers.items()}
        session = self.spec.session
        if auth:
            headers.update(self._auth_headers(context))
        kwargs: dict[str, Any] = {"headers": headers}
        csrf = self.captures.get(session.csrf_capture) if session.csrf_capture else None
        if step.json is not None:
            body = render_tree(step.json, context)
            if csrf is not None and session.csrf_field and step.method != "GET":
                body[session.csrf_field] = csrf
            kwargs["json"] = body
        elif step.form is not None:
            form = render_tree(step.form, context)
            if csrf is not None and session.csrf_field and step.method != "GET":
                form[session.csrf_field] = csrf
            kwargs["data"] = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return path, kwargs

    def _auth_headers(self, context: Mapping[str, Any]) -> dict[str, str]:
        session, out = self.spec.session, {}
        token = self.captures.get(session.token)
        if session.style == "bearer" and token:
            out["Authorization"] = f"Bearer {token}"
        if session.style == "api_key" and session.api_key_value and session.api_key_header:
            out[session.api_key_header] = str(session.api_key_value.render(context))
        csrf = self.captures.get(session.csrf_capture) if session.csrf_capture else None
        if csrf is not None and session.csrf_header:
            out[session.csrf_header] = str(csrf)
        return out

    def _capture(self, captures: Sequence[Capture], response: Any, data: Any) -> str | None:
        """Keep the step's captures; the reason when a required one does not match."""
        for capture in captures:
            value = capture_value(capture, response, data, self.client)
            if value is None:
                if capture.required:
                    where = f"{capture.source} {capture.where!r}"
                    return f"capture {capture.name}: {where} not in the answer"
                continue
            self.captures[capture.name] = value
        return None

    def _end_session(self) -> None:
        self.captures = {k: v for k, v in self.captures.items() if k == "user_id"}
        self.logged_in = False
        jar = getattr(self.client, "cookiejar", None)
        if jar is not None and self.spec.session.style == "cookie":
            jar.clear()

    def _backoff(self, attempt: int) -> None:
        self.sleep(RETRY_BACKOFF[min(attempt, len(RETRY_BACKOFF) - 1)])


def capture_value(capture: Capture, response: Any, data: Any, client: Any) -> Any:
    """The value a capture takes from an answer, or None."""
    if capture.source == "json":
        return json_pointer(data, capture.where)
    if capture.source == "header":
        return (getattr(response, "headers", None) or {}).get(capture.where)
    if capture.source == "cookie":
        jar = getattr(client, "cookiejar", None) or ()
        return next((c.value for c in jar if c.name == capture.where), None)
    match = re.search(capture.where, getattr(response, "text", "") or "")
    return match.group(1) if match else None


def json_pointer(data: Any, pointer: str) -> Any:
    """RFC 6901: the value at ``pointer`` in ``data``, or None."""
    if pointer == "":
        return data
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def month_batches(
    payloads: Sequence[Mapping[str, Any]], size: int
) -> list[list[Mapping[str, Any]]]:
    """Spendings (in time order) grouped by calendar month, at most ``size`` per group."""
    batches: list[list[Mapping[str, Any]]] = []
    month = ""
    for payload in payloads:
        this_month = str(payload.get("spent_at") or payload.get("ts"))[:7]
        if not batches or this_month != month or len(batches[-1]) == size:
            batches.append([])
        month = this_month
        batches[-1].append(payload)
    return batches


def _json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except Exception:
        return None


def _error_text(data: Any) -> str:
    if isinstance(data, Mapping):
        return str(data.get("error") or data)[:200]
    return "no JSON body"
