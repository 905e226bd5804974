"""Seasons and holidays people spend by, as a day × category table of rate factors.

Korean spending has a calendar: the week before 설날 and 추석 fills shopping carts with
food and gifts (선물세트) and the holidays themselves move people (귀성길) while shops and
academies close; 연말 brings parties and Christmas shopping, January the restraint after
it; summer holidays (late July to mid August) and long weekends are when people travel;
the new school term (신학기, late February to mid March) costs families; 가정의 달 (early
May: 어린이날, 어버이날) means gifts and family meals.

:func:`season_log_factors` gives ``log`` of the factor of each day and spend category;
a persona scales it by its ``season_amplitude`` (0: no seasons, 1: the factors below, 2:
squared), so the amplitude is a free parameter for calibration. Factors multiply the
expected number of payments; they compose when periods overlap.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from sim.agents.calendar import SimCalendar
from sim.agents.personas import SPEND_CATEGORIES

BEFORE_LUNAR_HOLIDAY = {"food": 1.35, "shopping": 1.5, "etc": 1.4, "transport": 1.1}
"""The 10 days before 설날/추석: 장보기, 선물세트, 용돈 봉투."""
DURING_LUNAR_HOLIDAY = {
    "travel": 2.5,
    "transport": 1.4,
    "coffee": 0.6,
    "shopping": 0.5,
    "education": 0.1,
    "beauty": 0.3,
    "health": 0.4,
    "living": 0.6,
}
"""The three days of 설날/추석: on the road, shops and academies closed."""
YEAR_END = {"entertainment": 1.45, "food": 1.2, "shopping": 1.3, "coffee": 1.1, "travel": 1.1}
"""15-31 December: 송년회, Christmas."""
NEW_YEAR_RESTRAINT = {"entertainment": 0.85, "shopping": 0.85, "food": 0.95}
"""2-31 January: the restraint after 연말."""
SUMMER = {"travel": 2.2, "entertainment": 1.15, "coffee": 1.1, "education": 0.8}
"""20 July - 15 August: 여름휴가."""
LONG_WEEKEND = {"travel": 1.8, "entertainment": 1.2}
"""Three or more rest days in a row (and the evening before): short trips."""
NEW_TERM = {"education": 1.7, "shopping": 1.1}
"""15 February - 15 March: 신학기 fees, books, bags."""
FAMILY_MONTH = {"shopping": 1.3, "etc": 1.3, "food": 1.1}
"""1-8 May: 어린이날, 어버이날."""


def _lunar_windows(calendar: SimCalendar) -> tuple[np.ndarray, np.ndarray]:
    """Boolean day masks of the 10 days before and the 3 days of 설날/추석."""
    before = np.zeros(calendar.days, dtype=bool)
    during = np.zeros(calendar.days, dtype=bool)
    for centre in calendar.lunar_new_year_and_chuseok:
        for offset, mask in ((range(-11, -1), before), (range(-1, 2), during)):
            days = [centre + k for k in offset if 0 <= centre + k < calendar.days]
            mask[days] = True
    return before, during


def _long_weekends(calendar: SimCalendar) -> np.ndarray:
    """Days in runs of three or more rest days, and the day before each run."""
    rest = calendar.is_rest_day.astype(np.int8)
    edges = np.diff(np.concatenate([[0], rest, [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    mask = np.zeros(calendar.days, dtype=bool)
    for start, stop in zip(starts, stops, strict=True):
        if stop - start >= 3:
            mask[max(0, start - 1) : stop] = True
    return mask


def season_windows(calendar: SimCalendar) -> list[tuple[np.ndarray, dict[str, float]]]:
    """Every seasonal period of the simulated days as ``(day mask, category factors)``."""
    month, day = calendar.month_of_year, calendar.day_of_month
    before, during = _lunar_windows(calendar)
    return [
        (before & ~during, BEFORE_LUNAR_HOLIDAY),
        (during, DURING_LUNAR_HOLIDAY),
        ((month == 12) & (day >= 15), YEAR_END),
        ((month == 1) & (day >= 2), NEW_YEAR_RESTRAINT),
        (((month == 7) & (day >= 20)) | ((month == 8) & (day <= 15)), SUMMER),
        (_long_weekends(calendar) & ~during, LONG_WEEKEND),
        (((month == 2) & (day >= 15)) | ((month == 3) & (day <= 15)), NEW_TERM),
        ((month == 5) & (day <= 8), FAMILY_MONTH),
    ]


@cache
def season_log_factors(calendar: SimCalendar) -> np.ndarray:
    """``(days, spend categories)`` log rate factors of the calendar's seasons.

    Computed once per calendar and process (every shard of a population shares it).
    """
    out = np.zeros((calendar.days, len(SPEND_CATEGORIES)))
    for mask, factors in season_windows(calendar):
        for category, factor in factors.items():
            out[mask, SPEND_CATEGORIES.index(category)] += np.log(factor)
    return out
