"""Each user's personal merchant repertoire: exploration and preferential return (EPR).

The model is the exploration and preferential return model of human mobility (Song, Koren,
Wang & Barabási, "Modelling the scaling properties of human mobility", Nature Physics 6,
818-823, 2010), which Krumme, Llorente, Cebrian, Pentland & Moro ("The predictability of
consumer visitation patterns", Scientific Reports 3, 1645, 2013) apply to card holders'
shop visits. At each payment in a category, a user who has so far discovered ``S``
distinct merchants there explores a new one with probability ``rho * S ** -gamma``
(``rho`` about 0.6, ``gamma`` about 0.21 in Song et al.), drawn by popularity from the
merchants of the user's region (national chains plus local shops); otherwise the user
returns to a merchant already known with probability proportional to past visits. New
merchants keep appearing, ever more slowly, and favourites get most visits.

Each (user, category) remembers at most ``slots`` merchants: a newly discovered one takes
a free slot or replaces the least-visited one (people forget the shop they tried once).
``S`` counts every discovery, forgotten or not, as in Song et al. Everything is vectorised
over one shard; one call of :meth:`Repertoire.pick` serves a day's payments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents.merchants import MerchantCatalog
from sim.agents.tables import REGION_SHARES

RETRIES = 3
"""Redraws for an exploration that hit a merchant the user already knows."""

HISTORY = 6.0
"""Visits of a user's first known merchant at the start; the k-th known has HISTORY / k."""

EMPTY = -1
"""Merchant id of a slot not filled yet."""


@dataclass(frozen=True)
class RegionalVocabulary:
    """Everyday merchants per (region, category) row, prepared for fast popularity draws.

    The rows' CDFs are laid end to end, row ``g`` shifted by ``g``, so one binary search
    draws for rows of any mix of groups (as :func:`sim.agents.sampling.grouped_choice`).

    Attributes:
        ids: ``(R * C, V)`` merchant ids; row ``region * C + category``.
        cdf: ``(R * C * V,)`` the rows' CDFs laid end to end, row ``g`` shifted by ``g``.
    """

    ids: np.ndarray
    cdf: np.ndarray

    @classmethod
    def of(
        cls,
        catalog: MerchantCatalog,
        categories: tuple[str, ...],
        region_names: tuple[str, ...] = tuple(REGION_SHARES),
    ) -> RegionalVocabulary:
        """Build from a catalog's :meth:`~MerchantCatalog.regional_vocabulary`."""
        ids, cdf = catalog.regional_vocabulary(categories, region_names)
        rows, width = cdf.shape
        flat = (cdf + np.arange(rows)[:, None]).ravel()
        return cls(ids.reshape(rows, width), flat)

    @property
    def width(self) -> int:
        """Merchants per row (padded)."""
        return self.ids.shape[1]

    def draw(self, group: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One merchant id per row from its group's popularity, given uniforms ``u``.

        One binary search over the shifted CDFs laid end to end: the long tail puts many
        rare merchants in one guide bucket, where stepping forward would be slow.
        """
        group = np.asarray(group, dtype=np.int64)
        found = np.searchsorted(self.cdf, u + group, side="right") - group * self.width
        return self.ids[group, np.minimum(found, self.width - 1)]


@dataclass
class Repertoire:
    """The merchants each user of a shard knows, per category, with visit counts.

    Attributes:
        merchants: ``(users, C, slots)`` int32 merchant ids (:data:`EMPTY` when free).
        visits: ``(users, C, slots)`` float32 visits of each remembered merchant.
        known: ``(users, C)`` int16 slots filled.
        discovered: ``(users, C)`` int32 distinct merchants discovered so far (``S``).
        group: ``(users,)`` int64 first vocabulary row of the user's region.
        vocabulary: The regional vocabularies explorations draw from.
    """

    merchants: np.ndarray
    visits: np.ndarray
    known: np.ndarray
    discovered: np.ndarray
    group: np.ndarray
    vocabulary: RegionalVocabulary

    def __post_init__(self) -> None:
        # updates go through flat views, which need contiguous arrays
        for name in ("merchants", "visits", "known", "discovered"):
            setattr(self, name, np.ascontiguousarray(getattr(self, name)))

    @classmethod
    def create(
        cls,
        catalog: MerchantCatalog,
        regions: np.ndarray,
        categories: tuple[str, ...],
        slots: int,
        initial: np.ndarray | int,
        rng: np.random.Generator,
        *,
        region_names: tuple[str, ...] = tuple(REGION_SHARES),
        history: float = HISTORY,
        concentration: np.ndarray | float = 1.0,
        discovered: np.ndarray | int | None = None,
        vocabulary: RegionalVocabulary | None = None,
    ) -> Repertoire:
        """Each user's starting repertoire: merchants known from life before the run.

        Args:
            catalog: The merchant world.
            regions: ``(users,)`` index of each user's 시도 in ``region_names``.
            categories: The categories, in column order.
            slots: Merchants remembered per (user, category).
            initial: Merchants each user knows per category at the start: one number,
                ``(users,)`` or ``(users, C)``; drawn without replacement by popularity in
                the user's region, and fewer when the region has too few.
            rng: The shard's generator.
            region_names: The 시도 names ``regions`` indexes.
            history: Starting visits of the first merchant known (``history / k ** c`` for
                the k-th), so that favourites exist from day one.
            concentration: ``c`` above, one number or ``(users,)`` (Zipf exponent of the
                starting visits: higher, more loyal to the first favourite).
            discovered: Merchants discovered before the run (``S`` at the start, at least
                the ones known), shaped like ``initial``; default: the ones known.
            vocabulary: A prebuilt ``RegionalVocabulary.of(catalog, categories,
                region_names)`` to share between shards.
        """
        vocab = vocabulary or RegionalVocabulary.of(catalog, categories, region_names)
        users, n_cat = len(regions), len(categories)
        group = np.asarray(regions, dtype=np.int64) * n_cat
        want = np.minimum(_per_cell(initial, users, n_cat), slots)
        draws = 4 * int(want.max(initial=0)) + 4
        rows = np.repeat((group[:, None] + np.arange(n_cat)).ravel(), draws)
        first = _first_distinct(vocab.draw(rows, rng.random(len(rows))).reshape(-1, draws))
        first = first[:, :slots].reshape(users, n_cat, -1)
        rank = np.arange(first.shape[2])
        filled = (first != EMPTY) & (rank < want[:, :, None])
        merchants = np.full((users, n_cat, slots), EMPTY, dtype=np.int32)
        merchants[:, :, : first.shape[2]] = np.where(filled, first, EMPTY)
        visits = np.zeros((users, n_cat, slots), dtype=np.float32)
        power = np.broadcast_to(np.asarray(concentration, dtype=float), (users,))
        start = history / (rank[None, None, :] + 1.0) ** power[:, None, None]
        visits[:, :, : first.shape[2]] = np.where(filled, start, 0)
        known = filled.sum(axis=2).astype(np.int16)
        seen = known if discovered is None else _per_cell(discovered, users, n_cat)
        seen = np.maximum(seen, known).astype(np.int32)
        return cls(merchants, visits, known, seen, group, vocab)

    @property
    def slots(self) -> int:
        """Merchants remembered per (user, category)."""
        return self.merchants.shape[2]

    def pick(
        self,
        users: np.ndarray,
        cats: np.ndarray,
        rho: np.ndarray | float,
        gamma: np.ndarray | float,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """One merchant per payment (one call per day), updating the repertoire.

        Draws, in order: one uniform per payment (explore?), one per payment (which known
        merchant), then the explorations' merchants (see :meth:`_explore`). Known
        merchants gain a visit per payment. The first exploration of a (user, category)
        in the call is remembered; further ones in the same call are one-off visits. An
        exploration that keeps drawing known merchants (a category the user has nearly
        exhausted) becomes a visit to the last one drawn.

        Args:
            users: ``(n,)`` user index in the shard of each payment.
            cats: ``(n,)`` category column of each payment.
            rho: Exploration scale, per payment or one value (Song et al.: about 0.6).
            gamma: Exploration decay with discoveries (Song et al.: about 0.21).
            rng: The shard's generator.

        Returns:
            ``(n,)`` int32 merchant ids.
        """
        row = self._rows(users, cats)
        seen = np.maximum(self.discovered.ravel()[row], 1)
        explore = rng.random(len(row)) < rho * np.exp(-gamma * np.log(seen))
        explore |= self.known.ravel()[row] == 0
        u_return = rng.random(len(row))
        slot = np.empty(len(row), dtype=np.int64)
        back, new = np.flatnonzero(~explore), np.flatnonzero(explore)
        slot[back] = self._return_slots(row[back], u_return[back])
        out = np.empty(len(row), dtype=np.int32)
        out[back] = self.merchants.reshape(-1, self.slots)[row[back], slot[back]]
        out[new], slot[new] = self._explore(row[new], rng)
        visit = np.flatnonzero(slot >= 0)
        _increment(self.visits.ravel(), row[visit] * self.slots + slot[visit])
        fresh = new[slot[new] < 0]
        self._remember(row[fresh], out[fresh])
        return out

    def knows(self, users: np.ndarray, cats: np.ndarray, merchants: np.ndarray) -> np.ndarray:
        """Whether each user remembers the merchant in that category."""
        return self._slot_of(self._rows(users, cats), np.asarray(merchants)) >= 0

    def _rows(self, users: np.ndarray, cats: np.ndarray) -> np.ndarray:
        return np.asarray(users, dtype=np.int64) * self.known.shape[1] + cats

    def _slot_of(self, row: np.ndarray, merchants: np.ndarray) -> np.ndarray:
        """The slot remembering each row's merchant, or -1."""
        same = self.merchants.reshape(-1, self.slots)[row] == merchants[:, None]
        slot = same.argmax(axis=1)
        return np.where(same[np.arange(len(row)), slot], slot, -1)

    def _return_slots(self, row: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A remembered slot per row, in proportion to its visits."""
        # slots x rows, so the running sum and the count are a few contiguous passes
        cum = np.ascontiguousarray(self.visits.reshape(-1, self.slots).take(row, axis=0).T)
        for j in range(1, self.slots):
            cum[j] += cum[j - 1]
        slot = (cum[:-1] <= u * cum[-1]).sum(axis=0)
        return np.minimum(slot, self.known.ravel()[row] - 1)

    def _explore(self, row: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Merchants by regional popularity, redrawn (a few times) while already known.

        Returns:
            The merchants, and the slot of those still known after the retries (else -1).
        """
        n_cat = self.known.shape[1]
        group = self.group[row // n_cat] + row % n_cat
        merchants = self.vocabulary.draw(group, rng.random(len(row)))
        slot = self._slot_of(row, merchants)
        todo = np.flatnonzero(slot >= 0)
        for _ in range(RETRIES):
            if not len(todo):
                break
            merchants[todo] = self.vocabulary.draw(group[todo], rng.random(len(todo)))
            slot[todo] = self._slot_of(row[todo], merchants[todo])
            todo = todo[slot[todo] >= 0]
        return merchants, slot

    def _remember(self, row: np.ndarray, merchants: np.ndarray) -> None:
        """Count discoveries; keep each row's first one in a free or least-visited slot."""
        rows, first, count = np.unique(row, return_index=True, return_counts=True)
        self.discovered.ravel()[rows] += count
        known = self.known.ravel()
        slot = known[rows].astype(np.int64)
        full = np.flatnonzero(slot == self.slots)
        slot[full] = self.visits.reshape(-1, self.slots)[rows[full]].argmin(axis=1)
        self.merchants.ravel()[rows * self.slots + slot] = merchants[first]
        self.visits.ravel()[rows * self.slots + slot] = 1
        known[rows] = np.minimum(known[rows] + 1, self.slots)


def _increment(flat: np.ndarray, index: np.ndarray) -> None:
    """``flat[index] += 1`` counting repeated indices (like ``np.add.at``, faster).

    The fancy ``+=`` writes the same value for every copy of an index, so it is
    deterministic; the extra copies are then added by ``np.add.at`` (rare).
    """
    flat[index] += 1
    ordered = np.sort(index)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if len(repeated):
        np.add.at(flat, repeated, 1)


def _per_cell(value: np.ndarray | int, users: int, n_cat: int) -> np.ndarray:
    """A number, ``(users,)`` or ``(users, C)`` values as a ``(users, C)`` array."""
    value = np.asarray(value)
    return np.broadcast_to(value[:, None] if value.ndim == 1 else value, (users, n_cat))


def _first_distinct(draws: np.ndarray) -> np.ndarray:
    """Per row, the distinct values in order of first appearance, :data:`EMPTY`-padded."""
    order = np.argsort(draws, axis=1, kind="stable")
    ranked = np.take_along_axis(draws, order, axis=1)
    repeat = np.zeros(draws.shape, dtype=bool)
    repeat[:, 1:] = ranked[:, 1:] == ranked[:, :-1]
    dup = np.empty_like(repeat)
    np.put_along_axis(dup, order, repeat, axis=1)
    keep = np.argsort(dup, axis=1, kind="stable")
    kept = np.take_along_axis(draws, keep, axis=1)
    return np.where(np.take_along_axis(dup, keep, axis=1), EMPTY, kept)
