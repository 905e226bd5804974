"""Finding the Locust processes a test started (they run in their own session)."""

from __future__ import annotations

from pathlib import Path


def locust_pids(out: Path) -> list[int]:
    """Locust processes started for ``out`` (by their command line)."""
    return [pid for pid, cmdline, _ in _processes() if "locust" in cmdline and str(out) in cmdline]


def locust_pids_in(machine: Path) -> list[int]:
    """Locust processes whose working directory is ``machine``."""
    here = machine.resolve()
    return [pid for pid, cmdline, cwd in _processes() if "locust" in cmdline and cwd == here]


def _processes() -> list[tuple[int, str, Path | None]]:
    """(pid, command line, working directory) of every process we may read."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd: Path | None = (entry / "cwd").resolve()
        except OSError:
            continue
        found.append((int(entry.name), cmdline, cwd))
    return found
