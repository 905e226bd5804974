"""Stylized facts: each fact's computation on constructed data with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration.facts import fact_data, load_bands
from calibration.facts.frames import EVERYDAY_CATEGORIES
from calibration.facts.measure import NotApplicable
from calibration.facts.money import (
    consumption_mix_distance,
    income_regularity,
    monthly_spend_cv,
    outflow_to_income,
    payday_share,
    seasonality,
    spend_to_income,
)
from calibration.facts.repertoire import (
    categories_per_user,
    category_rank_slope,
    merchants_per_user_month,
    new_merchant_rate,
)
from calibration.facts.timing import daily_count_dispersion, gap_cv, longest_inactive_spell

START = pd.Timestamp("2024-01-01")


def rows(
    user: int,
    times,
    *,
    amount=1000,
    category="food",
    direction="out",
    merchant=None,
) -> pd.DataFrame:
    """Transactions of one user at the given times (scalars broadcast)."""
    ts = pd.DatetimeIndex(pd.to_datetime(times))
    return pd.DataFrame(
        {
            "user_id": user,
            "ts": ts.astype("datetime64[us]"),
            "amount": amount,
            "category": category,
            "direction": direction,
            "merchant": merchant,
        }
    )


def days(n: int, *, hour: int = 12, start: pd.Timestamp = START) -> pd.DatetimeIndex:
    """``n`` consecutive days at a fixed hour."""
    return pd.date_range(start + pd.Timedelta(hours=hour), periods=n, freq="D")


def poisson_times(rng: np.random.Generator, rate_per_day: float, n_days: int) -> pd.Series:
    """A homogeneous Poisson process over ``n_days`` (timestamps)."""
    n = rng.poisson(rate_per_day * n_days)
    seconds = np.sort(rng.uniform(0, n_days * 86_400, n))
    return START + pd.to_timedelta(seconds, unit="s")


def data_of(*frames: pd.DataFrame):
    return fact_data(pd.concat(frames, ignore_index=True))


# ---------------------------------------------------------------- timing


def test_a_daily_buyer_has_no_dispersion_no_spell_and_regular_gaps() -> None:
    data = data_of(rows(1, days(182)))
    assert daily_count_dispersion(data).value == pytest.approx(0.0)
    assert longest_inactive_spell(data).value == 0.0
    assert gap_cv(data).value == pytest.approx(0.0)


def test_a_poisson_process_has_dispersion_and_gap_cv_near_one() -> None:
    rng = np.random.default_rng(3)
    frames = [rows(u, poisson_times(rng, 3.0, 400)) for u in range(1, 21)]
    data = data_of(*frames)
    assert daily_count_dispersion(data).value == pytest.approx(1.0, abs=0.1)
    assert gap_cv(data).value == pytest.approx(1.0, abs=0.05)


def test_clumped_purchases_are_overdispersed_and_bursty() -> None:
    # Five purchases a minute apart every fourth day: daily counts 5, 0, 0, 0, ...
    times = [
        START + pd.Timedelta(days=4 * d, hours=12, minutes=m) for d in range(60) for m in range(5)
    ]
    end = rows(1, [START + pd.Timedelta(days=239, hours=23)], direction="in", category="income")
    data = data_of(rows(1, times), end)
    mean, square = 300 / 240, 60 * 25 / 240
    assert daily_count_dispersion(data).value == pytest.approx((square - mean**2) / mean)
    assert gap_cv(data).value > 1.5


def test_longest_spell_is_the_mean_over_91_day_windows() -> None:
    every_day = days(182)
    quiet = every_day[(every_day.day_of_year < 11) | (every_day.day_of_year > 20)]  # 10 days off
    data = data_of(rows(1, quiet))
    assert longest_inactive_spell(data).value == pytest.approx((10 + 0) / 2)


def test_rows_without_time_of_day_are_left_out_of_gaps() -> None:
    frame = rows(1, days(60, hour=12))
    frame["has_time"] = True
    untimed = rows(1, days(60, hour=0))
    untimed["has_time"] = False
    data = fact_data(pd.concat([frame, untimed], ignore_index=True))
    assert gap_cv(data).value == pytest.approx(0.0)  # midnight rows would make gaps uneven


def test_too_few_payments_is_not_applicable() -> None:
    with pytest.raises(NotApplicable, match="needs 1"):
        daily_count_dispersion(data_of(rows(1, days(10))))


# ---------------------------------------------------------------- money


def month_rows(user: int, amounts, *, day: int = 15, **kwargs) -> pd.DataFrame:
    """One row per month from January 2024 with the given amounts."""
    times = [
        START + pd.DateOffset(months=m) + pd.Timedelta(days=day - 1, hours=12)
        for m in range(len(amounts))
    ]
    frame = rows(user, times, **kwargs)
    frame["amount"] = list(amounts)
    return frame


def span(user: int, months: int) -> pd.DataFrame:
    """Two tiny incoming rows on the first and last day, so the months are complete."""
    last = START + pd.DateOffset(months=months) - pd.Timedelta(hours=1)
    return rows(user, [START, last], amount=1, direction="in", category="income")


def test_monthly_spend_cv_is_the_sample_cv_of_month_totals() -> None:
    data = data_of(month_rows(1, [100, 200, 300, 400]), span(1, 4))
    expected = np.std([100, 200, 300, 400], ddof=1) / 250
    assert monthly_spend_cv(data).value == pytest.approx(expected, rel=1e-6)


def test_income_regularity_and_spend_to_income() -> None:
    income = month_rows(1, [1000, 1000, 1000, 2000], day=25, direction="in", category="income")
    spend = month_rows(1, [700, 700, 700, 1400], day=10)
    transfer = month_rows(1, [500] * 4, day=11, category="transfer")
    data = data_of(income, spend, transfer, span(1, 4))
    assert income_regularity(data).value == pytest.approx(500 / 1250, rel=1e-3)
    assert spend_to_income(data).value == pytest.approx(0.7, rel=1e-3)


def test_outflow_to_income_counts_every_outgoing_row() -> None:
    income = month_rows(1, [1000] * 4, day=25, direction="in", category="income")
    spend = month_rows(1, [800] * 4, day=10)
    savings = month_rows(1, [400] * 4, day=26, category="savings")
    assert outflow_to_income(data_of(income, spend, savings)).value == pytest.approx(1.2)


def test_income_facts_without_income_are_not_applicable() -> None:
    data = data_of(rows(1, days(120)))
    for fact in (income_regularity, spend_to_income, outflow_to_income, payday_share):
        with pytest.raises(NotApplicable, match="no income"):
            fact(data)


def test_payday_share_counts_the_seven_days_from_payday() -> None:
    frames = [month_rows(1, [3_000_000] * 6, day=25, direction="in", category="income")]
    for month in range(6):
        payday = START + pd.DateOffset(months=month) + pd.Timedelta(days=24, hours=9)
        early = [payday + pd.Timedelta(days=d, hours=3) for d in (0, 2, 6)]  # days 0-6
        late = [payday + pd.Timedelta(days=d, hours=3) for d in (7, 10, 12, 15, 18, 20, 22)]
        frames.append(rows(1, early + late))
    result = payday_share(data_of(*frames))
    assert result.value == pytest.approx(0.3)  # 5 full cycles of 3 early + 7 late payments
    assert "0.23" in result.detail  # the flat expectation, 7 / ~30.4 days


def test_seasonality_is_zero_for_flat_daily_spending_and_needs_a_population() -> None:
    frames = [rows(u, days(366)) for u in range(1, 31)]
    assert seasonality(data_of(*frames)).value == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(NotApplicable, match="population fact"):
        seasonality(data_of(*frames[:5]))


def test_consumption_mix_matches_its_own_target_and_leaves_transfers_out() -> None:
    mix = load_bands().mix
    category_of = {}
    for category, group in mix.groups.items():
        category_of.setdefault(group, category)
    frames = [
        rows(1, [START], amount=int(amount * 1000), category=category_of[group])
        for group, amount in mix.target.items()
    ]
    frames.append(rows(1, [START], amount=10**9, category="transfer"))
    result = consumption_mix_distance(data_of(*frames), mix.target, mix.groups)
    assert result.value == pytest.approx(0.0, abs=1e-6)
    only_food = data_of(rows(1, [START], category="food"))
    food_share = mix.target["food_coffee"] / sum(mix.target.values())
    assert consumption_mix_distance(only_food, mix.target, mix.groups).value == pytest.approx(
        1 - food_share
    )


# ---------------------------------------------------------------- repertoire


def test_categories_per_window_and_a_zipf_slope_of_minus_one() -> None:
    counts = {"food": 60, "coffee": 30, "shopping": 20, "transport": 15, "living": 12}
    frames = [rows(1, days(n), category=c) for c, n in counts.items()]  # 60 / rank: Zipf
    frames.append(rows(1, days(91)[-1:], amount=1, direction="in", category="income"))
    data = data_of(*frames)
    assert categories_per_user(data).value == pytest.approx(5.0)
    assert category_rank_slope(data).value == pytest.approx(-1.0, abs=1e-9)


def test_merchant_repertoire_per_month_and_new_merchant_rate() -> None:
    times = days(120)
    loyal = rows(1, times, merchant=[f"shop{d % 5}" for d in range(120)])
    explorer = rows(2, times, merchant=[f"place{d}" for d in range(120)])
    data = data_of(loyal, explorer)
    assert new_merchant_rate(data).value == pytest.approx(0.5)  # medians of 0.0 and 1.0
    # January-March are complete: 5 distinct a month for one, 31, 29, 31 for the other.
    assert merchants_per_user_month(data).value == pytest.approx((5 + 29) / 2)


def test_merchant_facts_without_merchants_are_not_applicable() -> None:
    data = data_of(rows(1, days(120)))
    for fact in (merchants_per_user_month, new_merchant_rate):
        with pytest.raises(NotApplicable, match="no merchant"):
            fact(data)


def test_everyday_categories_are_the_personas_spend_categories() -> None:
    from sim.agents.personas import SPEND_CATEGORIES

    assert set(EVERYDAY_CATEGORIES) == set(SPEND_CATEGORIES)
