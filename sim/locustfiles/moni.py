"""The lab's locustfile: each Locust user embodies one agent and replays its plan.

Run by ``monilab load`` (see :mod:`sim.load.runner`), never imported by the lab
itself: importing Locust monkey-patches the process with gevent. The user is thin: it takes
an agent (:class:`~sim.plan.replay.AgentLeases`), signs up as that agent, and carries
out the agent's actions as the target says (``--monilab-target``: a target file or
``package.module:Class``, default the bundled Moni target; :mod:`sim.targets`), waiting
between them as the agent's schedule says (compressed by ``--monilab-time-scale``). When its
agent has nothing left to do, the same Locust user takes the next agent of its slice. A
request the target could not even build (a template that fails) is a Locust failure with
its reason.

Each process builds its own slice from its own ``--monilab-plan-source`` (a population's
parameters or a plan file on this machine; :mod:`sim.plan.source`), one agent at a time,
and checks that it yields the master's plan (``--monilab-plan-digest``). How processes
ship their ledger and account for themselves is :mod:`sim.locustfiles.parts`.
"""

from __future__ import annotations

from typing import Any

from locust import FastHttpUser, LoadTestShape, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

import sim.locustfiles.webmode  # noqa: F401  (web UI runs end when the test stops)
from sim import targets
from sim.locustfiles import parts
from sim.locustfiles.parts import PART
from sim.plan.replay import AgentLeases, AgentReplay
from sim.plan.shapes import DEFAULT_TIME_SCALE, ShapeSpec, parse_activity, users_at
from sim.plan.source import PlanSource

_state: dict[str, Any] = {"leases": None, "session": None, "own": {}}


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    """The run's own options. Not shown in the web UI: the run is set on the command line
    (its summary reports those values), and the plan source names this machine's paths."""

    def add(*args: Any, **kwargs: Any) -> None:
        parser.add_argument(*args, include_in_web_ui=False, **kwargs)

    add("--monilab-plan-source", default="", help="where agents come from (JSON)")
    add("--monilab-plan-digest", default="", help="hash of the plan it yields")
    add("--monilab-run-id", default="run", help="sent as X-Run-Id")
    add("--monilab-out", default=".", help="ledger directory")
    add("--monilab-shape", default="ramp", help="population|ramp|step|spike")
    add("--monilab-peak-users", type=int, default=1)
    add("--monilab-spawn-rate", type=float, default=1.0)
    add("--monilab-run-time", type=float, default=10.0)
    add("--monilab-time-scale", type=float, default=DEFAULT_TIME_SCALE)
    add("--monilab-start-hour", type=float, default=8.0)
    add("--monilab-max-wait", type=float, default=30.0)
    add("--monilab-activity", default="", help="24 hourly activity levels")
    add("--monilab-target", default="", help="target file or module:Class")


def _options(environment: Any) -> Any:
    return environment.parsed_options


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    """Keep this machine's own plan source and target: a master's spawn message later
    overwrites every custom option with the master's values (its paths, not ours)."""
    if isinstance(environment.runner, MasterRunner):
        return
    options = _options(environment)
    _state["own"] = {
        "source": options.monilab_plan_source,
        "digest": options.monilab_plan_digest,
    }
    target = targets.load(options.monilab_target or None)
    _state["session"] = targets.session_factory(target)


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    """Open this process's own slice of agents (built on demand) before any user starts."""
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        return
    own, options = _state["own"], _options(environment)
    index = parts.worker_index(runner)
    count = int(options.expect_workers or 1) if isinstance(runner, WorkerRunner) else 1
    if own["digest"] != options.monilab_plan_digest:
        _state["leases"] = None
        parts.fail(runner, f"worker {index}'s plan differs from the master's: {_SAME_PLAN}")
        return
    try:
        leases = AgentLeases(PlanSource.from_json(own["source"]).slice(index, count), index)
        leases.prefetch()
    except Exception as exc:  # reported to the master, which fails the run with it
        _state["leases"] = None
        parts.fail(runner, f"worker {index} cannot build its agents: {exc}")
        return
    _state["leases"] = leases
    parts.start_shipping(runner)


_SAME_PLAN = (
    "give every machine the same --seed, --users/--agents, --days, --start, --personas "
    "content, --population dataset or --plan file"
)


@events.request.add_listener
def _on_request(
    request_type: str,
    name: str,
    response_time: float,
    exception: Any,
    context: dict,
    **_: Any,
) -> None:
    persona = context.get("persona") if context else None
    if persona:
        latency = response_time or 0.0
        PART.ledger.observe(persona, name, latency, exception is not None, request_type)


class MoniAgent(FastHttpUser):
    """One agent of the population at a time, replaying its plan against the JSON API."""

    network_timeout = 15.0
    connection_timeout = 5.0

    def on_start(self) -> None:
        options = _options(self.environment)
        self.run_id: str = options.monilab_run_id
        self.time_scale: float = options.monilab_time_scale
        # Not ``max_wait``: Locust's ``User`` declares that (deprecated) attribute itself.
        self.max_wait_seconds: float = options.monilab_max_wait
        self.replay: AgentReplay | None = None
        self.api: Any = None

    def context(self) -> dict:
        if self.replay is None:
            return {}
        return {"persona": self.replay.plan.persona, "agent_id": self.replay.plan.agent_id}

    def wait_time(self) -> float:
        return self.replay.wait_before_next() if self.replay else 0.0

    def _next_agent(self) -> None:
        leases: AgentLeases | None = _state["leases"]
        plan = leases.take() if leases else None
        if leases is None or plan is None:
            raise StopUser()
        PART.agents = leases.taken
        self.replay = AgentReplay(plan, self.time_scale, self.max_wait_seconds)
        signup = next((a.payload for a in plan.actions if a.kind == "signup"), {})
        self.api = _state["session"](
            self.client,
            self.run_id,
            plan,
            PART.ledger,
            profile=signup,
            worker_index=leases.worker_index,
            on_failure=self._failed_before_sending,
        )
        self.api.start_session()

    def _failed_before_sending(self, method: str, name: str, reason: str) -> None:
        """A request the target could not build counts as a failed request, with why."""
        self.environment.events.request.fire(
            request_type=method,
            name=name,
            response_time=0.0,
            response_length=0,
            exception=RuntimeError(reason),
            context=self.context(),
        )

    @task
    def act(self) -> None:
        """Carry out the agent's next action (taking a new agent when this one is done)."""
        if self.replay is None or self.replay.done:
            self._next_agent()
            return
        assert self.api is not None
        self.api.perform(self.replay.next_action())


class MoniShape(LoadTestShape):
    """The run's load shape, chosen by ``--monilab-shape`` (see :mod:`sim.plan.shapes`)."""

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None, "Locust sets the runner before it asks for a tick"
        options = _options(self.runner.environment)
        spec = self._spec(options)
        users = users_at(spec, self.get_run_time())
        return None if users is None else (users, spec.spawn_rate)

    def _spec(self, options: Any) -> ShapeSpec:
        cached = getattr(self, "_cached_spec", None)
        if cached is None:
            activity = options.monilab_activity
            cached = ShapeSpec(
                kind=options.monilab_shape,
                peak_users=options.monilab_peak_users,
                spawn_rate=options.monilab_spawn_rate,
                run_time=options.monilab_run_time,
                hourly_activity=parse_activity(activity) if activity else (),
                time_scale=options.monilab_time_scale,
                start_hour=options.monilab_start_hour,
            )
            self._cached_spec = cached
        return cached
