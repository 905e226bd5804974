"""Ledgerly driven by a Python class instead of a file: the ``--target module:Class`` door.

``monilab load --target examples.ledgerly.flows:LedgerlyFlows`` makes every Locust user's
session an instance of :class:`LedgerlyFlows`. A class target has the interface of
:class:`sim.targets.session.TargetSession` (``start_session``, ``perform``, and
``upload_spendings`` for ``--history``) and is built with the same arguments minus the
target file; here it keeps the file's requests and adds what a file cannot say: every tenth
spending is sent twice (a client that retries after a lost answer), which the app must
store once. Its ``target_spec`` lends the file's ``[readback]`` to the reconciliation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.plan.records import PlannedAction
from sim.targets.session import TargetSession
from sim.targets.spec import load_target

TARGET = Path(__file__).resolve().parent / "target.toml"


class LedgerlyFlows(TargetSession):
    """Ledgerly's target file, with every tenth spending sent twice."""

    health = "/health"
    """The health path the load checks first (a class target names its own)."""
    target_spec = load_target(TARGET)
    """The file whose ``[readback]`` reconciles the run."""

    def __init__(self, client: Any, run_id: str, plan: Any, ledger: Any, **options: Any) -> None:
        super().__init__(self.target_spec, client, run_id, plan, ledger, **options)
        self.spendings = 0

    def perform(self, action: PlannedAction) -> None:
        """Carry out the action; repeat every tenth spending (the app must deduplicate)."""
        super().perform(action)
        if action.kind == "add_spending":
            self.spendings += 1
            if self.spendings % 10 == 0:
                super().perform(action)
