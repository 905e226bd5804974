"""The merchant world: national chains plus generated local shops per 시도."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monilab.contracts.errors import MonilabError
from monilab.contracts.vocabulary import CATEGORIES
from sim.agents.merchants import (
    MerchantCatalog,
    default_catalog,
    default_catalog_path,
    default_local_shops_path,
    load_catalog,
)
from sim.agents.personas import SPEND_CATEGORIES
from sim.agents.tables import REGION_SHARES

REGIONS = tuple(REGION_SHARES)


@pytest.fixture(scope="module")
def catalog() -> MerchantCatalog:
    return default_catalog()


def _weights(cdf: np.ndarray) -> np.ndarray:
    return np.diff(cdf, prepend=0.0, axis=1)


def test_thousands_of_unique_names_with_local_shops_everywhere(catalog: MerchantCatalog) -> None:
    assert len(catalog.names) > 10_000
    assert len(set(catalog.names)) == len(catalog.names)
    assert catalog.regions == REGIONS
    everyday = [c for c in SPEND_CATEGORIES if c != "transfer"]
    assert sorted(catalog.local) == sorted(everyday)
    for category, shops in catalog.local.items():
        counts = np.bincount(shops.region, minlength=len(REGIONS))
        assert (counts >= 20).all(), category
        assert (shops.weights > 0).all()
    every_local = np.concatenate([s.ids for s in catalog.local.values()])
    assert len(np.unique(every_local)) == len(every_local)  # one category per shop
    national = np.concatenate(list(catalog.ids.values()))
    assert not np.isin(every_local, national).any()


def test_local_names_read_as_a_shop_in_a_neighbourhood(catalog: MerchantCatalog) -> None:
    food = catalog.local["food"]
    names = [catalog.names[i] for i in food.ids[food.region == REGIONS.index("서울특별시")]]
    assert any(n.endswith(" 강남점") for n in names)
    health = catalog.local["health"]
    assert any(catalog.names[i].endswith("약국") for i in health.ids)
    assert catalog.id_of(names[0], "food") == food.ids[0]
    with pytest.raises(KeyError):
        catalog.id_of(names[0], "coffee")


def test_region_vocabulary_holds_its_own_shops_and_the_chains(catalog: MerchantCatalog) -> None:
    ids, cdf = catalog.regional_vocabulary(SPEND_CATEGORIES, REGIONS)
    assert ids.shape[:2] == (len(REGIONS), len(SPEND_CATEGORIES))
    assert cdf.shape == (ids.shape[0] * ids.shape[1], ids.shape[2])
    weights = _weights(cdf).reshape(ids.shape)
    for col, category in enumerate(SPEND_CATEGORIES):
        shops = catalog.local.get(category)
        national = set(catalog.ids[category][catalog.weights[category] > 0].tolist())
        for r in range(len(REGIONS)):
            drawn = set(ids[r, col][weights[r, col] > 0].tolist())
            if shops is None:
                assert drawn == national
                continue
            mine = shops.ids if shops.everywhere else shops.ids[shops.region == r]
            replaced = {catalog.id_of(n) for n in shops.replaces}
            assert drawn == (national - replaced) | set(mine.tolist())
            local = np.isin(ids[r, col], shops.ids) & (weights[r, col] > 0)
            assert weights[r, col][local].sum() == pytest.approx(shops.share)


def test_weights_are_long_tailed(catalog: MerchantCatalog) -> None:
    categories = tuple(catalog.local)
    _, cdf = catalog.regional_vocabulary(categories, REGIONS)
    for row in _weights(cdf):
        top = np.sort(row[row > 0])[::-1]
        assert top[: int(np.ceil(0.1 * len(top)))].sum() >= 0.5
    for shops in catalog.local.values():
        top = np.sort(shops.weights)[::-1]
        assert top[: int(np.ceil(0.1 * len(top)))].sum() >= 0.5 * top.sum()


def test_catalog_is_the_same_on_every_build(catalog: MerchantCatalog) -> None:
    again = load_catalog(default_catalog_path(), default_local_shops_path())
    assert again.names == catalog.names and again.regions == catalog.regions
    for category in catalog.ids:
        assert np.array_equal(again.ids[category], catalog.ids[category])
        assert np.array_equal(again.weights[category], catalog.weights[category])
    for category, shops in catalog.local.items():
        other = again.local[category]
        assert np.array_equal(other.ids, shops.ids)
        assert np.array_equal(other.region, shops.region)
        assert np.array_equal(other.weights, shops.weights)
    a = catalog.regional_vocabulary(SPEND_CATEGORIES, REGIONS)
    b = again.regional_vocabulary(SPEND_CATEGORIES, REGIONS)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_national_vocabulary_is_unchanged(catalog: MerchantCatalog) -> None:
    national = load_catalog(default_catalog_path())
    assert catalog.names[: len(national.names)] == national.names
    a = catalog.vocabulary_cdf(SPEND_CATEGORIES)
    b = national.vocabulary_cdf(SPEND_CATEGORIES)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _small_file(tmp_path: Path) -> Path:
    lines = []
    for i, category in enumerate(CATEGORIES):
        lines += [f"[{category}]", f'"가게{i}" = 2', f'"상점{i}" = 1', ""]
    path = tmp_path / "merchants.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_a_custom_file_without_local_shops_still_works(tmp_path: Path) -> None:
    catalog = load_catalog(_small_file(tmp_path))
    assert len(catalog.names) == 2 * len(CATEGORIES)
    assert catalog.local == {} and catalog.regions == ()
    assert catalog.id_of("가게0", CATEGORIES[0]) == 0
    ids, cdf = catalog.regional_vocabulary(("food", "coffee"), REGIONS[:2])
    assert ids.shape == (2, 2, 2)
    assert np.allclose(_weights(cdf), [2 / 3, 1 / 3])
    assert np.array_equal(catalog.merchants_of("food"), catalog.ids["food"])


def test_local_shops_on_a_custom_file(tmp_path: Path) -> None:
    local = tmp_path / "local.toml"
    local.write_text(
        "[model]\npresence = 1.0\n"
        '[categories.food]\nshare = 0.5\nstems = ["할매순대국", "원조김밥"]\n'
        '[areas]\n"서울특별시" = ["강남", "신촌"]\n"부산광역시" = ["서면"]\n',
        encoding="utf-8",
    )
    catalog = load_catalog(_small_file(tmp_path), local)
    assert len(catalog.local["food"].ids) == 6
    assert "원조김밥 서면점" in catalog.names
    ids, cdf = catalog.regional_vocabulary(("food",), ("부산광역시", "제주특별자치도"))
    busan = {catalog.names[i] for i in ids[0, 0][_weights(cdf)[0] > 0]}
    assert busan == {"가게0", "상점0", "할매순대국 서면점", "원조김밥 서면점"}
    assert (_weights(cdf)[1] > 0).sum() == 2  # no local shops: chains alone


@pytest.mark.parametrize(
    ("local", "message"),
    [
        ('[areas]\n"서울특별시" = ["강남"]\n"부산광역시" = ["강남"]\n', "unique"),
        ('[categories.food]\nshare = 0.5\nreplaces = ["없는가게"]\nstems = ["a"]\n', "not in"),
        ('[categories.food]\nshare = 1.5\nstems = ["a"]\n', "share"),
        ('[categories.food]\nshare = 0.5\nform = "{stem}"\nstems = ["a"]\n', "form"),
    ],
)
def test_bad_local_files_are_refused(tmp_path: Path, local: str, message: str) -> None:
    path = tmp_path / "local.toml"
    path.write_text(local, encoding="utf-8")
    with pytest.raises(MonilabError, match=message):
        load_catalog(_small_file(tmp_path), path)
