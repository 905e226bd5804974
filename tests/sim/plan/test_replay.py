"""Plan files, agent replay timing and disjoint agent leases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from sim.plan.records import (
    AgentPlan,
    PlannedAction,
    agent_credentials,
    read_plan,
    write_plan,
)
from sim.plan.replay import AgentLeases, AgentReplay
from sim.reconcile.ledger import Ledger, append_lines, latency_bucket, read_ledger

T0 = datetime(2024, 3, 1, 8, 0)


def _plan(index: int, gaps_minutes: list[int]) -> AgentPlan:
    at = T0
    actions = []
    for gap in gaps_minutes:
        at += timedelta(minutes=gap)
        actions.append(PlannedAction(at, "add_spending", {"client_txn_id": f"c{index}-{gap}"}))
    return AgentPlan(index, f"a{index:07d}", "yolo_student", tuple(actions))


def test_plan_round_trips(tmp_path):
    plans = [_plan(0, [0, 5]), _plan(1, [3])]
    path = tmp_path / "plan.jsonl"
    assert write_plan(path, plans) == 2
    assert list(read_plan(path)) == plans


def test_replay_waits_follow_the_schedule_compressed_and_capped():
    replay = AgentReplay(_plan(0, [0, 60, 600]), time_scale=60.0, max_wait=100.0)
    assert replay.wait_before_next() == 0.0
    replay.next_action()
    assert replay.wait_before_next() == pytest.approx(60.0)  # 60 sim minutes -> 60 s
    replay.max_wait = 30.0
    replay.next_action()
    assert replay.wait_before_next() == 30.0  # 600 sim minutes, capped
    replay.next_action()
    assert replay.done and replay.wait_before_next() == 0.0


def test_leases_hand_out_a_lazy_slice_once_and_exhaust():
    built = []

    def agents():
        for i in range(3):
            built.append(i)
            yield _plan(i, [0])

    leases = AgentLeases(agents(), worker_index=1)
    assert built == []  # nothing is built before a user asks
    assert leases.take().agent_index == 0 and built == [0]
    leases.prefetch()
    assert built == [0, 1]  # built ahead, handed out next
    assert [leases.take().agent_index, leases.take().agent_index] == [1, 2]
    assert leases.take() is None and leases.taken == 3


def test_credentials_are_derived_per_run():
    email, password = agent_credentials("Run-1", "a0000001")
    assert email == "a0000001.run-1@monilab.test"
    assert agent_credentials("Run-1", "a0000001") == (email, password)
    assert agent_credentials("run-2", "a0000001")[1] != password


def test_ledger_lines_and_latency_histograms(tmp_path):
    ledger = Ledger()
    ledger.record("sent", agent_id="a1", client_txn_id="t1")
    for ms in (4.2, 4.4, 250.0):
        ledger.observe("saver", "/api/v1/spendings", ms, failed=False)
    ledger.observe("saver", "/api/v1/spendings", 1234.0, failed=True)
    append_lines(tmp_path, ledger.drain())
    assert ledger.drain() == []
    lines = list(read_ledger(tmp_path))
    assert lines[0] == {"type": "sent", "agent_id": "a1", "client_txn_id": "t1"}
    assert lines[1]["hist"] == {"4": 2, "250": 1, "1200": 1}
    assert lines[1]["failures"] == 1
    assert latency_bucket(99.4) == 99 and latency_bucket(1049) == 1000
