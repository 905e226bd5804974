"""Personal merchant repertoires: exploration and preferential return (EPR)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from sim.agents.merchants import MerchantCatalog, default_catalog
from sim.agents.personas import SPEND_CATEGORIES
from sim.agents.repertoire import EMPTY, Repertoire
from sim.agents.tables import REGION_SHARES

CATEGORIES = tuple(c for c in SPEND_CATEGORIES if c != "transfer")
MIX = np.array([0.35, 0.15, 0.12, 0.12, 0.06, 0.05, 0.04, 0.04, 0.02, 0.02, 0.03])
"""A typical category mix (food, coffee, shopping, transport, living, ...)."""
SLOTS = 16


@pytest.fixture(scope="module")
def catalog() -> MerchantCatalog:
    return default_catalog()


def _repertoire(catalog: MerchantCatalog, users: int, seed: int, **kw) -> Repertoire:
    rng = np.random.default_rng(seed)
    regions = rng.integers(0, len(REGION_SHARES), users)
    return Repertoire.create(catalog, regions, CATEGORIES, SLOTS, kw.pop("initial", 3), rng, **kw)


def _day(rng: np.random.Generator, users: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """One day's payments: Poisson(rate) per user, categories from :data:`MIX`."""
    who = np.repeat(np.arange(users), rng.poisson(rate, users))
    return who, rng.choice(len(CATEGORIES), len(who), p=MIX / MIX.sum())


@dataclass
class Run:
    """A repertoire after ``days`` of payments, with every payment's user, day, merchant."""

    rep: Repertoire
    start: np.ndarray
    user: np.ndarray
    day: np.ndarray
    cat: np.ndarray
    merchant: np.ndarray


def _run(catalog: MerchantCatalog, users: int, days: int, seed: int, rate: float = 1.5) -> Run:
    rep = _repertoire(catalog, users, seed)
    start = rep.merchants.copy()
    rng = np.random.default_rng(seed + 1)
    rows = []
    for d in range(days):
        who, cats = _day(rng, users, rate)
        picked = rep.pick(who, cats, 0.6, 0.21, rng)
        rows.append((who, np.full(len(who), d), cats, picked))
    user, day, cat, merchant = (np.concatenate(parts) for parts in zip(*rows, strict=True))
    return Run(rep, start, user, day, cat, merchant)


@pytest.fixture(scope="module")
def year(catalog: MerchantCatalog) -> Run:
    """1,000 users over 240 days at about 1.5 payments a day (45 a month)."""
    return _run(catalog, 1000, 240, seed=11)


def test_same_seed_same_picks(catalog: MerchantCatalog) -> None:
    a, b = _run(catalog, 200, 20, seed=3), _run(catalog, 200, 20, seed=3)
    assert np.array_equal(a.merchant, b.merchant)
    assert np.array_equal(a.rep.merchants, b.rep.merchants)
    assert np.array_equal(a.rep.visits, b.rep.visits)
    c = _run(catalog, 200, 20, seed=4)
    assert not np.array_equal(a.merchant[:100], c.merchant[:100])


def test_start_knows_popular_merchants_of_the_region(catalog: MerchantCatalog) -> None:
    rep = _repertoire(catalog, 500, 5, initial=np.arange(500) % 5)
    want = np.minimum(np.arange(500) % 5, SLOTS)
    big = [CATEGORIES.index(c) for c in ("food", "coffee", "health")]
    assert np.array_equal(rep.known[:, big], np.repeat(want[:, None], 3, axis=1))
    filled = rep.merchants != EMPTY
    assert np.array_equal(filled.sum(axis=2), rep.known)
    assert np.array_equal(rep.visits > 0, filled)
    assert (np.diff(rep.visits, axis=2) <= 0).all()  # favourites first
    for u in range(0, 500, 7):
        for c in range(len(CATEGORIES)):
            known = rep.merchants[u, c, : rep.known[u, c]]
            assert len(set(known.tolist())) == len(known)
            vocab = rep.vocabulary.ids[rep.group[u] + c]
            assert np.isin(known, vocab).all()


def test_known_never_exceeds_slots(year: Run) -> None:
    rep = year.rep
    assert rep.known.max() == SLOTS and rep.known.min() >= 0
    assert np.array_equal((rep.merchants != EMPTY).sum(axis=2), rep.known)
    assert np.array_equal(rep.visits > 0, rep.merchants != EMPTY)
    assert (rep.discovered >= rep.known).all()
    per_shard = (rep.merchants.nbytes + rep.visits.nbytes) * 5000 / len(rep.known)
    assert per_shard < 8e6  # a few MB for a shard of 5,000 users


def test_picks_come_from_the_users_region(year: Run) -> None:
    rep = year.rep
    row = rep.group[year.user] + year.cat
    vocab = rep.vocabulary.ids
    sample = np.arange(0, len(row), 97)
    assert (vocab[row[sample]] == year.merchant[sample, None]).any(axis=1).all()


def test_distinct_merchants_per_user_month(year: Run) -> None:
    month = year.day // 30
    months = int(month.max()) + 1
    cell = year.user * months + month
    payments = np.bincount(cell, minlength=1000 * months)
    pairs = np.unique(np.stack([cell, year.merchant]), axis=1)
    distinct = np.bincount(pairs[0], minlength=1000 * months)
    print(f"payments/user-month {np.median(payments)}, distinct {np.median(distinct)}")
    assert 40 <= np.median(payments) <= 50
    assert 10 <= np.median(distinct) <= 50  # Krumme et al.: 10-50 for active card users


def test_new_merchants_come_ever_more_slowly(year: Run) -> None:
    user = np.nonzero(year.start != EMPTY)[0]
    before = user.astype(np.int64) * 10**6 + year.start[year.start != EMPTY]
    key = year.user.astype(np.int64) * 10**6 + year.merchant
    _, first = np.unique(key, return_index=True)
    new = np.zeros(len(key), dtype=bool)
    new[first] = True
    new &= ~np.isin(key, before)
    month = year.day // 30
    share = [new[month == k].mean() for k in range(int(month.max()) + 1)]
    print("new-merchant share by month", np.round(share, 3))
    assert share[0] > share[-1] * 1.3
    assert all(a >= b for a, b in itertools.pairwise(share))


def test_favourites_get_most_visits(year: Run) -> None:
    food = year.cat == CATEGORIES.index("food")
    key = year.user[food].astype(np.int64) * 10**6 + year.merchant[food]
    keys, count = np.unique(key, return_counts=True)
    top = np.zeros(1000)
    np.maximum.at(top, keys // 10**6, count)
    total = np.bincount(year.user[food], minlength=1000)
    distinct = np.bincount(keys // 10**6, minlength=1000)
    busy = total >= 50
    share = top[busy] / total[busy]
    print(
        f"food: top merchant share {np.median(share):.3f}, x{np.median(share * distinct[busy]):.1f}"
    )
    assert np.median(share) >= 0.15
    assert np.median(share * distinct[busy]) >= 4  # far above a uniform choice


def test_knows_remembered_not_fresh(catalog: MerchantCatalog) -> None:
    rep = _repertoire(catalog, 300, 8)
    users, cats, slot = np.nonzero(rep.merchants != EMPTY)
    assert rep.knows(users, cats, rep.merchants[users, cats, slot]).all()
    food = CATEGORIES.index("food")
    shops = catalog.local["food"]
    elsewhere = (rep.group // len(CATEGORIES) + 1) % len(REGION_SHARES)
    fresh = np.array([shops.ids[shops.region == r][0] for r in elsewhere])
    assert not rep.knows(np.arange(300), np.full(300, food), fresh).any()


def test_explorations_find_new_merchants_and_forget_the_least_visited(
    catalog: MerchantCatalog,
) -> None:
    rep = _repertoire(catalog, 300, 9)
    rng = np.random.default_rng(1)
    users = np.arange(300)
    food = np.full(300, CATEGORIES.index("food"))
    favourite = rep.merchants[:, food[0], 0].copy()
    repeats = np.zeros(300, dtype=int)
    for _ in range(40):
        before = rep.merchants[:, food[0]].copy()
        picked = rep.pick(users, food, 1.0, 0.0, rng)  # always explore
        repeats += (before == picked[:, None]).any(axis=1)
        assert rep.knows(users, food, picked).all()  # remembered (or visited again)
    assert repeats.sum() <= 0.01 * 40 * 300  # nearly always a merchant the user did not know
    assert np.array_equal(rep.discovered[:, food[0]], 3 + 40 - repeats)
    assert (rep.known[:, food[0]] == SLOTS).all()
    assert np.array_equal(rep.merchants[:, food[0], 0], favourite)  # most visited kept


def test_returns_only_visit_known_merchants(catalog: MerchantCatalog) -> None:
    rep = _repertoire(catalog, 300, 10)
    rng = np.random.default_rng(2)
    before = rep.merchants.copy()
    total = rep.visits.sum()
    users = np.repeat(np.arange(300), 3)
    cats = np.tile([0, 1, 0], 300)
    picked = rep.pick(users, cats, 0.0, 0.21, rng)
    assert rep.knows(users, cats, picked).all()
    assert np.array_equal(rep.merchants, before)
    assert rep.visits.sum() == pytest.approx(total + len(users))
