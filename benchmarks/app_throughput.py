"""Throughput of the Moni app under ``monilab serve`` on this machine (127.0.0.1 only).

Starts ``monilab serve`` on a free port with a throwaway data directory, creates one user
with 200 spendings, then drives three scenarios for ``--duration`` seconds each:

- ``GET /healthz`` (a database round trip, no auth);
- ``GET /api/v1/spendings`` (token lookup, a count and a page of 50 rows);
- ``POST /api/v1/spendings`` (token lookup, idempotency lookup and an insert; each request
  has a new ``client_txn_id``).

The load generator is ``wrk`` when installed (``apt-get install wrk``; it costs far less
CPU than the server, which matters on 2 cores), else a threaded Python client. Prints
requests/s, mean latency, non-2xx counts and the **server's CPU ms per request** (user + system
time of the gunicorn master and workers from ``/proc``, so it holds on a shared machine where
requests/s does not), and checks that the request log has one line per request. Example::

    .venv/bin/python benchmarks/app_throughput.py --workers 4 --threads 4 --duration 10
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cpu import load_average, tree_cpu_seconds

LUA_POST = """
local counter = 0
local id = tostring(math.random(1, 1000000000))
request = function()
  counter = counter + 1
  local body = string.format(
    '{"spent_at":"2024-03-01T12:00:00+09:00","amount":%d,"category":"food",'
    .. '"client_txn_id":"bench-%s-%d"}', 1000 + counter % 5000, id, counter)
  return wrk.format("POST", nil, nil, body)
end
"""


@dataclass
class Result:
    """One scenario's outcome."""

    name: str
    requests: int
    seconds: float
    mean_ms: float
    non_2xx: int
    server_cpu_s: float = 0.0

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds

    @property
    def cpu_ms(self) -> float:
        """Server CPU milliseconds per request."""
        return self.server_cpu_s / max(self.requests, 1) * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, method: str = "GET", body: dict | None = None, token: str | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def start_server(args: argparse.Namespace, data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        sys.executable, "-m", "monilab", "serve", "--port", str(port),
        "--workers", str(args.workers), "--threads", str(args.threads),
        "--data-dir", str(data_dir),
    ]  # fmt: skip
    if args.database_url:
        command += ["--database-url", args.database_url]
    env = {**os.environ, "MONILAB_PASSWORD_HASH": "pbkdf2:sha256:1000"}
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            call(f"{base}/healthz")
            return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def run_wrk(name: str, url: str, token: str | None, args: argparse.Namespace, lua: Path | None):
    command = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    command += ["-H", "Content-Type: application/json"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    if lua:
        command += ["-s", str(lua)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", output).group(1))
    mean = re.search(r"Latency\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[mean.group(2)]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: .*", output)
    if errors:
        print(f"  {name}: {errors.group(0)}")
    return Result(
        name,
        total,
        args.duration,
        float(mean.group(1)) * scale,
        int(non_2xx.group(1)) if non_2xx else 0,
    )


def run_python(name: str, url: str, token: str | None, args: argparse.Namespace, post: bool):
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1]
    stop = time.monotonic() + args.duration
    counts, latencies, bad = [0], [0.0], [0]
    lock = threading.Lock()

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        n = 0
        while time.monotonic() < stop:
            n += 1
            body = None
            if post:
                item = {"spent_at": "2024-03-01T12:00:00+09:00", "amount": 1000 + n}
                body = json.dumps({**item, "category": "food", "client_txn_id": f"py-{index}-{n}"})
            started = time.perf_counter()
            connection.request("POST" if post else "GET", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            with lock:
                counts[0] += 1
                latencies[0] += time.perf_counter() - started
                bad[0] += not 200 <= response.status < 300

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(name, counts[0], args.duration, latencies[0] / max(counts[0], 1) * 1000, bad[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args()
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))

    with tempfile.TemporaryDirectory(prefix="moni-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        process, base = start_server(args, data_dir)
        try:
            user = call(f"{base}/api/v1/auth/signup", "POST", {
                "email": f"bench-{time.time_ns()}@example.com", "password": "password-1",
                "name": "bench"})  # fmt: skip
            token = user["token"]
            items = [
                {
                    "spent_at": f"2024-02-{1 + i % 28:02d}T12:00:00+09:00",
                    "amount": 1000 + i,
                    "category": "food",
                }
                for i in range(200)
            ]
            call(f"{base}/api/v1/spendings/batch", "POST", {"items": items}, token)
            lua = Path(tmp) / "post.lua"
            lua.write_text(LUA_POST)
            scenarios = [
                ("GET /healthz", f"{base}/healthz", None, False),
                ("GET /api/v1/spendings", f"{base}/api/v1/spendings", token, False),
                ("POST /api/v1/spendings", f"{base}/api/v1/spendings", token, True),
            ]
            results = []
            for name, url, auth, post in scenarios:
                cpu_before = tree_cpu_seconds(process.pid)
                if use_wrk:
                    result = run_wrk(name, url, auth, args, lua if post else None)
                else:
                    result = run_python(name, url, auth, args, post)
                result.server_cpu_s = tree_cpu_seconds(process.pid) - cpu_before
                results.append(result)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
        log_lines = sum(
            1 for path in (data_dir / "request-log").glob("*.jsonl") for _ in path.open()
        )

    client = "wrk -t2" if use_wrk else "python threads"
    print(
        f"monilab serve: {args.workers} workers x {args.threads} threads, "
        f"{'PostgreSQL' if args.database_url else 'SQLite'}; client {client}, "
        f"{args.connections} connections, {args.duration}s per scenario, {os.cpu_count()} cores"
    )
    print(f"load average {load_average()}")
    print(f"{'scenario':<26}{'req/s':>10}{'mean ms':>10}{'non-2xx':>10}{'server CPU ms/req':>19}")
    for result in results:
        print(
            f"{result.name:<26}{result.rate:>10.0f}{result.mean_ms:>10.1f}{result.non_2xx:>10}"
            f"{result.cpu_ms:>19.2f}"
        )
    measured = sum(r.requests for r in results)
    print(f"request log lines: {log_lines} (scenario requests {measured} + setup/readiness)")


if __name__ == "__main__":
    main()
