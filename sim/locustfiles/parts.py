"""How the Locust processes of one run account for themselves, so no run passes silently.

Every process that runs agents is a *part* of the run: the local runner is part 0 of 1;
in a distributed run (``--processes`` or ``--master``/``--worker``) worker ``i`` is part
``i`` of ``--expect-workers``. A part ships its ledger lines (to the master as a Locust
custom message, or to its own file) and, when it stops, says so with how many lines it
shipped. The master counts what it received and writes ``<ledger dir>/parts.jsonl``::

    {"type": "connected", "worker": 1}
    {"type": "done", "worker": 1, "sent": 812, "received": 812, "agents": 40}
    {"type": "error", "worker": 1, "message": "..."}

After Locust exits the lab process reads it (:func:`sim.load.parts.check_parts`): a part
that never connected, failed, stopped without saying so, or whose ledger did not all
arrive, fails the run with one line. A worker's error also ends the run at once.

Imported only by the locustfile (it needs gevent and Locust's runners).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.rpc import Message
from locust.runners import MasterRunner, WorkerRunner

from sim.load.parts import PARTS_FILE
from sim.reconcile.ledger import Ledger, append_lines

LEDGER_MESSAGE = "monilab_ledger"
DONE_MESSAGE = "monilab_done"
ERROR_MESSAGE = "monilab_error"
FLUSH_SECONDS = 2.0
DONE_WAIT_SECONDS = 15.0


class Part:
    """This process's side: its ledger and what it has shipped."""

    def __init__(self) -> None:
        self.ledger = Ledger()
        self.shipped = 0
        self.agents = 0
        self.out = Path(".")
        self.runner: Any = None
        self.received: dict[int, int] = {}
        self.reported: set[int] = set()


PART = Part()


def record(out: Path, **fields: Any) -> None:
    """Append one line to the run's ``parts.jsonl``."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / PARTS_FILE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(fields, ensure_ascii=False) + "\n")


def worker_index(runner: Any) -> int:
    """This process's part number (0 for a local runner)."""
    return int(runner.worker_index) if isinstance(runner, WorkerRunner) else 0


def fail(runner: Any, message: str) -> None:
    """This part cannot run its agents: tell the master (or write it here) and stop."""
    if isinstance(runner, WorkerRunner):
        runner.send_message(ERROR_MESSAGE, {"worker": worker_index(runner), "message": message})
    else:
        record(PART.out, type="error", worker=0, message=message)
        gevent.spawn_later(0.1, runner.quit)


def flush(runner: Any) -> None:
    """Ship this process's buffered ledger lines."""
    lines = PART.ledger.drain()
    if not lines:
        return
    PART.shipped += len(lines)
    if isinstance(runner, WorkerRunner):
        runner.send_message(LEDGER_MESSAGE, {"worker": worker_index(runner), "lines": lines})
    else:
        append_lines(PART.out, lines)


def _ship_periodically(runner: Any) -> None:
    while True:
        gevent.sleep(FLUSH_SECONDS)
        flush(runner)


def start_shipping(runner: Any) -> None:
    """Ship the ledger every few seconds, not only at the end: a worker's reaches the master
    as it goes, and every window is a point of latency over time (:mod:`sim.load.compare`)."""
    gevent.spawn(_ship_periodically, runner)


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    runner = PART.runner = environment.runner
    PART.out = Path(environment.parsed_options.monilab_out)
    if isinstance(runner, MasterRunner):
        runner.register_message(LEDGER_MESSAGE, _receive_ledger)
        runner.register_message(DONE_MESSAGE, _receive_done)
        runner.register_message(ERROR_MESSAGE, _receive_error)


@events.worker_connect.add_listener
def _on_worker_connect(client_id: str, **_: Any) -> None:
    if isinstance(PART.runner, MasterRunner):
        record(PART.out, type="connected", worker=PART.runner.get_worker_index(client_id))


def _receive_ledger(environment: Any, msg: Any, **_: Any) -> None:
    worker, lines = int(msg.data["worker"]), msg.data["lines"]
    append_lines(PART.out, lines)
    PART.received[worker] = PART.received.get(worker, 0) + len(lines)


def _receive_done(environment: Any, msg: Any, **_: Any) -> None:
    worker = int(msg.data["worker"])
    PART.reported.add(worker)
    record(
        PART.out,
        type="done",
        worker=worker,
        sent=int(msg.data["sent"]),
        received=PART.received.get(worker, 0),
        agents=int(msg.data["agents"]),
    )


def _receive_error(environment: Any, msg: Any, **_: Any) -> None:
    PART.reported.add(int(msg.data["worker"]))
    record(PART.out, type="error", worker=int(msg.data["worker"]), message=msg.data["message"])
    gevent.spawn_later(0.1, environment.runner.quit)


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        _await_parts(environment)
        return
    flush(runner)
    done = {"worker": worker_index(runner), "sent": PART.shipped, "agents": PART.agents}
    if isinstance(runner, WorkerRunner):
        runner.send_message(DONE_MESSAGE, done)
    else:
        record(PART.out, type="done", received=PART.shipped, **done)


def _await_parts(environment: Any) -> None:
    """The master stops its workers and waits (a bounded time) for each one's last ledger
    lines and word.

    A headless master ends by ``quit()``, which fires ``test_stop`` *before* it tells the
    workers anything and stops listening half a second later: a worker still finishing a
    request would report into the void. So the workers are told to stop here, while the
    master still listens.
    """
    runner = environment.runner
    expected = int(environment.parsed_options.expect_workers or 1)
    if len(PART.reported) < expected:
        for client in runner.clients.all:
            runner.server.send_to_client(Message("stop", None, client.id))
    deadline = time.monotonic() + environment.stop_timeout + DONE_WAIT_SECONDS
    while len(PART.reported) < expected and time.monotonic() < deadline:
        gevent.sleep(0.1)
