"""A bare Locust user for baselines: one endpoint, no agent, no ledger (benchmarks only).

``locust -f sim/locustfiles/bare.py --bare-path /healthz`` measures what the server setup
can serve when the client does nothing but send the same request; with ``--bare-auth`` it
signs up first and sends the bearer token, like an agent would.
"""

from __future__ import annotations

import uuid
from typing import Any

from locust import FastHttpUser, events, task


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    parser.add_argument("--bare-path", default="/healthz", help="the one endpoint to hit")
    parser.add_argument("--bare-auth", action="store_true", help="sign up and send a token")


class BareUser(FastHttpUser):
    """Hits one endpoint as fast as the server answers."""

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.path = options.bare_path
        self.headers = {"X-Source": "locust", "X-Run-Id": "bare"}
        if options.bare_auth:
            email = f"bare-{uuid.uuid4().hex[:12]}@monilab.test"
            body = {"email": email, "password": "bare-password-1", "name": "baseline"}
            answer = self.client.post("/api/v1/auth/signup", json=body, headers=self.headers)
            self.headers["Authorization"] = f"Bearer {answer.json()['token']}"

    @task
    def hit(self) -> None:
        """The one request."""
        self.client.get(self.path, headers=self.headers)
