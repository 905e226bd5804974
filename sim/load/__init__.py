"""A load session run from the lab process: plan → Locust in its own process
(:mod:`~sim.load.runner`) → summary (:mod:`~sim.load.summary`) and reconciliation
(:mod:`~sim.load.session`)."""
