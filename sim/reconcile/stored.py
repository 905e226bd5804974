"""What the app stored for the agents of a run, read back through the app itself.

Used after a load run to reconcile (see :mod:`sim.reconcile.check`): for every agent in the
ledger, log in with the agent's derived credentials and page through its stored writes as
the target file's ``[readback]`` says (:mod:`sim.targets.readback`). Going through the app
(not its database) makes reconciliation work against any host the load was aimed at.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sim.reconcile.check import Reconciliation, WriteKey, reconcile_writes
from sim.reconcile.ledger import expand_batches
from sim.targets.readback import AccountMissing, StoredReadError, stored_keys
from sim.targets.spec import TargetSpec

__all__ = ["AccountMissing", "StoredReadError", "reconcile_run"]

log = logging.getLogger(__name__)


def reconcile_run(
    host: str,
    ledger_lines: Iterable[Mapping[str, Any]],
    run_id: str,
    target: TargetSpec,
    *,
    threads: int = 8,
) -> Reconciliation:
    """Reconcile a run's ledger with what the app stored for the same users.

    Args:
        host: Base URL of the app.
        ledger_lines: The run's ledger lines (see :mod:`sim.reconcile.ledger`).
        run_id: The run's id (agents' passwords derive from it).
        target: The target file the run used (its ``[readback]`` and ``login``).
        threads: Concurrent read-back sessions.
    """
    sent: list[WriteKey] = []
    acked: list[WriteKey] = []
    agent_of: dict[str, str] = {}
    for line in expand_batches(ledger_lines):
        kind = line.get("type")
        if kind in ("sent", "ack"):
            key = (line["email"], line["client_txn_id"])
            (sent if kind == "sent" else acked).append(key)
        if kind in ("sent", "ack", "agent"):
            agent_of[line["email"]] = line["agent_id"]
    wrote = {email for email, _ in sent} | {email for email, _ in acked}

    def read_one(email: str) -> list[WriteKey]:
        try:
            return [(email, key) for key in stored_keys(target, host, run_id, agent_of[email])]
        except AccountMissing:
            if email in wrote:
                raise
            return []  # the agent never got an account (sign-up failed) and wrote nothing

    stored: list[WriteKey] = []
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for keys in pool.map(read_one, sorted(agent_of)):
            stored += keys
    return reconcile_writes(sent, acked, stored)
