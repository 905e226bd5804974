"""Run Locust in its own process and collect what it leaves behind.

Locust monkey-patches the process with gevent on import, so the lab never imports it here:
:func:`run_locust` builds the ``locust`` command line for the lab's locustfile
(:mod:`sim.locustfiles.moni`), runs it as a subprocess, and returns the paths of its CSV and
HTML reports and of the lab's own ledger (sent/acknowledged writes, per-persona latencies).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sim.plan.shapes import ShapeSpec

LOCUSTFILE = Path(__file__).resolve().parent.parent / "locustfiles" / "moni.py"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadRun:
    """One Locust invocation.

    Attributes:
        host: Base URL of the app under load.
        shape: The load shape (users over time).
        plan_source: Where this machine's processes build their agents
            (:meth:`sim.plan.source.PlanSource.to_json`).
        plan_digest: The hash of the plan that source yields (a worker checks it against
            its master's).
        out: Output directory (reports, ledger).
        run_id: Sent as ``X-Run-Id`` on every request.
        role: ``local`` (one process or ``processes`` workers), ``master`` or ``worker``.
        processes: Worker processes on this machine (``--processes``); 0 for one process.
        expect_workers: Workers a master waits for.
        master_host: Where a worker finds its master.
        master_port: The master's port.
        worker_wait: Seconds a master waits for its workers to connect.
        web: Serve Locust's web UI instead of running headless; the run starts when the
            user presses start and ends (Locust exits) when the shape ends or the user stops it.
        web_host: Address the web UI listens on.
        web_port: Port of the web UI.
        target: The target file or ``package.module:Class`` ("" for the bundled Moni).
        max_wait: Cap in real seconds on one wait between an agent's actions.
        extra_args: Further Locust arguments, passed as they are.
    """

    host: str
    shape: ShapeSpec
    plan_source: str
    plan_digest: str
    out: Path
    run_id: str
    max_wait: float
    role: str = "local"
    processes: int = 0
    expect_workers: int = 1
    master_host: str = "127.0.0.1"
    master_port: int = 5557
    worker_wait: float = 60.0
    web: bool = False
    web_host: str = "127.0.0.1"
    web_port: int = 8089
    target: str = ""
    extra_args: Sequence[str] = field(default_factory=tuple)

    @property
    def csv_prefix(self) -> Path:
        """Prefix of Locust's CSV files (``<prefix>_stats.csv`` ...)."""
        return self.out / "locust"

    @property
    def html_report(self) -> Path:
        """Locust's HTML report."""
        return self.out / "locust_report.html"

    @property
    def ledger_dir(self) -> Path:
        """Where the locustfile writes the ledger of writes and per-persona latencies."""
        return self.out / "ledger"

    @property
    def timeout(self) -> float | None:
        """How long the lab waits for Locust before stopping it (None: no limit).

        A headless run ends with its shape, so a stuck one is stopped a while after that
        (plus ``worker_wait`` when workers have to find their master first).
        A web run waits for the user to press start, however long that takes; it ends when
        the shape ends or the user stops it from the UI (:mod:`sim.locustfiles.webmode`).
        """
        if self.web:
            return None
        waiting = self.worker_wait if self.role != "local" or self.processes else 0.0
        return self.shape.run_time + 120 + waiting


def locust_command(run: LoadRun) -> list[str]:
    """The full ``locust`` command line for a run."""
    shape = run.shape
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--host",
        run.host,
        "--loglevel",
        "WARNING",
        "--logfile",
        str(run.out / f"locust-{run.role}.log"),
        "--stop-timeout",
        "10",
        "--exit-code-on-error",
        "0",
        "--monilab-plan-source",
        run.plan_source,
        "--monilab-plan-digest",
        run.plan_digest,
        "--monilab-run-id",
        run.run_id,
        "--monilab-out",
        str(run.ledger_dir),
        "--monilab-shape",
        shape.kind,
        "--monilab-peak-users",
        str(shape.peak_users),
        "--monilab-spawn-rate",
        str(shape.spawn_rate),
        "--monilab-run-time",
        str(shape.run_time),
        "--monilab-time-scale",
        str(shape.time_scale),
        "--monilab-start-hour",
        str(shape.start_hour),
        "--monilab-max-wait",
        str(run.max_wait),
        "--monilab-target",
        run.target,
    ]
    if shape.hourly_activity:
        cmd += ["--monilab-activity", ",".join(f"{x:.6g}" for x in shape.hourly_activity)]
    if run.role == "worker":
        cmd += ["--worker", "--master-host", run.master_host, "--master-port", str(run.master_port)]
        return cmd + list(run.extra_args)
    if run.web:
        cmd += ["--web-host", run.web_host, "--web-port", str(run.web_port)]
    else:
        cmd += ["--headless"]
    cmd += [
        "--csv",
        str(run.csv_prefix),
        "--csv-full-history",
        "--html",
        str(run.html_report),
        "--json-file",
        str(run.out / "locust_stats"),
        "--only-summary",
    ]
    if run.role == "master":
        cmd += [
            "--master",
            "--master-bind-port",
            str(run.master_port),
            "--expect-workers",
            str(run.expect_workers),
        ]
    elif run.processes > 0:  # its own master on loopback, on a port no other run holds
        port = str(_free_port())
        cmd += ["--processes", str(run.processes), "--master-bind-host", "127.0.0.1"]
        cmd += ["--master-bind-port", port, "--master-port", port]
    if run.role == "master" or run.processes > 0:
        cmd += ["--expect-workers-max-wait", f"{run.worker_wait:g}"]
    return cmd + list(run.extra_args)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_locust(run: LoadRun, *, timeout: float | None = None) -> int:
    """Run Locust to completion in its own process group; returns its exit code.

    The run stops by itself when the shape ends. On Ctrl-C (or ``timeout``) the whole
    process group is interrupted, so forked workers stop too.
    """
    run.out.mkdir(parents=True, exist_ok=True)
    run.ledger_dir.mkdir(parents=True, exist_ok=True)
    cmd = locust_command(run)
    log.debug("locust command: %s", " ".join(cmd))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(run.out / f"locust-{run.role}.out", "wb") as output:
        proc = subprocess.Popen(
            cmd, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            code = proc.wait(timeout=timeout)
        except (KeyboardInterrupt, subprocess.TimeoutExpired):
            _stop_group(proc)
            raise
    _end_leftovers(proc)
    return code


def _end_leftovers(proc: subprocess.Popen) -> None:
    """Locust's forked workers (``--processes``) outlive their master by up to a minute,
    waiting for its heartbeat; the run is over, so they go with it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)


def _stop_group(proc: subprocess.Popen) -> None:
    """Interrupt, then if needed kill, a process group started by :func:`run_locust`."""
    for sig, grace in ((signal.SIGINT, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
