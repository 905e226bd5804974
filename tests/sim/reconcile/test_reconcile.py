"""Reconciliation of acknowledged writes against stored rows."""

from __future__ import annotations

from sim.reconcile.check import reconcile_writes


def test_clean_run_reconciles_to_zeros():
    keys = [("a1", f"t{i}") for i in range(5)]
    result = reconcile_writes(sent=keys, acknowledged=keys, stored=keys)
    assert result.ok
    assert (result.missing, result.duplicated, result.unexpected) == (0, 0, 0)
    assert result.acknowledged == result.stored == 5


def test_lost_duplicated_and_foreign_writes_are_counted():
    sent = [("a1", "t1"), ("a1", "t2"), ("a2", "t1"), ("a2", "t9")]
    acked = [("a1", "t1"), ("a1", "t2"), ("a2", "t1")]
    stored = [("a1", "t1"), ("a2", "t1"), ("a2", "t1"), ("a3", "zz"), ("a2", "t9")]
    result = reconcile_writes(sent=sent, acknowledged=acked, stored=stored)
    assert not result.ok
    assert result.missing == 1 and result.missing_examples == (("a1", "t2"),)
    assert result.duplicated == 1 and result.duplicated_examples == (("a2", "t1"),)
    assert result.unexpected == 1 and result.unexpected_examples == (("a3", "zz"),)
    # t9 was sent, never acknowledged, but stored: information, not an error.
    assert result.unacknowledged == 1 and result.unacknowledged_stored == 1
    assert result.as_dict()["ok"] is False
