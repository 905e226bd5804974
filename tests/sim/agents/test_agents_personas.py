"""Persona files: validation messages, free parameters, applying values, TOML round-trip."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from sim.agents.merchants import default_catalog
from sim.agents.parameters import PersonaError
from sim.agents.personas import (
    SPEND_CATEGORIES,
    default_persona_path,
    load_personas,
    parse_personas,
)
from sim.agents.tables import compile_personas


@pytest.fixture(scope="module")
def default_text() -> str:
    return default_persona_path().read_text(encoding="utf-8")


def _broken(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_default_personas_cover_types_and_styles() -> None:
    personas = load_personas()
    assert 8 <= len(personas.personas) <= 10
    assert {p.spending_type for p in personas.personas} == {
        "saver",
        "stable",
        "goal_setter",
        "yolo",
        "investor",
    }
    assert {p.style for p in personas.personas} == {
        "loose_passive",
        "loose_aggressive",
        "tight_passive",
        "tight_aggressive",
    }
    assert math.isclose(sum(personas.shares()), 1.0)
    young = [p for p in personas.personas if p.demographics.age_max <= 36]
    assert len(young) >= 5, "20-30대 사회초년생 first"
    assert any(p.demographics.age_min >= 45 for p in personas.personas), "older users too"
    compile_personas(personas, default_catalog())  # merchants and regions all resolve


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "monthly_median = 850000",
            "monthly_median = -5",
            "persona 'yolo_student': field 'income.monthly_median': must be > 0",
        ),
        (
            'spending_type = "yolo"',
            'spending_type = "spender"',
            "persona 'yolo_student': field 'spending_type': 'spender' is not one of",
        ),
        (
            "age_max = 25",
            "age_max = 19",
            "persona 'yolo_student': field 'demographics.age_max': must be >= age_min",
        ),
        (
            'favourite_merchants = 5\nzipf_exponent = 0.9\nhours = "student"',
            'favourite_merchants = 5\nzipf_exponent = 0.9\nhours = "night_owl"',
            "persona 'yolo_student': field 'spending.hours': unknown profile 'night_owl'",
        ),
        (
            "peer_influence = 0.35",
            "peer_influence = 0.35\nmood_swing = 2",
            "persona 'yolo_student': field 'spending.mood_swing': unknown field",
        ),
        (
            "txn_per_day = { value = 2.4, free = true, low = 0.3, high = 8.0, log = true }",
            "txn_per_day = { value = 9.4, free = true, low = 0.3, high = 8.0, log = true }",
            "persona 'yolo_student': field 'spending.txn_per_day': value 9.4 is outside",
        ),
        (
            "txn_per_day = { value = 2.4, free = true, low = 0.3, high = 8.0, log = true }",
            "txn_per_day = { value = 2.4, free = true, low = 0.0, high = 8.0, log = true }",
            "persona 'yolo_student': field 'spending.txn_per_day': a log-scale parameter",
        ),
        (
            'paydays = { "1" = 0.3, "10" = 0.4, "25" = 0.3 }',
            'paydays = { "1" = 0.3, "40" = 0.4 }',
            "persona 'yolo_student': field 'income.paydays.40': paydays are days",
        ),
        (
            "day_shape = { value = 1.5, free = true, low = 0.3, high = 20.0, log = true }",
            "day_shape = 0",
            "persona 'yolo_student': field 'spending.day_shape': must be > 0",
        ),
        (
            "education = { share = 0.02, median = 18000, sigma = 0.7, reach = 0.55 }",
            "education = { share = 0.02, median = 18000, sigma = 0.7, reach = 1.5 }",
            "persona 'yolo_student': field 'categories.education.reach': must be <= 1",
        ),
        (
            "[personas.yolo_student.goals]",
            "[personas.yolo_student.mixing]\nsecondary_weight = 1.2\n\n"
            "[personas.yolo_student.goals]",
            "persona 'yolo_student': field 'mixing.secondary_weight': must be < 1",
        ),
        (
            "discipline = { value = 0.25,",
            'discipline = { value = "low",',
            "persona 'yolo_student': field 'spending.discipline': 'value' must be a finite number",
        ),
    ],
)
def test_bad_persona_gives_one_line_naming_persona_and_field(
    default_text: str, old: str, new: str, message: str
) -> None:
    # Each replacement targets the yolo_student table (its values are unique in the file).
    start = default_text.index("[personas.yolo_student]")
    end = default_text.index("[personas.yolo_worker]")
    section = _broken(default_text[start:end], old, new)
    with pytest.raises(PersonaError) as err:
        parse_personas(default_text[:start] + section + default_text[end:], "personas/bad.toml")
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("personas/bad.toml: ")
    assert message in text


def test_missing_field_and_missing_file(default_text: str, tmp_path) -> None:
    text = _broken(
        default_text,
        "[personas.yolo_student.app]\nsessions_per_week = 2.5\n",
        "[personas.yolo_student.app]\n",
    )
    with pytest.raises(
        PersonaError,
        match=re.escape("persona 'yolo_student': field 'app.sessions_per_week': missing"),
    ):
        parse_personas(text)
    with pytest.raises(PersonaError, match="cannot read persona file"):
        load_personas(tmp_path / "absent.toml")
    (tmp_path / "broken.toml").write_text("[personas\n", encoding="utf-8")
    with pytest.raises(PersonaError, match="not valid TOML"):
        load_personas(tmp_path / "broken.toml")


def test_unknown_merchant_is_named_when_compiling(default_text: str) -> None:
    text = _broken(
        default_text,
        'merchants = ["월세"], amount = 380000',
        'merchants = ["하숙비"], amount = 380000',
    )
    with pytest.raises(
        PersonaError,
        match=re.escape("persona 'yolo_student': field 'fixed_costs.rent.merchants': merchant"),
    ):
        compile_personas(parse_personas(text), default_catalog())


def test_free_parameters_have_stable_names_bounds_and_scale() -> None:
    personas = load_personas()
    free = {p.name: p for p in personas.free_parameters()}
    tpd = free["yolo_student.spending.txn_per_day"]
    assert (tpd.value, tpd.low, tpd.high, tpd.log) == (2.4, 0.3, 8.0, True)
    assert "office_stable.categories.coffee.median" in free
    assert free["office_stable.categories.coffee.sigma"].log is False
    assert math.isclose(tpd.from_unit(tpd.to_unit(3.3)), 3.3)
    assert tpd.from_unit(0.0) == 0.3 and math.isclose(tpd.from_unit(1.0), 8.0)


def test_with_values_is_pure_and_validated() -> None:
    personas = load_personas()
    changed = personas.with_values(
        {"yolo_student.spending.txn_per_day": 3.0, "*.categories.coffee.median": 7000}
    )
    assert changed["yolo_student"].spending.txn_per_day == 3.0
    assert {p.categories["coffee"].median for p in changed.personas} == {7000.0}
    assert personas["yolo_student"].spending.txn_per_day == 2.4  # original untouched
    assert changed.sha256 != personas.sha256
    with pytest.raises(
        PersonaError, match=re.escape("no free parameter named 'yolo_student.share'")
    ):
        personas.with_values({"yolo_student.share": 0.2})
    with pytest.raises(PersonaError, match="is outside"):
        personas.with_values({"yolo_student.spending.txn_per_day": 100.0})


def test_toml_round_trip(tmp_path) -> None:
    personas = load_personas().with_values({"*.spending.discipline": 0.5})
    path = personas.save(tmp_path / "calibrated.toml")
    again = load_personas(path)
    assert again.personas == personas.personas
    assert again.document == personas.document
    assert [p.name for p in again.free_parameters()] == [p.name for p in personas.free_parameters()]
    assert again.to_toml() == personas.to_toml()


def test_category_keys_are_spend_categories() -> None:
    personas = load_personas()
    for persona in personas.personas:
        assert set(persona.categories) <= set(SPEND_CATEGORIES)


COFFEE_BANDS = "[profiles.ticket_hours.coffee]\n"


@pytest.mark.parametrize(
    ("band_lines", "message"),
    [
        ('"00-12" = 1.0\n"12-23" = 1.2\n', "bands leave hour 23 uncovered"),
        ('"00-12" = 1.0\n"11-24" = 1.2\n', "coffee.11-24': overlaps another band at hour 11"),
        ('"00-12" = 1.0\n"12-25" = 1.2\n', "coffee.12-25': hour bands are written HH-HH"),
        ('"morning" = 1.0\n', "coffee.morning': hour bands are written HH-HH"),
        ('"00-12" = 1.0\n"12-24" = 0.0\n', "multipliers must be > 0"),
    ],
)
def test_bad_ticket_bands_give_one_line(default_text: str, band_lines: str, message: str) -> None:
    start = default_text.index(COFFEE_BANDS) + len(COFFEE_BANDS)
    end = default_text.index("[profiles.weekdays]")
    text = default_text[:start] + band_lines + "\n" + default_text[end:]
    with pytest.raises(PersonaError) as err:
        parse_personas(text, "personas/bad.toml")
    assert "\n" not in str(err.value)
    assert "profiles.ticket_hours.coffee" in str(err.value) and message in str(err.value)


def test_unknown_ticket_profile_and_profile_kind_are_named(default_text: str) -> None:
    text = _broken(default_text, 'ticket_hours = "coffee"', 'ticket_hours = "tea"')
    message = "categories.coffee.ticket_hours': unknown profile 'tea'"
    with pytest.raises(PersonaError, match=re.escape(message)):
        parse_personas(text)
    moods = "[profiles.moods]\nx = [1]\n[profiles.weekdays]"
    text = _broken(default_text, "[profiles.weekdays]", moods)
    with pytest.raises(PersonaError, match=re.escape("profiles.moods': unknown profile kind")):
        parse_personas(text)


def test_ticket_bands_expand_to_hours_and_keep_the_mean_ticket() -> None:
    flat = load_personas()
    bands = {"06-11": 0.6, "17-21": 1.3, "21-24": 1.6}
    personas = flat.with_values({f"profiles.ticket_hours.coffee.{k}": v for k, v in bands.items()})
    hourly = personas.ticket_profiles["coffee"]
    assert hourly[6:11] == (0.6,) * 5 and hourly[11:14] == (1.0,) * 3 and hourly[21:] == (1.6,) * 3
    coffee = SPEND_CATEGORIES.index("coffee")
    tables = compile_personas(personas, default_catalog())
    multiplier = tables.ticket_by_hour[:, coffee]
    weights = tables.hour_weights[:, coffee]
    assert np.allclose((weights * multiplier).sum(axis=1), 1.0)  # the median keeps its level
    assert np.allclose(multiplier[:, 21] / multiplier[:, 7], 1.6 / 0.6)
    others = np.delete(tables.ticket_by_hour, coffee, axis=1)
    assert np.all(others == 1.0)
    flat_tables = compile_personas(flat, default_catalog())
    assert np.all(flat_tables.ticket_by_hour == 1.0)  # exactly 1: seeded data unchanged
