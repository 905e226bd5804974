"""The seed tree: one root ``SeedSequence(seed)`` and a fixed path to every generator.

Children are addressed by ``spawn_key`` so any of them can be built directly (a load worker
needs shard 7's generator without spawning shards 0-6)::

    (ENVIRONMENT,)              market index, shared by all shards
    (SHARD, k)                  the Mesa model of shard k (its one ``model.rng``)
    (FAKER,)                    the Faker name pool
    (DECISIONS, k, i)           app sessions of agent i of shard k
"""

from __future__ import annotations

import numpy as np

ENVIRONMENT, SHARD, FAKER, DECISIONS = 0, 1, 2, 3


def seed_sequence(seed: int, *path: int) -> np.random.SeedSequence:
    """The node of the seed tree at ``path`` (as ``SeedSequence(seed).spawn`` would make it)."""
    return np.random.SeedSequence(seed, spawn_key=tuple(path))


def generator(seed: int, *path: int) -> np.random.Generator:
    """A PCG64 generator for a node of the seed tree."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, *path)))
