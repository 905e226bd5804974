"""The population: personas × users × seed × period, in fixed-size shards.

Users are split into shards of ``shard_size`` (5,000 by default, independent of worker
counts). A shard is a self-contained Mesa model (friendships stay inside it) seeded from
``(seed, SHARD, k)``, so any shard, and any agent's data, can be computed without the
others: the same seed gives the same users, transactions and decisions however the work
is split.
"""

from __future__ import annotations

import datetime as dt
import gc
import numbers
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from monilab.contracts.errors import MonilabError
from sim.agents.calendar import SimCalendar
from sim.agents.decisions import Action, activity_profile, agent_actions
from sim.agents.market import MarketPath, simulate_market
from sim.agents.merchants import MerchantCatalog, default_catalog
from sim.agents.model import ShardModel, ShardSetup
from sim.agents.personas import SPEND_CATEGORIES, PersonaSet, default_personas, load_personas
from sim.agents.repertoire import RegionalVocabulary
from sim.agents.rows import Rows, to_arrow
from sim.agents.seeds import ENVIRONMENT, SHARD, generator, seed_sequence
from sim.agents.tables import PersonaTables, compile_personas
from sim.agents.users import agent_id, users_table

SHARD_SIZE = 5000
"""Users per shard; part of a dataset's identity (recorded in its manifest)."""
TXN_ID_STRIDE = 10**12
"""Shard ``k`` numbers its transactions ``k * TXN_ID_STRIDE + 1, + 2, ...``."""
MAX_DAYS = 3660


@dataclass(frozen=True)
class ShardData:
    """One simulated shard held in memory (for decisions and small runs).

    Attributes:
        index: Shard number.
        model: The shard's model after the last day (state, goal events, metrics).
        users: The shard's ``users`` rows.
        transactions: The shard's ``transactions`` rows, time-ordered.
        by_user: Row positions grouped by shard-local user.
        user_start: ``by_user`` offset of each user's rows (length users + 1).
    """

    index: int
    model: ShardModel
    users: pa.Table
    transactions: pa.Table
    by_user: np.ndarray
    user_start: np.ndarray

    def rows_of(self, local: int) -> pa.Table:
        """Transactions of one shard-local user, time-ordered."""
        return self.transactions.take(
            self.by_user[self.user_start[local] : self.user_start[local + 1]]
        )

    def frame_of(self, local: int) -> pd.DataFrame:
        """:meth:`rows_of` as plain pandas columns (text as strings, not Categoricals: making
        a Categorical of the shard-wide merchant dictionary per user costs 30 times more)."""
        rows = self.rows_of(local)
        return pa.table(
            {
                name: pc.cast(column, column.type.value_type)
                if pa.types.is_dictionary(column.type)
                else column
                for name, column in zip(rows.column_names, rows.columns, strict=True)
            }
        ).to_pandas()


class AgentIds(Sequence[str]):
    """The agent ids of a population, computed on access (cheap to index and slice)."""

    def __init__(self, seed: int, users: int) -> None:
        self._seed, self._users = seed, users

    def __len__(self) -> int:
        return self._users

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [agent_id(self._seed, i + 1) for i in range(self._users)[index]]
        if not -self._users <= index < self._users:
            raise IndexError(index)
        return agent_id(self._seed, index % self._users + 1)


def parse_start(start: dt.date | str) -> dt.date:
    """A start date from a ``date`` or ``YYYY-MM-DD`` text (MonilabError otherwise)."""
    if isinstance(start, dt.date):
        return start
    try:
        return dt.date.fromisoformat(str(start))
    except ValueError:
        raise MonilabError(f"bad start date {start!r} (expected YYYY-MM-DD)") from None


class Population:
    """A seeded synthetic population over a simulated period.

    Args:
        personas: A :class:`PersonaSet`, a persona file, or None for the bundled personas.
        users: Number of users (>= 1).
        seed: Root seed of everything.
        start: First simulated day.
        days: Number of simulated days (1-3660).
        anomaly_rate: Anomaly episodes per normal payment, before persona propensity.
        shard_size: Users per shard.
        catalog: Merchant catalog (the bundled one by default).
    """

    def __init__(
        self,
        personas: PersonaSet | str | Path | None = None,
        *,
        users: int,
        seed: int,
        start: dt.date | str,
        days: int,
        anomaly_rate: float = 0.01,
        shard_size: int = SHARD_SIZE,
        catalog: MerchantCatalog | None = None,
    ) -> None:
        if not isinstance(users, numbers.Integral) or users < 1:
            raise MonilabError(f"users must be a positive integer (got {users!r})")
        if not isinstance(days, numbers.Integral) or not 1 <= days <= MAX_DAYS:
            raise MonilabError(f"days must be between 1 and {MAX_DAYS} (got {days!r})")
        if not isinstance(seed, numbers.Integral) or seed < 0:
            raise MonilabError(f"seed must be a non-negative integer (got {seed!r})")
        if not 0 <= anomaly_rate <= 0.5:
            raise MonilabError(f"anomaly rate must be in [0, 0.5] (got {anomaly_rate!r})")
        if not isinstance(shard_size, numbers.Integral) or shard_size < 1:
            raise MonilabError(f"shard size must be a positive integer (got {shard_size!r})")
        if personas is None:
            personas = default_personas()
        elif not isinstance(personas, PersonaSet):
            personas = load_personas(personas)
        self.personas: PersonaSet = personas
        self.users: int = int(users)
        self.seed: int = int(seed)
        self.start: dt.date = parse_start(start)
        self.days: int = int(days)
        self.anomaly_rate: float = float(anomaly_rate)
        self.shard_size: int = int(shard_size)
        self.catalog: MerchantCatalog = catalog or default_catalog()
        self.tables: PersonaTables = compile_personas(personas, self.catalog)
        self.vocabulary: RegionalVocabulary = RegionalVocabulary.of(
            self.catalog, SPEND_CATEGORIES, self.tables.region_names
        )
        self.calendar: SimCalendar = SimCalendar(self.start, days)
        self.market: MarketPath = simulate_market(
            self.calendar.is_rest_day, generator(seed, ENVIRONMENT)
        )
        self._merchant_names: pa.Array = pa.array(self.catalog.names, type=pa.string())
        self._cache: OrderedDict[int, ShardData] = OrderedDict()

    # ------------------------------------------------------------------ identity, slicing

    @property
    def n_shards(self) -> int:
        """Number of shards."""
        return -(-self.users // self.shard_size)

    def shard_range(self, shard: int) -> range:
        """Population indices (0-based) of a shard's users."""
        if not 0 <= shard < self.n_shards:
            raise IndexError(f"shard {shard} out of range (0-{self.n_shards - 1})")
        lo = shard * self.shard_size
        return range(lo, min(lo + self.shard_size, self.users))

    @property
    def user_ids(self) -> np.ndarray:
        """Global user ids (index + 1)."""
        return np.arange(1, self.users + 1, dtype=np.int64)

    @property
    def agent_ids(self) -> AgentIds:
        """Agent ids in population order (``s{seed}-u{user_id}``), a lazy sequence."""
        return AgentIds(self.seed, self.users)

    def agent_index(self, agent: int | str) -> int:
        """Population index of an agent given by index or agent id."""
        if isinstance(agent, str):
            prefix = f"s{self.seed}-u"
            if not agent.startswith(prefix) or not agent[len(prefix) :].isdigit():
                raise KeyError(agent)
            index = int(agent[len(prefix) :]) - 1
        else:
            index = int(agent)
        if not 0 <= index < self.users:
            raise KeyError(agent)
        return index

    def partition(self, part: int, parts: int) -> range:
        """A contiguous slice of agent indices for load worker ``part`` of ``parts``.

        Slices are disjoint and cover the population; each touches few shards, so a worker
        simulates only the shards its agents live in.
        """
        if not 0 <= part < parts:
            raise ValueError(f"part {part} out of range for {parts} parts")
        return range(part * self.users // parts, (part + 1) * self.users // parts)

    # ------------------------------------------------------------------ simulation

    def model(self, shard: int) -> ShardModel:
        """A fresh (not yet stepped) model of one shard."""
        users = self.shard_range(shard)
        return ShardModel(
            ShardSetup(
                tables=self.tables,
                catalog=self.catalog,
                vocabulary=self.vocabulary,
                calendar=self.calendar,
                market=self.market,
                index=shard,
                offset=users.start,
                size=len(users),
                seed=seed_sequence(self.seed, SHARD, shard),
                anomaly_rate=self.anomaly_rate,
            )
        )

    def run_shard(self, shard: int, sink: Callable[[Rows], None]) -> ShardModel:
        """Simulate a shard day by day, handing each day's rows to ``sink``."""
        model = self.model(shard)
        for _ in range(self.days):
            model.step()
            sink(model.day_rows)
        return model

    def first_txn_id(self, shard: int) -> int:
        """The ``txn_id`` of a shard's first transaction."""
        return shard * TXN_ID_STRIDE + 1

    def shard_user_ids(self, shard: int) -> np.ndarray:
        """Global user ids of a shard's users."""
        users = self.shard_range(shard)
        return np.arange(users.start + 1, users.stop + 1, dtype=np.int64)

    def arrow_rows(self, user_ids: np.ndarray, rows: Rows, first_txn_id: int) -> pa.Table:
        """A batch of a shard's rows as a ``transactions`` table."""
        return to_arrow(
            rows,
            user_ids=user_ids,
            first_txn_id=first_txn_id,
            merchant_names=self._merchant_names,
        )

    def users_table(self, model: ShardModel) -> pa.Table:
        """The ``users`` rows of a shard model."""
        return users_table(model, self.seed)

    def shard(self, shard: int) -> ShardData:
        """A simulated shard in memory (the two most recent are cached)."""
        if shard in self._cache:
            self._cache.move_to_end(shard)
            return self._cache[shard]
        while len(self._cache) >= 2:  # make room first: never three shards at once
            self._cache.popitem(last=False)
            gc.collect()  # a shard's Mesa model and agents refer to each other
        batches: list[Rows] = []
        model = self.run_shard(shard, batches.append)
        rows = Rows.concat(batches)
        table = self.arrow_rows(model.user_ids, rows, self.first_txn_id(shard))
        by_user = np.argsort(rows.user, kind="stable")
        start = np.searchsorted(rows.user[by_user], np.arange(model.setup.size + 1))
        data = ShardData(shard, model, self.users_table(model), table, by_user, start)
        self._cache[shard] = data
        return data

    def iter_shards(self) -> Iterator[ShardData]:
        """Every shard in order (one in memory at a time beyond the cache)."""
        for shard in range(self.n_shards):
            yield self.shard(shard)

    # ------------------------------------------------------------------ views

    def users_frame(self) -> pd.DataFrame:
        """The ``users`` table of the whole population (no simulation needed)."""
        tables = [
            self._cache[k].users if k in self._cache else self.users_table(self.model(k))
            for k in range(self.n_shards)
        ]
        return pa.concat_tables(tables).to_pandas()

    def transactions(self, agent: int | str) -> pd.DataFrame:
        """One agent's transactions (simulates the agent's shard)."""
        index = self.agent_index(agent)
        shard, local = divmod(index, self.shard_size)
        return self.shard(shard).rows_of(local).to_pandas()

    def transactions_table(self) -> pa.Table:
        """All transactions in memory (small populations; use ``monilab generate`` at scale)."""
        return pa.concat_tables([data.transactions for data in self.iter_shards()])

    def actions(self, agent: int | str) -> Iterator[Action]:
        """The app actions of one agent in simulated time (see :mod:`sim.agents.decisions`)."""
        return agent_actions(self, self.agent_index(agent))

    def activity_profile(self) -> pd.DataFrame:
        """Expected active users per weekday × hour (see :mod:`sim.agents.decisions`)."""
        return activity_profile(self)
