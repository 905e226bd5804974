"""Web-UI runs that end by themselves, like headless ones.

With ``monilab load --web`` Locust serves its UI and waits for the user to press start; the
run then follows the load shape. Left to itself, Locust keeps the UI up after the test
stops (the shape ended, or the user pressed STOP) and never exits, so ``monilab load`` would
never get to its summary. Here, once the test has stopped in the process that serves the UI
(the local runner or the master), the runner quits and the UI's server stops; Locust's
``main`` then returns from waiting on the UI, writes its ``--html``, ``--csv`` and
``--json-file`` reports and exits with its usual code.

Imported by the lab's locustfile (:mod:`sim.locustfiles.moni`) for its listeners; like the
locustfile, it is only ever imported inside the Locust process.
"""

from __future__ import annotations

import logging
from typing import Any

import gevent
from locust import events
from locust.runners import WorkerRunner

log = logging.getLogger(__name__)

# Lets the UI's /stop request get its answer before the server goes away.
QUIT_DELAY_SECONDS = 0.5

_ending: dict[str, Any] = {"web_ui": None, "started": False}


@events.init.add_listener
def _on_init(environment: Any, web_ui: Any = None, **_: Any) -> None:
    """In web mode, end the run after the test stops.

    The listener is added here, not at import: ``init`` fires after every locustfile module
    is imported, so it runs after their own ``test_stop`` listeners (such as the master
    waiting for its workers' last ledger lines, :mod:`sim.locustfiles.parts`).
    """
    if web_ui is None or isinstance(environment.runner, WorkerRunner):
        return
    _ending["web_ui"] = web_ui
    environment.events.test_stop.add_listener(_end_web_run)


def _end_web_run(environment: Any, **_: Any) -> None:
    if _ending["started"]:
        return
    _ending["started"] = True
    # Not in this greenlet: test_stop fires inside runner.stop(), possibly from a greenlet
    # of the runner's own group, which runner.quit() kills.
    gevent.spawn_later(QUIT_DELAY_SECONDS, _quit, environment, _ending["web_ui"])


def _quit(environment: Any, web_ui: Any) -> None:
    log.info("monilab: the test stopped, shutting down the web UI and Locust")
    environment.runner.quit()
    web_ui.stop()
