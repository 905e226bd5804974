"""What the app stored for the agents of a run, read back through its own JSON API.

Used after a load run to reconcile (see :mod:`sim.reconcile.check`): for every agent
in the ledger, log in with the agent's derived credentials and page through its spendings.
Going through the API (not the database) makes reconciliation work against any host the
load was aimed at.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from sim.plan.records import agent_credentials
from sim.reconcile.check import Reconciliation, WriteKey, reconcile_writes
from sim.reconcile.ledger import expand_batches

log = logging.getLogger(__name__)
PAGE = 500


class StoredReadError(RuntimeError):
    """The app could not be read back (down, or an agent's login failed)."""


class AccountMissing(StoredReadError):
    """The agent's account does not exist (its login is refused)."""


def stored_client_ids(host: str, email: str, password: str, *, timeout: float = 30.0) -> list[str]:
    """Every ``client_txn_id`` stored for one user (a duplicate would appear twice)."""
    with requests.Session() as http:
        http.headers["X-Source"] = "api"
        login = http.post(
            f"{host}/api/v1/auth/login",
            json={"email": email, "password": password},
            timeout=timeout,
        )
        if login.status_code == 401:
            raise AccountMissing(f"login as {email} refused: no such account")
        if login.status_code != 200:
            raise StoredReadError(f"login as {email} failed: HTTP {login.status_code}")
        http.headers["Authorization"] = f"Bearer {login.json()['token']}"
        ids: list[str] = []
        offset = 0
        while True:
            page = http.get(
                f"{host}/api/v1/spendings",
                params={"limit": PAGE, "offset": offset},
                timeout=timeout,
            )
            if page.status_code != 200:
                raise StoredReadError(f"listing spendings of {email}: HTTP {page.status_code}")
            data = page.json()
            ids += [item["client_txn_id"] for item in data["items"] if item.get("client_txn_id")]
            offset += len(data["items"])
            if not data["items"] or offset >= data["total"]:
                return ids


def reconcile_run(
    host: str,
    ledger_lines: Iterable[Mapping[str, Any]],
    run_id: str,
    *,
    threads: int = 8,
) -> Reconciliation:
    """Reconcile a run's ledger with what the app stored for the same users.

    Args:
        host: Base URL of the app.
        ledger_lines: The run's ledger lines (see :mod:`sim.reconcile.ledger`).
        run_id: The run's id (agents' passwords derive from it).
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
        password = agent_credentials(run_id, agent_of[email])[1]
        try:
            return [(email, txn) for txn in stored_client_ids(host, email, password)]
        except AccountMissing:
            if email in wrote:
                raise
            return []  # the agent never got an account (sign-up failed) and wrote nothing

    stored: list[WriteKey] = []
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for keys in pool.map(read_one, sorted(agent_of)):
            stored += keys
    return reconcile_writes(sent, acked, stored)
