"""Load at scale (issue 18): flat memory from 10,000 to 1,000,000 agents, and the sizing.

Prints, measured in one run on this machine (127.0.0.1 only):

1. Memory: ``monilab load`` with populations of 10,000 and 1,000,000 agents (same users,
   no waits, a fresh ``monilab serve`` per run), the peak RSS (VmHWM) of its Locust
   process(es) and of the lab process (``monilab load`` itself: the shape's activity
   profile, the plan digest, the reconciliation), and how many agents were built on demand
   during the run; the ratio of the two populations' peaks (target <= 1.2).
2. Planning: building agents in a fresh process as a Locust process does (what
   ``PlanSource(...).slice(0, 1)`` does: the population, then ``agent_plan`` index by
   index): the population's set-up, the first agent (its shard's simulation: the stall a
   Locust process sees every 5,000 agents), ms per agent amortised over N agents; and the
   planner's peak RSS as it visits 30 shards spread over the population, as a long run
   does (the shard cache makes room, and collects the dropped shard, before it builds
   the next).
3. Requests/s per Locust process: the Locust process's CPU ms per request at saturation
   (whole run, and steady state: from two seconds after the last user started to the end
   of the shape), for persona replay (the memory runs) and for the bare FastHttpUser
   (``sim/locustfiles/bare.py``, GET /healthz); 1000 / CPU ms is what one fully used core
   gives. The wall requests/s are bound by the app on this 2-core machine.
4. The sizing of 10,000,000 requests in one hour from the measured per-process figure.

Usage: python benchmarks/load_scale.py [--quick] [--users 32] [--seconds 40] [--repeats 3]
    [--days 7] [--plan-agents 6000] [--stall-days 30,90] [--processes 0] [--headroom 0.7]
    [--cores 8] [--json FILE]

One measurement alone, printed as JSON: ``--child plan AGENTS COUNT DAYS`` (building the
first COUNT agents of a population) or ``--child shards AGENTS DAYS SHARDS``.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cpu import load_average

BENCH = Path(__file__).resolve()
BARE = BENCH.parent.parent / "sim" / "locustfiles" / "bare.py"
POPULATIONS = (10_000, 1_000_000)
TARGET_REQUESTS, TARGET_SECONDS = 10_000_000, 3600
SEED, START = 7, "2024-03-01"
PASSWORD_HASH = "pbkdf2:sha256:10000"  # as benchmarks/load.py: scrypt would cap signups/s
TICK = os.sysconf("SC_CLK_TCK")
log = logging.getLogger("load_scale")


# ---------------------------------------------------------------- /proc


def status_kib(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS (KiB) of a process, empty once it has gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return {}
    return {
        key: int(value.split()[0])
        for key, _, value in (line.partition(":") for line in text.splitlines())
        if key in ("VmHWM", "VmRSS")
    }


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of one process (its own, not its children's)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def descendants(pid: int) -> list[int]:
    """Every live descendant of a process (by parent links, whatever their session)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                children = [int(c) for c in (task / "children").read_text().split()]
                found += children
                stack += children
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


@dataclass
class Watched:
    """What a sampler saw of one process."""

    hwm_kib: int = 0
    cpu_s: float = 0.0
    series: list[tuple[float, float]] = field(default_factory=list)  # (unix time, CPU s)


class Sampler:
    """Samples a process and its descendants every ``interval`` s until the root exits.

    Keeps, per pid, the peak RSS (VmHWM, falling back to the largest VmRSS seen) and the
    CPU-seconds time series; a process's last sample is at most ``interval`` before it ends.
    """

    def __init__(self, root: int, interval: float = 0.2) -> None:
        self.root, self.interval = root, interval
        self.seen: dict[int, Watched] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            for pid in [self.root, *descendants(self.root)]:
                status, cpu = status_kib(pid), cpu_seconds(pid)
                if not status or cpu is None:
                    continue
                watched = self.seen.setdefault(pid, Watched())
                peak = max(status.get("VmHWM", 0), status.get("VmRSS", 0))
                watched.hwm_kib = max(watched.hwm_kib, peak)
                watched.cpu_s = cpu
                watched.series.append((now, cpu))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def children(self) -> dict[int, Watched]:
        """Every process but the root."""
        return {pid: w for pid, w in self.seen.items() if pid != self.root}


def run_sampled(cmd: list[str], timeout: float) -> tuple[Sampler, float]:
    """Run a command to completion under a sampler; returns it and the wall seconds."""
    began = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sampler = Sampler(proc.pid)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()  # only the process this function started (its Locust stops with it)
        proc.communicate()
        raise
    finally:
        sampler.stop()
    if proc.returncode != 0:
        tail = output.decode(errors="replace")[-2000:]
        raise RuntimeError(f"{cmd[:4]} exited with {proc.returncode}:\n{tail}")
    return sampler, time.monotonic() - began


# ---------------------------------------------------------------- steady-state CPU per request


def steady_window(history_csv: Path, users: int) -> tuple[float, float, int] | None:
    """(from, to, requests) of the steady state in Locust's stats history: from two seconds
    after all ``users`` run to the last row with them (whole-second timestamps)."""
    rows = []
    with open(history_csv, newline="", encoding="utf-8") as fh:
        for record in csv.DictReader(fh):
            if record["Name"] == "Aggregated" and int(record["User Count"]) >= users:
                rows.append((int(record["Timestamp"]), int(record["Total Request Count"])))
    if len(rows) < 2:
        return None
    first = next((r for r in rows if r[0] >= rows[0][0] + 2), rows[0])
    last = rows[-1]
    if last[0] <= first[0]:
        return None
    # A row stamped T was written at some moment of [T, T + 1): take the middle.
    return first[0] + 0.5, last[0] + 0.5, last[1] - first[1]


def cpu_at(series: list[tuple[float, float]], t: float) -> float:
    """CPU seconds at time ``t``, interpolated between samples."""
    before = max((s for s in series if s[0] <= t), default=series[0])
    after = min((s for s in series if s[0] >= t), default=series[-1])
    if after[0] == before[0]:
        return before[1]
    return before[1] + (after[1] - before[1]) * (t - before[0]) / (after[0] - before[0])


def locust_cpu(watched: dict[int, Watched], history_csv: Path, users: int, requests: int) -> dict:
    """CPU ms per request of the Locust process(es) ``watched``: whole run and steady state."""
    total = sum(w.cpu_s for w in watched.values())
    result = {"cpu_s": total, "whole_ms": total / max(requests, 1) * 1000, "steady_ms": None}
    window = steady_window(history_csv, users) if history_csv.is_file() else None
    if window is not None and window[2] > 0:
        t0, t1, count = window
        spent = sum(cpu_at(w.series, t1) - cpu_at(w.series, t0) for w in watched.values())
        result["steady_ms"] = spent / count * 1000
        result["steady_rps"] = count / (t1 - t0)
    return result


# ---------------------------------------------------------------- the runs


def fresh_app(tmp: Path, name: str, args: argparse.Namespace):  # -> AppProcess
    """A new ``monilab serve`` on 127.0.0.1 with an empty database."""
    from monilab.lab.appprocess import AppProcess

    env = {"MONILAB_PASSWORD_HASH": PASSWORD_HASH}
    return AppProcess(tmp / name, workers=args.app_workers, env=env)


def memory_run(tmp: Path, agents: int, repeat: int, args: argparse.Namespace) -> dict:
    """One ``monilab load`` of a population of ``agents`` at saturation, sampled."""
    out = tmp / f"load-{agents}-{repeat}"
    with fresh_app(tmp, f"app-{agents}-{repeat}", args) as app:
        cmd = [
            sys.executable, "-m", "monilab", "load", "--host", app.url, "--out", str(out),
            "--agents", str(agents), "--users", str(args.users),
            "--spawn-rate", str(args.users), "--run-time", f"{args.seconds}s",
            "--shape", "ramp", "--time-scale", "1e7", "--max-wait", "0",
            "--days", str(args.days), "--seed", str(SEED), "--start", START,
            "--run-id", f"scale-{agents}-{repeat}",
        ]  # fmt: skip
        if args.processes:
            cmd += ["--processes", str(args.processes)]
        sampler, wall = run_sampled(cmd, args.seconds + 900)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    total = summary["total"]
    locusts = sampler.children()
    rec = summary.get("reconciliation", {})
    return {
        "agents": agents,
        "wall_s": wall,
        "requests": int(total["requests"]),
        "failures": int(total["failures"]),
        "rps": float(total["rps"]),
        "p95_ms": total["p95_ms"],
        "agents_started": int(summary["agents_started"]),
        "missing": rec.get("missing"),
        "acknowledged": rec.get("acknowledged"),
        "locust_processes": len(locusts),
        "locust_peak_mib": max(w.hwm_kib for w in locusts.values()) / 1024,
        "lab_peak_mib": sampler.seen[sampler.root].hwm_kib / 1024,
        **locust_cpu(locusts, out / "locust_stats_history.csv", args.users, total["requests"]),
    }


def bare_run(tmp: Path, repeat: int, args: argparse.Namespace) -> dict:
    """A bare FastHttpUser at saturation on GET /healthz, sampled.

    Not ``--bare-auth`` on /api/v1/type as in benchmarks/load.py: bare.py's sign-up password
    contains its name, which the app refuses (422) since its password rules."""
    prefix = tmp / f"bare-{repeat}" / "bare"
    prefix.parent.mkdir(parents=True)
    with fresh_app(tmp, f"app-bare-{repeat}", args) as app:
        cmd = [
            sys.executable, "-m", "locust", "-f", str(BARE), "--headless", "--host", app.url,
            "-u", str(args.users), "-r", str(args.users), "-t", f"{args.seconds}s",
            "--csv", str(prefix), "--csv-full-history", "--only-summary",
            "--loglevel", "WARNING", "--bare-path", "/healthz",
        ]  # fmt: skip
        sampler, wall = run_sampled(cmd, args.seconds + 120)
    from sim.load.summary import endpoint_stats

    total = endpoint_stats(f"{prefix}_stats.csv")[1]
    requests = int(total["requests"])
    watched = {sampler.root: sampler.seen[sampler.root]}  # the Locust process itself
    return {
        "wall_s": wall,
        "requests": requests,
        "failures": int(total["failures"]),
        "rps": float(total["rps"]),
        "locust_peak_mib": watched[sampler.root].hwm_kib / 1024,
        **locust_cpu(watched, Path(f"{prefix}_stats_history.csv"), args.users, requests),
    }


def planning_child(agents: int, count: int, days: int) -> dict:
    """Build ``count`` agents of a population of ``agents`` in this (fresh) process."""
    import sim.agents.population  # noqa: F401  (imports are not planning)
    from sim.plan.source import PlanSource, agent_plan

    began = time.perf_counter()
    source = PlanSource(kind="population", agents=agents, seed=SEED, start=START, days=days)
    pop = source.population_model()  # the personas compiled, the market path: no shard yet
    setup = time.perf_counter() - began
    times, actions = [], 0
    for index in range(min(count, agents)):  # what slice(0, 1) does with the population
        before = time.perf_counter()
        actions += len(agent_plan(pop, index).actions)
        times.append(time.perf_counter() - before)
    rest = times[1:]
    return {
        "setup_s": setup,
        "first_s": times[0],
        "ms_per_agent": sum(rest) / len(rest) * 1000,
        "median_ms": statistics.median(rest) * 1000,
        "stalls_s": [round(t, 3) for t in rest if t > 0.1],
        "actions_per_agent": actions / len(times),
        "peak_mib": status_kib(os.getpid())["VmHWM"] / 1024,
    }


def shards_child(agents: int, days: int, shards: int) -> dict:
    """The planner's memory as it visits ``shards`` shards spread over the population (20
    agents of each), as a long run's Locust process does: peak RSS after the first shard,
    after two, after all."""
    from sim.agents.population import SHARD_SIZE
    from sim.plan.source import PlanSource, agent_plan

    source = PlanSource(kind="population", agents=agents, seed=SEED, start=START, days=days)
    pop = source.population_model()
    shards = min(shards, pop.n_shards)
    step = max(1, pop.n_shards // shards)
    peaks = []
    for k in range(shards):
        for local in range(20):
            agent_plan(pop, k * step * SHARD_SIZE + local)
        peaks.append(status_kib(os.getpid())["VmHWM"] / 1024)
    return {"shards": shards, "after_1": peaks[0], "after_2": peaks[min(1, shards - 1)],
            "after_all": peaks[-1], "rss": status_kib(os.getpid())["VmRSS"] / 1024}  # fmt: skip


def in_child(*flags: str) -> dict:
    """Run this script's ``--child`` mode in a fresh process; returns its JSON."""
    cmd = [sys.executable, str(BENCH), "--child", *flags]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=1800)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- printing


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """min / median of repeated measurements."""
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(min(values))} / {fmt.format(statistics.median(values))}"


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=40, help="each load run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--days", type=int, default=7, help="simulated days of each agent")
    parser.add_argument("--plan-agents", type=int, default=6000, help="agents built in (2)")
    parser.add_argument(
        "--stall-days", default="30,90", help="also time the first agent at these days"
    )
    parser.add_argument("--processes", type=int, default=0, help="Locust processes (0: one)")
    parser.add_argument("--app-workers", type=int, default=4)
    parser.add_argument("--headroom", type=float, default=0.7, help="share of a core to use")
    parser.add_argument("--cores", type=int, default=8, help="cores per load machine")
    parser.add_argument("--json", type=Path, help="also write the raw measurements here")
    parser.add_argument(
        "--child",
        nargs="+",
        metavar="ARG",
        help="plan AGENTS COUNT DAYS or shards AGENTS DAYS SHARDS: one measurement, as JSON",
    )
    args = parser.parse_args()
    if args.child:
        mode, *rest = args.child
        numbers = [int(x) for x in rest]
        result = planning_child(*numbers) if mode == "plan" else shards_child(*numbers)
        print(json.dumps(result))
        return
    if args.quick:
        args.seconds, args.repeats, args.plan_agents, args.stall_days = 12, 1, 600, "30"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    print(f"load average before: {load_average()}; {os.cpu_count()} cores")
    began = time.monotonic()

    planning: dict[int, list[dict]] = {n: [] for n in POPULATIONS}
    for repeat in range(args.repeats):
        for agents in POPULATIONS:
            log.info("planning %d agents of %d (repeat %d)", args.plan_agents, agents, repeat + 1)
            planning[agents].append(
                in_child("plan", str(agents), str(args.plan_agents), str(args.days))
            )
    log.info("first agent at %s simulated days", args.stall_days)
    stalls = {
        int(days): in_child("plan", str(POPULATIONS[-1]), "2", days)
        for days in args.stall_days.split(",")
        if days
    }
    sweep = 10 if args.quick else 30
    log.info("planner memory across the shards a long run visits")
    shards = {
        "10k": in_child("shards", str(POPULATIONS[0]), str(args.days), str(sweep)),
        "1M": in_child("shards", str(POPULATIONS[-1]), str(args.days), str(sweep)),
    }

    with tempfile.TemporaryDirectory(prefix="monilab-scale-") as tmp_dir:
        tmp = Path(tmp_dir)
        memory: dict[int, list[dict]] = {n: [] for n in POPULATIONS}
        bare: list[dict] = []
        for repeat in range(args.repeats):  # interleaved, so drift hits both sizes alike
            for agents in POPULATIONS:
                log.info("monilab load --agents %d (repeat %d)", agents, repeat + 1)
                memory[agents].append(memory_run(tmp, agents, repeat, args))
            log.info("bare Locust user (repeat %d)", repeat + 1)
            bare.append(bare_run(tmp, repeat, args))

    if args.json is not None:
        raw = {"planning": planning, "stalls": stalls, "shards": shards, "memory": memory}
        args.json.write_text(json.dumps({**raw, "bare": bare}, indent=1) + "\n")
    print(
        f"load average after: {load_average()}; {time.monotonic() - began:.0f} s in all; "
        f"app: monilab serve, {args.app_workers} workers, SQLite, {PASSWORD_HASH}; "
        f"{args.users} users, no waits, {args.days} simulated days per agent, "
        f"{args.processes or 1} Locust process(es); min / median of {args.repeats}"
    )
    print_memory(memory, shards)
    print_planning(planning, stalls, memory, args)
    persona_ms = print_rates(memory, bare)
    print_sizing(persona_ms, args)


def print_memory(memory: dict[int, list[dict]], shards: dict[str, dict]) -> None:
    """Part 1: peak RSS per population size, in the runs and over a long run's shards."""
    print("\n(1) memory: monilab load, peak RSS (VmHWM) in MiB")
    for agents, runs in memory.items():
        locust = spread([r["locust_peak_mib"] for r in runs], "{:.0f}")
        print(
            f"  {agents:>9,} agents: Locust {locust}"
            f"  lab process {spread([r['lab_peak_mib'] for r in runs], '{:.0f}')}"
            f"  agents started {spread([r['agents_started'] for r in runs], '{:.0f}')}"
            f"  requests {spread([r['requests'] for r in runs], '{:.0f}')}"
            f"  failures {sum(r['failures'] for r in runs)}"
            f"  lost writes {sum(r['missing'] or 0 for r in runs)}"
        )
    small, large = (memory[n] for n in POPULATIONS)
    for key, what in (("locust_peak_mib", "Locust"), ("lab_peak_mib", "lab process")):
        ratio = statistics.median(r[key] for r in large) / statistics.median(r[key] for r in small)
        print(f"  ratio 1 M / 10 k, {what} (medians): {ratio:.3f} (target <= 1.2)")
    print(
        "  a run this short stays in the first shard (5,000 agents); a long run's Locust "
        "process visits more.\n  Planner peak RSS (fresh process, 20 agents of each shard "
        "visited), after 1 / 2 / all shards:"
    )
    for name, sweep in shards.items():
        print(
            f"    {name:<6} {sweep['shards']:>2} shards: {sweep['after_1']:.0f} / "
            f"{sweep['after_2']:.0f} / {sweep['after_all']:.0f} (RSS at the end "
            f"{sweep['rss']:.0f})"
        )
    base = shards["10k"]["after_all"]
    locust = {n: statistics.median(r["locust_peak_mib"] for r in memory[n]) for n in POPULATIONS}
    for name, n in (("10k", POPULATIONS[0]), ("1M", POPULATIONS[-1])):
        sweep = shards[name]
        growth = sweep["after_all"] - sweep["after_1"]
        print(
            f"    {name:<6} planner ratio to 10k {sweep['after_all'] / base:.3f}; Locust peak "
            f"in a long run, estimated {locust[n]:.0f} + {growth:.0f} = "
            f"{locust[n] + growth:.0f} MiB"
        )


def print_planning(
    planning: dict[int, list[dict]],
    stalls: dict[int, dict],
    memory: dict[int, list[dict]],
    args: argparse.Namespace,
) -> None:
    """Part 2: planning time per agent."""
    print(f"\n(2) planning: the first {args.plan_agents:,} agents of slice(0, 1), fresh process")
    for agents, runs in planning.items():
        later = [s for r in runs for s in r["stalls_s"]]
        print(
            f"  {agents:>9,} agents: set-up {spread([r['setup_s'] for r in runs])} s"
            f"  first agent {spread([r['first_s'] for r in runs])} s"
            f"  then {spread([r['ms_per_agent'] for r in runs])} ms/agent amortised"
            f" (median agent {spread([r['median_ms'] for r in runs])} ms;"
            f" later shard stalls {', '.join(f'{s:.2f}' for s in later) or 'none'} s)"
            f"  {runs[0]['actions_per_agent']:.1f} actions/agent"
            f"  planner peak {spread([r['peak_mib'] for r in runs], '{:.0f}')} MiB"
        )
    if stalls:
        print(
            "  first agent (its shard's simulation) with longer agents, 1 M population: "
            + ", ".join(f"{d} days {r['first_s']:.2f} s" for d, r in stalls.items())
        )
    runs = planning[POPULATIONS[-1]]
    ms = statistics.median(r["ms_per_agent"] for r in runs)
    per_agent = statistics.median(
        r["requests"] / max(r["agents_started"], 1) for r in memory[POPULATIONS[-1]]
    )
    print(
        f"  requests per agent in the runs: {per_agent:.1f}; planning CPU per request "
        f"{ms / per_agent:.3f} ms (ms/agent / requests per agent)"
    )


def print_rates(memory: dict[int, list[dict]], bare: list[dict]) -> float:
    """Part 3: CPU per request of a Locust process; returns persona replay's (steady)."""
    print("\n(3) requests/s per Locust process (CPU ms/request of the Locust process)")
    rows = [(f"persona replay, {n:,} agents", memory[n]) for n in POPULATIONS]
    rows.append(("bare FastHttpUser, GET /healthz", bare))
    for name, runs in rows:
        steady = [r["steady_ms"] for r in runs]
        full = statistics.median(1000 / s for s in steady if s)
        print(
            f"  {name:<36} wall {spread([r['rps'] for r in runs], '{:.0f}')} req/s"
            f"  CPU ms/req whole run {spread([r['whole_ms'] for r in runs], '{:.3f}')}"
            f", steady {spread(steady, '{:.3f}')}  -> {full:,.0f} req/s per fully used core"
        )
    print("  wall req/s are bound by the app (it shares the 2 cores with Locust)")
    steady = [r["steady_ms"] for n in POPULATIONS for r in memory[n] if r["steady_ms"]]
    return statistics.median(steady)


def print_sizing(cpu_ms: float, args: argparse.Namespace) -> None:
    """Part 4: processes and machines for 10 M requests in an hour."""
    rate = TARGET_REQUESTS / TARGET_SECONDS
    per_core = 1000 / cpu_ms
    per_process = per_core * args.headroom
    processes = math.ceil(rate / per_process)
    machines = math.ceil(processes / args.cores)
    print(
        f"\n(4) sizing: {TARGET_REQUESTS:,} requests in {TARGET_SECONDS} s = {rate:,.0f} req/s\n"
        f"  persona replay: {cpu_ms:.3f} ms CPU/request -> {per_core:,.0f} req/s per core; "
        f"at {args.headroom:.0%} of a core {per_process:,.0f} req/s per Locust process\n"
        f"  processes: ceil({rate:,.0f} / {per_process:,.0f}) = {processes}; machines of "
        f"{args.cores} cores, one process per core: ceil({processes} / {args.cores}) = {machines}"
    )


if __name__ == "__main__":
    main()
