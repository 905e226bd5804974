"""The users table of a shard, with Korean names from a seeded Faker pool."""

from __future__ import annotations

from functools import cache

import numpy as np
import pyarrow as pa
from faker import Faker

from sim.agents.agents import NAME_POOL_SIZE
from sim.agents.model import ShardModel
from sim.agents.seeds import FAKER, seed_sequence


@cache
def name_pool(seed: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(female, male)`` Korean full names drawn by Faker ko_KR, seeded from the seed tree.

    Drawn once per seed and process (Faker per user would dominate million-user runs).
    """
    faker = Faker("ko_KR")
    faker.seed_instance(int(seed_sequence(seed, FAKER).generate_state(1)[0]))
    female = tuple(faker.name_female() for _ in range(NAME_POOL_SIZE))
    male = tuple(faker.name_male() for _ in range(NAME_POOL_SIZE))
    return female, male


def agent_id(seed: int, user_id: int) -> str:
    """The agent id of a user: stable across transports, unique across seeds."""
    return f"s{seed}-u{user_id}"


def users_table(model: ShardModel, seed: int) -> pa.Table:
    """The shard's ``users`` rows (contract columns plus style, name, payday, agent_id).

    Persona, type, style and income are those at sign-up; how they changed later is in
    the ``labels`` table (:mod:`sim.agents.identity`).
    """
    s, t = model.state, model.tables
    female_names, male_names = name_pool(seed)
    names = np.where(
        s.female,
        np.asarray(female_names, dtype=object)[s.name_index],
        np.asarray(male_names, dtype=object)[s.name_index],
    )
    persona = pa.DictionaryArray.from_arrays(
        pa.array(s.first_persona.astype(np.int32)), pa.array(t.names)
    )
    return pa.table(
        {
            "user_id": pa.array(model.user_ids),
            "persona": persona.cast(pa.string()),
            "spending_type": pa.array(np.asarray(t.spending_types, dtype=object)[s.first_persona]),
            "age": pa.array(s.age.astype(np.int16)),
            "gender": pa.array(np.where(s.female, "f", "m")),
            "occupation": pa.array(np.asarray(t.occupation_names, dtype=object)[s.occupation]),
            "region": pa.array(np.asarray(t.region_names, dtype=object)[s.region]),
            "monthly_income": pa.array(np.round(s.first_income, -4).astype(np.int64)),
            "signup_at": pa.array((s.signup_at * 1_000_000).astype("datetime64[us]")),
            "style": pa.array(np.asarray(t.styles, dtype=object)[s.first_persona]),
            "name": pa.array(names, type=pa.string()),
            "payday": pa.array(s.payday.astype(np.int8)),
            "agent_id": pa.array([agent_id(seed, int(u)) for u in model.user_ids]),
        }
    )
