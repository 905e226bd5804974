"""Reconciliation: every write the app acknowledged must be stored exactly once.

The load tool records, per agent, every spending it *sent* and every one the app
*acknowledged* (2xx with the stored row), keyed by ``client_txn_id``. After the run the app's
stored spendings for the same users are compared with that ledger:

- ``missing``: acknowledged but not stored (a lost write);
- ``duplicated``: stored more than once for the same user and ``client_txn_id``;
- ``unexpected``: stored but never sent by the agent (a write nobody made).

All three are expected to be 0. A spending that was sent but never acknowledged (the app
died mid-request and the retry budget ran out) may or may not be stored: it is counted in
``unacknowledged`` and ``unacknowledged_stored`` for information, and is not an error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

WriteKey = tuple[str, str]
"""(agent or user key, client_txn_id)."""


@dataclass(frozen=True)
class Reconciliation:
    """Counts of a reconciliation; ``ok`` when nothing is missing, duplicated or unexpected."""

    sent: int
    acknowledged: int
    stored: int
    missing: int
    duplicated: int
    unexpected: int
    unacknowledged: int
    unacknowledged_stored: int
    missing_examples: tuple[WriteKey, ...] = ()
    duplicated_examples: tuple[WriteKey, ...] = ()
    unexpected_examples: tuple[WriteKey, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every acknowledged write is stored exactly once and nothing else is."""
        return self.missing == self.duplicated == self.unexpected == 0

    def as_dict(self) -> dict:
        """JSON-ready form, with ``ok``."""
        data = asdict(self)
        for key in ("missing_examples", "duplicated_examples", "unexpected_examples"):
            data[key] = [list(pair) for pair in data[key]]
        data["ok"] = self.ok
        return data


def reconcile_writes(
    sent: Iterable[WriteKey],
    acknowledged: Iterable[WriteKey],
    stored: Iterable[WriteKey],
    *,
    examples: int = 5,
) -> Reconciliation:
    """Compare what agents sent and the app acknowledged with what the app stored.

    Args:
        sent: Every write attempted (retries of one write share its key).
        acknowledged: Writes the app answered with success.
        stored: One key per stored row (a key twice means a duplicate).
        examples: How many example keys of each problem to keep.
    """
    sent_set = set(sent)
    acked = set(acknowledged)
    stored_counts = Counter(stored)
    stored_set = set(stored_counts)
    missing = sorted(acked - stored_set)
    duplicated = sorted(key for key, count in stored_counts.items() if count > 1)
    unexpected = sorted(stored_set - sent_set - acked)
    unacked = sent_set - acked
    return Reconciliation(
        sent=len(sent_set | acked),
        acknowledged=len(acked),
        stored=sum(stored_counts.values()),
        missing=len(missing),
        duplicated=len(duplicated),
        unexpected=len(unexpected),
        unacknowledged=len(unacked),
        unacknowledged_stored=len(unacked & stored_set),
        missing_examples=tuple(missing[:examples]),
        duplicated_examples=tuple(duplicated[:examples]),
        unexpected_examples=tuple(unexpected[:examples]),
    )
