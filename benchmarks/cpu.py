"""CPU time of benchmark processes (Linux ``/proc``), robust to a shared machine.

Requests/s measured on a machine other jobs share depends on how much CPU we were given;
CPU milliseconds per request do not (much), so the benchmarks print both.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process and all its descendants."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def finished_children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's children that have exited and been waited."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as text."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
