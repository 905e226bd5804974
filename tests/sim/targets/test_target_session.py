"""A target session (the bundled Moni target) against a scripted client (no Locust, no app)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sim import targets
from sim.plan.records import AgentPlan, PlannedAction
from sim.reconcile.ledger import Ledger, expand_batches
from sim.targets.session import TargetSession, month_batches

MONI = targets.load(None)
MAX_BATCH = MONI.batch_size


class _Answer:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code, self.body = status, body
        self.headers: dict[str, str] = {}
        self.text = ""

    def json(self) -> Any:
        return self.body

    def success(self) -> None:
        pass

    def failure(self, message: str) -> None:
        pass


class ScriptedClient:
    """Answers batch uploads with the scripted statuses in turn (then 201), logins with a
    token, and records every request."""

    def __init__(self, batch_statuses: list[int]) -> None:
        self.batch_statuses = batch_statuses
        self.requests: list[tuple[str, str, Any]] = []
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    @contextlib.contextmanager
    def request(self, method: str, path: str, **kw: Any) -> Iterator[_Answer]:
        self.requests.append((method, path, kw.get("json")))
        self.sent.append((method, path, kw))
        if path.endswith("/auth/signup"):
            yield _Answer(201, {"token": "t", "user": {"id": 1}})
        elif path.endswith("/spendings/batch"):
            status = self.batch_statuses.pop(0) if self.batch_statuses else 201
            yield _Answer(status, {"created": 1} if status < 300 else {"error": "down"})
        else:
            yield _Answer(200, {})


def _payloads(months: dict[str, int]) -> list[dict[str, Any]]:
    out = []
    for month, count in months.items():
        for i in range(count):
            out.append(
                {
                    "client_txn_id": f"a-{month}-{i}",
                    "ts": f"{month}-01T10:{i % 60:02d}:00",
                    "amount": 1000 + i,
                    "category": "food",
                    "merchant": "m",
                    "method": "card",
                    "direction": "out",
                }
            )
    return out


def test_batches_are_calendar_months_of_at_most_max_batch():
    payloads = _payloads({"2024-01": 3, "2024-02": MAX_BATCH + 2, "2024-03": 1})
    sizes = [len(batch) for batch in month_batches(payloads, MAX_BATCH)]
    assert sizes == [3, MAX_BATCH, 2, 1]
    assert [p["client_txn_id"] for b in month_batches(payloads, MAX_BATCH) for p in b] == [
        p["client_txn_id"] for p in payloads
    ]


def test_a_failed_batch_is_retried_with_the_same_ids_and_acknowledged_once():
    client = ScriptedClient([503, 0])  # an outage, then a dropped connection, then 201
    ledger = Ledger()
    api = TargetSession(
        MONI, client, "r1", AgentPlan(0, "a0", "p", ()), ledger, sleep=lambda _: None
    )
    api.start_session()
    payloads = _payloads({"2024-01": 4, "2024-02": 2})

    assert api.upload_spendings(payloads) == 6

    batches = [body for _, path, body in client.requests if path.endswith("/batch")]
    assert len(batches) == 4  # January three times (503, connection lost, 201), February once
    january = [[item["client_txn_id"] for item in body["items"]] for body in batches[:3]]
    assert january[0] == january[1] == january[2] and len(january[0]) == 4
    lines = list(expand_batches(ledger.drain()))
    acked = [line["client_txn_id"] for line in lines if line["type"] == "ack"]
    assert sorted(acked) == sorted(p["client_txn_id"] for p in payloads)
    assert {line["type"] for line in lines} >= {"agent", "sent", "ack"}


def test_a_batch_refused_for_good_is_not_acknowledged():
    client = ScriptedClient([422])
    ledger = Ledger()
    api = TargetSession(
        MONI, client, "r1", AgentPlan(0, "a0", "p", ()), ledger, sleep=lambda _: None
    )
    api.start_session()
    assert api.upload_spendings(_payloads({"2024-01": 3})) == 0
    types = [line["type"] for line in ledger.drain()]
    assert "sent_batch" in types and "ack_batch" not in types


def test_expanding_batch_lines_leaves_other_lines_alone():
    lines = [
        {"type": "agent", "agent_id": "a", "email": "e"},
        {"type": "sent_batch", "agent_id": "a", "email": "e", "client_txn_ids": ["x", "y"]},
        {"type": "ack", "agent_id": "a", "email": "e", "client_txn_id": "z"},
    ]
    out = list(expand_batches(lines))
    assert [line["type"] for line in out] == ["agent", "sent", "sent", "ack"]
    assert [line.get("client_txn_id") for line in out[1:3]] == ["x", "y"]


class _Recording(ScriptedClient):
    """Records each answer's verdict (what Locust would count)."""

    def __init__(self, signup_body: dict[str, Any]) -> None:
        super().__init__([])
        self.signup_body = signup_body
        self.verdicts: list[tuple[str, str | None]] = []

    @contextlib.contextmanager
    def request(self, method: str, path: str, **kw: Any) -> Iterator[_Answer]:
        answer = (
            _Answer(201, self.signup_body) if path.endswith("/auth/signup") else _Answer(200, {})
        )
        failed: list[str] = []
        answer.failure = failed.append  # type: ignore[method-assign]
        yield answer
        self.verdicts.append((path, failed[0] if failed else None))


def test_a_capture_that_never_matches_fails_the_request_with_its_reason():
    client = _Recording({"user": {"id": 3}})  # no token in the answer
    api = TargetSession(
        MONI, client, "r1", AgentPlan(0, "a0", "p", ()), Ledger(), sleep=lambda _: None
    )
    api.start_session()
    path, reason = client.verdicts[0]
    assert path.endswith("/auth/signup") and reason is not None
    assert "capture token: json '/token' not in the answer" in reason
    assert not api.logged_in


def test_a_template_that_fails_at_run_time_is_a_failure_with_its_reason(tmp_path):
    text = targets.DEFAULT_TARGET.read_text(encoding="utf-8").replace(
        'amount = "{{ action.amount }}"', 'amount = "{{ action.amount + action.tip }}"', 1
    )
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    failures: list[tuple[str, str, str]] = []
    api = TargetSession(
        targets.load(path), ScriptedClient([]), "r1", AgentPlan(0, "a0", "p", ()), Ledger(),
        sleep=lambda _: None, on_failure=lambda *f: failures.append(f),
    )  # fmt: skip
    api.start_session()
    api.perform(PlannedAction(datetime(2024, 3, 1), "add_spending", _payloads({"2024-03": 1})[0]))
    assert failures and failures[0][:2] == ("POST", "/api/v1/spendings")
    assert failures[0][2].startswith("template: ") and "tip" in failures[0][2]


def test_an_api_key_session_sends_its_key_on_every_authenticated_request(tmp_path):
    text = targets.DEFAULT_TARGET.read_text(encoding="utf-8").replace(
        'style = "bearer"\ntoken = "token"',
        'style = "api_key"\napi_key = { header = "X-Api-Key", value = "key-{{ agent.id }}" }',
        1,
    )
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    client = ScriptedClient([])
    api = TargetSession(
        targets.load(path), client, "r1", AgentPlan(0, "a7", "p", ()), Ledger(),
        sleep=lambda _: None,
    )  # fmt: skip
    api.start_session()
    api.perform(PlannedAction(datetime(2024, 3, 1), "view_assets", {}))
    sent = {path: kw for _, path, kw in client.sent}
    assert sent["/api/v1/assets"]["headers"]["X-Api-Key"] == "key-a7"
    assert "Authorization" not in sent["/api/v1/assets"]["headers"]
    assert "X-Api-Key" not in sent["/api/v1/auth/signup"]["headers"]  # auth = false
