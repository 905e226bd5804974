"""The load plan: the agents' decisions written once (:mod:`~sim.plan.build`), read by every
Locust and browser process (:mod:`~sim.plan.records`), replayed in compressed time
(:mod:`~sim.plan.replay`) under a load shape (:mod:`~sim.plan.shapes`)."""
