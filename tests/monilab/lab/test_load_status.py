"""``monilab load``'s exit status: one meaning per code (monilab.contracts.exitcodes)."""

from __future__ import annotations

from monilab.contracts import exitcodes
from monilab.lab.commands.load import status

HELD = {"declared": True, "ok": True, "missing": 0}
LOST = {"declared": True, "ok": False, "missing": 2}
PASSED = [{"expr": "p95<300ms", "ok": True}]
FAILED = [{"expr": "p95<300ms", "ok": True}, {"expr": "rps>200", "ok": False}]


def test_every_check_held_is_0():
    assert status({"reconciliation": HELD, "thresholds": PASSED}) == exitcodes.OK
    assert status({"reconciliation": {"declared": False, "ok": None}}) == exitcodes.OK
    assert status({}) == exitcodes.OK  # --no-reconcile and no threshold: nothing claimed


def test_a_failed_or_unchecked_threshold_is_1():
    assert status({"reconciliation": HELD, "thresholds": FAILED}) == exitcodes.THRESHOLDS_FAILED


def test_lost_writes_are_3_and_win_over_thresholds():
    assert status({"reconciliation": LOST, "thresholds": PASSED}) == exitcodes.WRITES_LOST
    assert status({"reconciliation": LOST, "thresholds": FAILED}) == exitcodes.WRITES_LOST


def test_the_codes_are_distinct():
    codes = [exitcodes.OK, exitcodes.THRESHOLDS_FAILED, exitcodes.COULD_NOT_RUN]
    codes += [exitcodes.WRITES_LOST, exitcodes.INTERRUPTED]
    assert len(set(codes)) == 5
