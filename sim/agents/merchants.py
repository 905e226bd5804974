"""The merchant vocabulary (bundled ``data/merchants.toml``) and users' favourite merchants."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from monilab.errors import MonilabError
from monilab.schema import CATEGORIES
from sim.agents.sampling import make_cdf


@dataclass(frozen=True)
class MerchantCatalog:
    """Merchant names with ids, and per-category vocabularies with popularity weights.

    Attributes:
        names: Every merchant name; a merchant's id is its index here.
        ids: Per schema category, the ids of its merchants.
        weights: Per schema category, the everyday popularity weights (0 = auto-debit,
            salary or transfer only).
        source: Where the catalog was read from.
    """

    names: tuple[str, ...]
    ids: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    source: str

    def id_of(self, name: str, category: str | None = None) -> int:
        """The id of a merchant name (optionally required to be in a category)."""
        try:
            merchant = self.names.index(name)
        except ValueError:
            raise KeyError(name) from None
        if category is not None and merchant not in self.ids.get(category, ()):
            raise KeyError(name)
        return merchant

    def vocabulary_cdf(self, categories: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Padded ``(len(categories), V)`` merchant ids and everyday-popularity CDFs."""
        width = max(len(self.ids[c]) for c in categories)
        ids = np.zeros((len(categories), width), dtype=np.int32)
        weights = np.zeros((len(categories), width))
        for row, category in enumerate(categories):
            n = len(self.ids[category])
            ids[row, :n] = self.ids[category]
            weights[row, :n] = self.weights[category]
        return ids, make_cdf(weights)

    def favourites(
        self, categories: tuple[str, ...], users: int, slots: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Each user's favourite merchants per category, most preferred first.

        Drawn without replacement in proportion to popularity (Gumbel top-k); categories
        with fewer everyday merchants than ``slots`` repeat their last pick.

        Returns:
            ``(users, len(categories), slots)`` int32 merchant ids.
        """
        out = np.zeros((users, len(categories), slots), dtype=np.int32)
        for col, category in enumerate(categories):
            everyday = self.weights[category] > 0
            ids, w = self.ids[category][everyday], self.weights[category][everyday]
            keys = np.log(w)[None, :] + rng.gumbel(size=(users, len(ids)))
            top = np.argsort(-keys, axis=1, kind="stable")[:, :slots]
            if top.shape[1] < slots:
                pad = np.repeat(top[:, -1:], slots - top.shape[1], axis=1)
                top = np.concatenate([top, pad], axis=1)
            out[:, col, :] = ids[top]
        return out


def default_catalog_path() -> Path:
    """The bundled merchant file."""
    return Path(str(resources.files("sim.agents") / "data" / "merchants.toml"))


@cache
def default_catalog() -> MerchantCatalog:
    """The bundled catalog, read once per process."""
    return load_catalog(default_catalog_path())


def load_catalog(path: str | Path) -> MerchantCatalog:
    """Read and check a merchant file: ``[category]`` tables of ``"name" = weight``."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MonilabError(f"{path}: cannot read merchant file ({exc})") from None
    names: list[str] = []
    index: dict[str, int] = {}
    ids: dict[str, np.ndarray] = {}
    weights: dict[str, np.ndarray] = {}
    for category, table in doc.items():
        if category not in CATEGORIES:
            raise MonilabError(f"{path}: unknown category {category!r}")
        for name, weight in table.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise MonilabError(f"{path}: {category}.{name}: weight must be a number")
            if not (math.isfinite(weight) and weight >= 0):
                raise MonilabError(f"{path}: {category}.{name}: weight must be >= 0")
            if name not in index:
                index[name] = len(names)
                names.append(name)
        ids[category] = np.array([index[n] for n in table], dtype=np.int32)
        weights[category] = np.array([float(w) for w in table.values()])
    missing = [c for c in CATEGORIES if c not in ids or not weights[c].sum() > 0]
    missing = [c for c in missing if c != "income" or c not in ids]
    if missing:
        raise MonilabError(f"{path}: category {missing[0]!r} has no everyday merchants")
    return MerchantCatalog(tuple(names), ids, weights, str(path))
