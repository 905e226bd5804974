"""Did every Locust process of a run do its part? Read after Locust exits, in the lab process.

The locustfile's processes write ``<ledger dir>/parts.jsonl`` (:mod:`sim.locustfiles.parts`).
A run whose parts cannot all be accounted for has not shown what it claims, so it fails
with one line saying which part and why: a worker that reported an error, never connected,
stopped without a word (crashed, killed, lost), or whose ledger lines did not all arrive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monilab.contracts.errors import MonilabError

PARTS_FILE = "parts.jsonl"


def read_parts(ledger_dir: Path) -> list[dict[str, Any]]:
    """The lines of ``parts.jsonl`` (none when no process wrote one)."""
    path = ledger_dir / PARTS_FILE
    if not path.is_file():
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def check_parts(
    ledger_dir: Path, expected: int, worker_wait: float, output: Path, code: int = 0
) -> None:
    """Raise MonilabError unless Locust (exit status ``code``) ran, each of the ``expected``
    parts finished and its whole ledger arrived. ``output`` is Locust's own output."""
    lines = read_parts(ledger_dir)
    for line in lines:
        if line["type"] == "error":
            raise MonilabError(str(line["message"]))
    if code != 0 and not lines:  # Locust itself could not start (a port, an argument)
        raise MonilabError(f"locust exited with status {code}: {last_error(output)}")
    done = {int(line["worker"]): line for line in lines if line["type"] == "done"}
    if expected > 1:
        connected = {int(line["worker"]) for line in lines if line["type"] == "connected"}
        if len(connected) < expected:
            raise MonilabError(
                f"only {len(connected)} of {expected} workers connected within "
                f"{worker_wait:g}s (--worker-wait); see {output}"
            )
    if code != 0:
        raise MonilabError(f"locust exited with status {code}: {last_error(output)}")
    missing = sorted(set(range(expected)) - set(done))
    if missing:
        who = "the Locust process" if expected == 1 else f"worker {missing[0]} of {expected}"
        raise MonilabError(
            f"{who} did not report its end (it crashed, was killed or lost the master), so "
            f"its agents' writes cannot all be checked; see {output}"
        )
    for worker, line in sorted(done.items()):
        if int(line["received"]) < int(line["sent"]):
            raise MonilabError(
                f"worker {worker}'s ledger is incomplete: it sent {line['sent']} lines, "
                f"{line['received']} arrived; its writes cannot all be checked"
            )


def last_error(output: Path) -> str:
    """The last line of Locust's output that says what went wrong, and where the rest is."""
    try:
        text = output.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"no output at {output}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return f"{(errors or lines or ['no output'])[-1][:300]} (see {output})"
