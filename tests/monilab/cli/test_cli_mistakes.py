"""Every user mistake of issues 19 (L5) and 18 ends in one readable line and a non-zero exit.

Each row runs the real ``monilab`` command in a subprocess with a bad input and asserts one
line on stderr, no traceback and exit status 2. (``--host`` mistakes and the rest are in
the commands' own tests.)
"""

from __future__ import annotations

import functools
import http.server
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monilab.lab.appprocess import free_port

pytestmark = pytest.mark.integration

PERSONAS = "sim/agents/personas/default.toml"
TARGETS = "calibration/targets/seoul_coffee_2024.csv"
UNREACHABLE_PG = "postgresql://user:pw@127.0.0.1:1/moni"
NO_DB = "cannot use the database"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file where a directory is expected, a data dir whose database is not SQLite, a
    binary 'CSV', a plan that is not JSON, and an app database with one run id."""
    root = tmp_path_factory.mktemp("mistakes")
    (root / "a-file").write_text("x")
    (root / "not-sqlite").mkdir()
    (root / "not-sqlite" / "moni.sqlite3").write_text("not a database")
    (root / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (root / "plan.txt").write_text("this is not a plan\n")
    from target_app import create_app

    app = create_app({"SECRET_KEY": "k", "MONILAB_DATA_DIR": str(root / "app")})
    body = {"email": "runner@example.com", "password": "correct-horse-1", "name": "r"}
    app.test_client().post("/api/v1/auth/signup", json=body, headers={"X-Run-Id": "run-1"})
    app.extensions["monilab"].db.dispose()
    return root


@pytest.fixture(scope="module")
def healthy_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A static server whose /healthz answers 200 (so load gets as far as reading --plan)."""
    root = tmp_path_factory.mktemp("static")
    (root / "healthz").write_text("ok")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


CASES = {
    "serve: bad database URL scheme": (
        ["serve", "--database-url", "mongodb://x/y", "--port", "{port}"], "database URL"),
    "export: bad database URL scheme": (
        ["export", "--database-url", "mongodb://x/y", "--out", "{tmp}/e"], "database URL"),
    "serve: unreachable database": (
        ["serve", "--database-url", UNREACHABLE_PG, "--port", "{port}"], NO_DB),
    "export: unreachable database": (
        ["export", "--database-url", UNREACHABLE_PG, "--out", "{tmp}/e"], NO_DB),
    "serve: data dir whose database is not SQLite": (
        ["serve", "--data-dir", "{files}/not-sqlite", "--port", "{port}"], "not a database"),
    "export: data dir whose database is not SQLite": (
        ["export", "--data-dir", "{files}/not-sqlite", "--out", "{tmp}/e"], "not a database"),
    "generate: --out is a file": (
        ["generate", "--users", "3", "--days", "2", "--seed", "1", "--out", "{files}/a-file"],
        "a file where a directory is needed"),
    "generate: --out under an unwritable path": (
        ["generate", "--users", "3", "--days", "2", "--seed", "1", "--out", "/proc/none/x"],
        "/proc/none"),
    "export: --out is a file": (
        ["export", "--data-dir", "{files}/app", "--out", "{files}/a-file"],
        "a file where a directory is needed"),
    "export: unknown run id": (
        ["export", "--data-dir", "{files}/app", "--out", "{tmp}/e", "--run-id", "no-such-run"],
        "no user signed up with that run id (known: run-1)"),
    "load: --out is a file": (
        ["load", "--host", "{host}", "--out", "{files}/a-file"], "a file where a directory"),
    "load: --plan is not JSON": (
        ["load", "--host", "{host}", "--plan", "{files}/plan.txt", "--out", "{tmp}/l"],
        "not a load plan"),
    "calibrate: --out is a file": (
        ["calibrate", "--personas", PERSONAS, "--targets", TARGETS, "--budget", "2",
         "--out", "{files}/a-file"], "a file where a directory is needed"),
    "calibrate: --targets is a binary file": (
        ["calibrate", "--personas", PERSONAS, "--targets", "{files}/binary.csv", "--budget", "2",
         "--out", "{tmp}/c"], "not a UTF-8 text"),
    "serve: port in use": (["serve", "--port", "{busy}", "--data-dir", "{tmp}/d"], "is in use"),
    # issue 18: the release-gate options
    "load: a threshold with a bad unit": (
        ["load", "--host", "{host}", "--out", "{tmp}/l", "--threshold", "p95<3xx"], "unit 'xx'"),
    "load: a threshold without a limit": (
        ["load", "--host", "{host}", "--out", "{tmp}/l", "--threshold", "lost_writes"],
        "expected [SCOPE:] METRIC OP VALUE"),
    "load: --junit where no file can be written": (
        ["load", "--host", "{host}", "--out", "{tmp}/l", "--junit", "{files}/a-file/j.xml"],
        "--junit"),
    "load: --server-log that does not exist": (
        ["load", "--host", "{host}", "--out", "{tmp}/l", "--server-log", "{tmp}/none"],
        "no such directory"),
    "load: --worker-wait of nothing": (
        ["load", "--host", "{host}", "--out", "{tmp}/l", "--worker-wait", "0s"],
        "must be positive"),
    "compare: a run directory that does not exist": (
        ["compare", "{tmp}/a", "{tmp}/b"], "{tmp}/a"),
    "compare: a negative tolerance": (
        ["compare", "{files}", "{files}", "--fail-on-regression", "-5"], "fail-on-regression"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_a_mistake_is_one_line_and_a_non_zero_exit(case, files, healthy_host, busy_port, tmp_path):
    argv, expected = CASES[case]
    values = {
        "files": str(files),
        "tmp": str(tmp_path),
        "host": healthy_host,
        "port": str(free_port()),
        "busy": str(busy_port),
    }
    args = [arg.format(**values) for arg in argv]
    expected = expected.format(**values)
    done = subprocess.run(
        [sys.executable, "-m", "monilab", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, (case, done.returncode, done.stderr[-1500:])
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-1500:]
    assert lines[0].startswith(f"monilab {args[0]}: error: ") and expected in lines[0], lines[0]
