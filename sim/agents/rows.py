"""Transaction rows as NumPy columns (codes, not strings) and their Arrow form."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
import pyarrow as pa

from monilab.contracts.vocabulary import ANOMALY_KINDS, CATEGORIES, DIRECTIONS, METHODS

IN, OUT = DIRECTIONS.index("in"), DIRECTIONS.index("out")
NO_ANOMALY = -1

_CATEGORY_DICT = pa.array(CATEGORIES, type=pa.string())
_METHOD_DICT = pa.array(METHODS, type=pa.string())
_DIRECTION_DICT = pa.array(DIRECTIONS, type=pa.string())
_KIND_DICT = pa.array(ANOMALY_KINDS, type=pa.string())


@dataclass
class Rows:
    """A batch of transactions of one shard, one NumPy array per column.

    Attributes:
        user: Shard-local user index.
        ts: Seconds since the epoch (simulated local time).
        amount: KRW, > 0.
        merchant: Merchant id in the catalog.
        category: Index into ``schema.CATEGORIES``.
        method: Index into ``schema.METHODS``.
        direction: Index into ``schema.DIRECTIONS``.
        anomaly: Index into ``schema.ANOMALY_KINDS``, ``-1`` for normal rows.
    """

    user: np.ndarray
    ts: np.ndarray
    amount: np.ndarray
    merchant: np.ndarray
    category: np.ndarray
    method: np.ndarray
    direction: np.ndarray
    anomaly: np.ndarray

    _DTYPES: ClassVar[dict[str, type]] = {
        "user": np.int32,
        "ts": np.int64,
        "amount": np.int64,
        "merchant": np.int32,
        "category": np.int8,
        "method": np.int8,
        "direction": np.int8,
        "anomaly": np.int8,
    }

    @classmethod
    def build(cls, **columns: np.ndarray | int) -> Rows:
        """Rows from arrays; scalar columns are broadcast to the length of ``user``."""
        n = len(np.asarray(columns["user"]))
        out: dict[str, np.ndarray] = {}
        for name, dtype in cls._DTYPES.items():
            value = columns.get(name, NO_ANOMALY if name == "anomaly" else None)
            if value is None:
                raise TypeError(f"missing column {name!r}")
            if np.ndim(value) == 0:
                out[name] = np.full(n, value, dtype=dtype)
            else:
                out[name] = np.asarray(value, dtype=dtype)
                if len(out[name]) != n:
                    raise ValueError(f"column {name!r} has {len(out[name])} rows, expected {n}")
        return cls(**out)

    @classmethod
    def empty(cls) -> Rows:
        """A zero-row batch."""
        return cls(**{name: np.zeros(0, dtype) for name, dtype in cls._DTYPES.items()})

    @classmethod
    def concat(cls, parts: list[Rows]) -> Rows:
        """Concatenate batches column by column."""
        if not parts:
            return cls.empty()
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )

    def take(self, index: np.ndarray) -> Rows:
        """Rows at the given positions (a boolean mask works too)."""
        return Rows(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def __len__(self) -> int:
        return len(self.user)

    def sorted_by_time(self) -> Rows:
        """Rows ordered by timestamp (stable, so equal times keep their order)."""
        return self.take(np.argsort(self.ts, kind="stable"))


def to_arrow(
    rows: Rows, *, user_ids: np.ndarray, first_txn_id: int, merchant_names: pa.Array
) -> pa.Table:
    """The transactions-contract table of a batch; ``txn_id`` counts up from ``first_txn_id``.

    Strings are built as dictionary arrays over fixed vocabularies (cast to plain strings
    by :func:`monilab.contracts.tables.conform`), never one Python object per row.
    """
    n = len(rows)
    kind_mask = rows.anomaly < 0

    def coded(codes: np.ndarray, dictionary: pa.Array, mask: np.ndarray | None = None):
        indices = pa.array(codes.astype(np.int32), mask=mask)
        return pa.DictionaryArray.from_arrays(indices, dictionary)

    return pa.table(
        {
            "txn_id": pa.array(np.arange(first_txn_id, first_txn_id + n, dtype=np.int64)),
            "user_id": pa.array(user_ids[rows.user]),
            "ts": pa.array((rows.ts * 1_000_000).astype("datetime64[us]")),
            "method": coded(rows.method, _METHOD_DICT),
            "amount": pa.array(rows.amount),
            "merchant": coded(rows.merchant, merchant_names),
            "category": coded(rows.category, _CATEGORY_DICT),
            "direction": coded(rows.direction, _DIRECTION_DICT),
            "is_anomaly": pa.array(~kind_mask),
            "anomaly_kind": coded(np.where(kind_mask, 0, rows.anomaly), _KIND_DICT, kind_mask),
        }
    )
