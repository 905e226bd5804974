"""The friendship network inside a shard: a Watts-Strogatz small world, as neighbour arrays."""

from __future__ import annotations

import numpy as np


def small_world(n: int, k: int, rewire: float, rng: np.random.Generator) -> np.ndarray:
    """Each agent's ``k`` friends on a ring lattice whose links are rewired at random.

    A directed simplification of Watts-Strogatz: agent ``i`` starts with the ``k`` nearest
    agents on the ring (``k/2`` each side) and each link is redirected to a random agent
    with probability ``rewire``. Vectorised; self-links are avoided.

    Args:
        n: Number of agents in the shard.
        k: Friends per agent (even; reduced when the shard is tiny).
        rewire: Rewiring probability (0 = lattice, 1 = random graph).
        rng: The shard model's generator.

    Returns:
        ``(n, k)`` int32 array of friend indices (empty second axis when ``n < 2``).
    """
    k = min(k - k % 2, (n - 1) - (n - 1) % 2)
    if n < 2 or k <= 0:
        return np.zeros((n, 0), dtype=np.int32)
    offsets = np.concatenate([np.arange(1, k // 2 + 1), -np.arange(1, k // 2 + 1)])
    friends = (np.arange(n)[:, None] + offsets[None, :]) % n
    swap = rng.random(friends.shape) < rewire
    random_friend = rng.integers(0, n - 1, size=friends.shape)
    random_friend += random_friend >= np.arange(n)[:, None]  # skip self
    friends = np.where(swap, random_friend, friends)
    return friends.astype(np.int32)
