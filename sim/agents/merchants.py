"""The merchant world: national chains (``data/merchants.toml``) and local shops per 시도.

National merchants are named in the bundled merchant file with a popularity weight.
Local shops (``data/local_shops.toml``, optional) are generated from shop-name stems and
neighbourhood names of each 시도: thousands of names, each in one region and category,
with long-tailed popularity taken from a hash of the name. Nothing here is random: every
seed sees the same catalog.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from statistics import NormalDist

import numpy as np

from monilab.contracts.errors import MonilabError, read_toml
from monilab.contracts.vocabulary import CATEGORIES
from sim.agents.sampling import make_cdf

_UNIT = NormalDist()


@dataclass(frozen=True)
class LocalShops:
    """The generated neighbourhood shops of one category.

    Attributes:
        ids: Merchant ids of the shops.
        region: Each shop's index into :attr:`MerchantCatalog.regions`.
        weights: Relative popularity among the shops of a region (long-tailed).
        share: Share of the category's everyday weight that goes to local shops.
        replaces: National names that stand in for local shops (left out of regional
            vocabularies).
        everywhere: Whether every region's vocabulary holds the shops of all regions.
    """

    ids: np.ndarray
    region: np.ndarray
    weights: np.ndarray
    share: float
    replaces: frozenset[str] = frozenset()
    everywhere: bool = False


@dataclass(frozen=True)
class MerchantCatalog:
    """Merchant names with ids, and per-category vocabularies with popularity weights.

    Attributes:
        names: Every merchant name; a merchant's id is its index here.
        ids: Per schema category, the ids of its national merchants.
        weights: Per schema category, the national everyday popularity weights (0 =
            auto-debit, salary or transfer only).
        source: Where the catalog was read from.
        regions: The 시도 that have local shops.
        local: Per category with local shops, those shops.
    """

    names: tuple[str, ...]
    ids: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    source: str
    regions: tuple[str, ...] = ()
    local: dict[str, LocalShops] = field(default_factory=dict)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {name: i for i, name in enumerate(self.names)})

    def __repr__(self) -> str:
        local = sum(len(shops.ids) for shops in self.local.values())
        return f"MerchantCatalog({len(self.names)} names, {local} local shops, {self.source!r})"

    def id_of(self, name: str, category: str | None = None) -> int:
        """The id of a merchant name (optionally required to be in a category)."""
        merchant = self._index.get(name)
        if merchant is None:
            raise KeyError(name)
        if category is not None and merchant not in self.merchants_of(category):
            raise KeyError(name)
        return merchant

    def merchants_of(self, category: str) -> np.ndarray:
        """Ids of every merchant of a category: national ones, then local shops."""
        national = self.ids.get(category, np.zeros(0, dtype=np.int32))
        if category not in self.local:
            return national
        return np.concatenate([national, self.local[category].ids])

    def vocabulary_cdf(self, categories: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Padded ``(len(categories), V)`` national merchant ids and everyday-popularity CDFs."""
        width = max(len(self.ids[c]) for c in categories)
        ids = np.zeros((len(categories), width), dtype=np.int32)
        weights = np.zeros((len(categories), width))
        for row, category in enumerate(categories):
            n = len(self.ids[category])
            ids[row, :n] = self.ids[category]
            weights[row, :n] = self.weights[category]
        return ids, make_cdf(weights)

    def regional_vocabulary(
        self, categories: tuple[str, ...], regions: tuple[str, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Everyday merchants per region and category: national chains plus local shops.

        Chains keep their relative weights and share ``1 - share`` of the category; the
        region's local shops share the rest. A region without local shops (or not in
        :attr:`regions`) gets the chains alone.

        Returns:
            ``(len(regions), len(categories), V)`` int32 merchant ids (zero-padded) and
            their ``(len(regions) * len(categories), V)`` CDFs (padding never drawn).
        """
        rows = [self._regional_row(c, r) for r in regions for c in categories]
        width = max(len(ids) for ids, _ in rows)
        ids = np.zeros((len(rows), width), dtype=np.int32)
        weights = np.zeros((len(rows), width))
        for row, (row_ids, row_weights) in enumerate(rows):
            ids[row, : len(row_ids)] = row_ids
            weights[row, : len(row_ids)] = row_weights
        return ids.reshape(len(regions), len(categories), width), make_cdf(weights)

    def _regional_row(self, category: str, region: str) -> tuple[np.ndarray, np.ndarray]:
        shops = self.local.get(category)
        keep = self.weights[category] > 0
        if shops is not None and shops.replaces:
            names = [self.names[i] for i in self.ids[category]]
            keep &= np.array([n not in shops.replaces for n in names])
        chain_ids, chain_w = self.ids[category][keep], self.weights[category][keep]
        chain_w = chain_w / chain_w.sum()
        if shops is None or (not shops.everywhere and region not in self.regions):
            return chain_ids, chain_w
        mine = slice(None) if shops.everywhere else shops.region == self.regions.index(region)
        local_ids, local_w = shops.ids[mine], shops.weights[mine]
        if len(local_ids) == 0:
            return chain_ids, chain_w
        return (
            np.concatenate([chain_ids, local_ids]),
            np.concatenate([chain_w * (1 - shops.share), local_w / local_w.sum() * shops.share]),
        )


def default_catalog_path() -> Path:
    """The bundled merchant file."""
    return Path(str(resources.files("sim.agents") / "data" / "merchants.toml"))


def default_local_shops_path() -> Path:
    """The bundled local-shop word file."""
    return Path(str(resources.files("sim.agents") / "data" / "local_shops.toml"))


@cache
def default_catalog() -> MerchantCatalog:
    """The bundled catalog with its local shops, built once per process."""
    return load_catalog(default_catalog_path(), default_local_shops_path())


def load_catalog(path: str | Path, local_shops: str | Path | None = None) -> MerchantCatalog:
    """Read and check a merchant file: ``[category]`` tables of ``"name" = weight``.

    Args:
        path: The merchant file.
        local_shops: An optional local-shop word file (see ``data/local_shops.toml``).
    """
    path = Path(path)
    doc = read_toml(path, "merchant")
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
    if local_shops is None:
        return MerchantCatalog(tuple(names), ids, weights, str(path))
    regions, local = _local_shops(Path(local_shops), names, index, ids, weights)
    return MerchantCatalog(tuple(names), ids, weights, str(path), regions, local)


def _local_shops(
    path: Path,
    names: list[str],
    index: dict[str, int],
    ids: dict[str, np.ndarray],
    weights: dict[str, np.ndarray],
) -> tuple[tuple[str, ...], dict[str, LocalShops]]:
    """Generate the local shops of a word file, appending their names to ``names``."""
    doc = read_toml(path, "local-shop")
    model = doc.get("model", {})
    shape = (
        _number(path, "model.presence", model.get("presence", 0.3), 0, 1),
        _number(path, "model.sigma", model.get("sigma", 1.0), 0, 5),
        _number(path, "model.area_zipf", model.get("area_zipf", 0.5), 0, 5),
    )
    areas = _areas(path, doc.get("areas", {}))
    local: dict[str, LocalShops] = {}
    for category, spec in doc.get("categories", {}).items():
        where = f"{path}: categories.{category}"
        if category not in ids or not weights[category].sum() > 0:
            raise MonilabError(f"{where}: not a category with everyday merchants")
        stems, form = _stems(where, spec)
        shops = _generate(where, stems, form, list(areas.values()), shape, names, index)
        local[category] = LocalShops(
            *shops,
            share=_number(path, f"categories.{category}.share", spec.get("share"), 0, 0.99),
            replaces=_replaces(where, spec, names, ids[category]),
            everywhere=bool(spec.get("everywhere", False)),
        )
    return tuple(areas), local


def _generate(
    where: str,
    stems: list[str],
    form: str,
    areas: list[list[str]],
    shape: tuple[float, float, float],
    names: list[str],
    index: dict[str, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The shops (ids, region, weights) of one category; names are appended to ``names``.

    A (stem, neighbourhood) pair has a shop when a hash of its name falls below
    ``presence``; the shop's popularity is ``(area rank + 1) ** -area_zipf`` times a
    mean-one lognormal with spread ``sigma`` from another part of the hash.
    """
    presence, sigma, area_zipf = shape
    shop_ids, shop_region, shop_w = [], [], []
    for region, region_areas in enumerate(areas):
        for rank, area in enumerate(region_areas):
            for stem in stems:
                name = form.format(stem=stem, area=area)
                u_here, u_size = _hash_uniforms(name)
                if u_here >= presence:
                    continue
                if name in index:
                    raise MonilabError(f"{where}: generated name {name!r} is not unique")
                index[name] = len(names)
                names.append(name)
                shop_ids.append(index[name])
                shop_region.append(region)
                size = sigma * _UNIT.inv_cdf(u_size) - sigma**2 / 2
                shop_w.append((rank + 1) ** -area_zipf * math.exp(size))
    return (
        np.array(shop_ids, dtype=np.int32),
        np.array(shop_region, dtype=np.int16),
        np.array(shop_w),
    )


def _hash_uniforms(name: str) -> tuple[float, float]:
    """Two independent uniforms in (0, 1) from a name (stable across processes)."""
    digest = hashlib.blake2b(name.encode(), digest_size=16).digest()
    a, b = int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little")
    return (a + 0.5) / 2**64, (b + 0.5) / 2**64


def _number(path: Path, key: str, value: object, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise MonilabError(f"{path}: {key} must be a number in [{lo}, {hi}]")
    return float(value)


def _areas(path: Path, table: dict) -> dict[str, list[str]]:
    seen: set[str] = set()
    for region, areas in table.items():
        if not isinstance(areas, list) or not all(isinstance(a, str) and a for a in areas):
            raise MonilabError(f"{path}: areas.{region} must be a list of names")
        if seen.intersection(areas) or len(set(areas)) < len(areas):
            raise MonilabError(f"{path}: areas.{region}: neighbourhood names must be unique")
        seen.update(areas)
    return table


def _stems(where: str, spec: object) -> tuple[list[str], str]:
    if not isinstance(spec, dict):
        raise MonilabError(f"{where} must be a table")
    stems, form = spec.get("stems", []), spec.get("form", "{stem} {area}점")
    if not isinstance(stems, list) or not all(isinstance(s, str) and s for s in stems):
        raise MonilabError(f"{where}.stems must be a list of names")
    if len(set(stems)) < len(stems):
        raise MonilabError(f"{where}.stems must be unique")
    if not isinstance(form, str) or "{stem}" not in form or "{area}" not in form:
        raise MonilabError(f"{where}.form must contain {{stem}} and {{area}}")
    try:
        form.format(stem="", area="")
    except (KeyError, IndexError, ValueError):
        raise MonilabError(f"{where}.form: only {{stem}} and {{area}} may be used") from None
    return stems, form


def _replaces(where: str, spec: dict, names: list[str], national: np.ndarray) -> frozenset[str]:
    replaces = frozenset(spec.get("replaces", []))
    unknown = replaces - {names[i] for i in national}
    if unknown:
        raise MonilabError(f"{where}.replaces: {sorted(unknown)[0]!r} is not in the category")
    return replaces
