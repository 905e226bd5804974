"""Reading an agent's stored writes back through the app, as its target file says.

After a load run the lab logs in as each agent (the target's ``login`` action) and pages
through the records of ``[readback]``; the keys it renders from them are compared with the
keys the ledger says were acknowledged (:mod:`sim.reconcile.check`). A target without
``[readback]`` cannot be reconciled, and the summary says so.
"""

from __future__ import annotations

from typing import Any

from sim.plan.records import AgentPlan
from sim.reconcile.ledger import Ledger
from sim.targets.http import RequestsClient
from sim.targets.session import TargetSession, json_pointer
from sim.targets.spec import TargetSpec
from sim.targets.templates import TemplateError, render_tree

MAX_PAGES = 100_000


class StoredReadError(RuntimeError):
    """The app could not be read back (down, or an agent's login failed)."""


class AccountMissing(StoredReadError):
    """The agent's account does not exist (its login is refused)."""


def stored_keys(spec: TargetSpec, host: str, run_id: str, agent_id: str) -> list[str]:
    """Every stored write key of one agent (a duplicate appears twice)."""
    if spec.readback is None:
        raise StoredReadError(f"target {spec.name} declares no [readback]")
    client = RequestsClient(host)
    try:
        session = TargetSession(
            spec, client, run_id, AgentPlan(0, agent_id, "", ()), Ledger(), source="api"
        )
        if not session.login():
            status = session.last.status
            if status in (401, 403, 404):
                raise AccountMissing(f"login as {session.email} refused: HTTP {status}")
            raise StoredReadError(f"login as {session.email} failed: HTTP {status}")
        return _pages(session, spec)
    finally:
        client.close()


def _pages(session: TargetSession, spec: TargetSpec) -> list[str]:
    readback = spec.readback
    assert readback is not None
    keys: list[str] = []
    offset = 0
    for number in range(MAX_PAGES):
        page = {"offset": offset, "number": number}
        answer = session.request(readback.request, {"page": page}, body=True)
        if not answer.ok:
            raise StoredReadError(f"listing the writes of {session.email}: HTTP {answer.status}")
        items = json_pointer(answer.data, readback.items)
        if not isinstance(items, list):
            raise StoredReadError(f"readback.items {readback.items!r}: not a list in the answer")
        keys += [_key(readback.key, session, item) for item in items]
        offset += len(items)
        total = json_pointer(answer.data, readback.total) if readback.total else None
        if not items or (total is not None and offset >= int(total)):
            return keys
    raise StoredReadError(f"readback: more than {MAX_PAGES} pages for {session.email}")


def _key(template: Any, session: TargetSession, item: Any) -> str:
    try:
        return str(render_tree(template, {**session.base, "item": item}))
    except TemplateError as exc:
        raise StoredReadError(f"readback.key: {exc}") from None
