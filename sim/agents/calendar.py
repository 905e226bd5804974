"""The simulated calendar: days, weekdays, Korean public holidays, paydays and month ends.

Lunar holidays (설날, 추석, 부처님오신날) are bundled as a table of their solar dates for
2020-2030 (after KASI's converter, as published in holiday calendars) instead of a lunar
calendar dependency. Substitute holidays follow the current rules (설날/추석 overlapping a
Sunday or another holiday, 어린이날 and since 2021-2023 the national days on a weekend);
one-off holidays and election days of 2020-2025 are listed. Outside 2020-2030 only the
solar holidays are known.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np

log = logging.getLogger(__name__)

# Solar dates of 설날 (Seollal), 부처님오신날 (Buddha's birthday), 추석 (Chuseok).
LUNAR_HOLIDAYS: dict[int, tuple[str, str, str]] = {
    2020: ("01-25", "04-30", "10-01"),
    2021: ("02-12", "05-19", "09-21"),
    2022: ("02-01", "05-08", "09-10"),
    2023: ("01-22", "05-27", "09-29"),
    2024: ("02-10", "05-15", "09-17"),
    2025: ("01-29", "05-05", "10-06"),
    2026: ("02-17", "05-24", "09-25"),
    2027: ("02-07", "05-13", "09-15"),
    2028: ("01-27", "05-02", "10-03"),
    2029: ("02-13", "05-20", "09-22"),
    2030: ("02-03", "05-09", "09-12"),
}
LUNAR_YEARS = (min(LUNAR_HOLIDAYS), max(LUNAR_HOLIDAYS))

# One-off public holidays: temporary holidays and national election days.
ONE_OFF_HOLIDAYS: tuple[str, ...] = (
    "2020-04-15",
    "2020-08-17",
    "2022-03-09",
    "2022-06-01",
    "2023-10-02",
    "2024-04-10",
    "2024-10-01",
    "2025-01-27",
    "2025-06-03",
)

# (month, day, first year with a weekend substitute or None)
_SOLAR_HOLIDAYS: tuple[tuple[int, int, int | None], ...] = (
    (1, 1, None),  # 신정
    (3, 1, 2021),  # 삼일절
    (5, 5, 2014),  # 어린이날
    (6, 6, None),  # 현충일
    (8, 15, 2021),  # 광복절
    (10, 3, 2021),  # 개천절
    (10, 9, 2021),  # 한글날
    (12, 25, 2023),  # 성탄절
)


def _next_free(day: dt.date, taken: set[dt.date], *, saturday_counts: bool) -> dt.date:
    """The first day after ``day`` that is neither a holiday nor a weekend day."""
    day += dt.timedelta(days=1)
    while day in taken or day.weekday() == 6 or (saturday_counts and day.weekday() == 5):
        day += dt.timedelta(days=1)
    return day


def korean_holidays(year: int) -> set[dt.date]:
    """Public holidays (공휴일) of one year, substitute holidays included."""
    days: set[dt.date] = set()
    weekend_sub: list[dt.date] = []
    for month, day, since in _SOLAR_HOLIDAYS:
        date = dt.date(year, month, day)
        days.add(date)
        if since is not None and year >= since:
            weekend_sub.append(date)
    spans: list[list[dt.date]] = []
    if year in LUNAR_HOLIDAYS:
        seollal, buddha, chuseok = (
            dt.date.fromisoformat(f"{year}-{md}") for md in LUNAR_HOLIDAYS[year]
        )
        for centre in (seollal, chuseok):
            span = [centre + dt.timedelta(days=k) for k in (-1, 0, 1)]
            spans.append(span)
        overlap_buddha = buddha in days
        days.add(buddha)
        if year >= 2023:
            weekend_sub.append(buddha)
        if overlap_buddha:
            days.add(_next_free(buddha, days, saturday_counts=True))
    days.update(dt.date.fromisoformat(d) for d in ONE_OFF_HOLIDAYS if d.startswith(str(year)))
    for span in spans:
        clash = any(d.weekday() == 6 or d in days for d in span)
        days.update(span)
        if clash:
            days.add(_next_free(span[-1], days, saturday_counts=False))
    for date in weekend_sub:
        if date.weekday() >= 5:
            days.add(_next_free(date, days, saturday_counts=True))
    return days


@dataclass(frozen=True)
class SimCalendar:
    """Day-indexed calendar arrays for a simulated period.

    Attributes:
        start: First simulated day.
        days: Number of simulated days.
    """

    start: dt.date
    days: int

    def __post_init__(self) -> None:
        first, last = self.start.year, self.end.year
        if first < LUNAR_YEARS[0] or last > LUNAR_YEARS[1]:
            log.warning(
                "lunar holidays are bundled for %d-%d only; %d-%d uses solar holidays there",
                *LUNAR_YEARS,
                first,
                last,
            )

    @property
    def end(self) -> dt.date:
        """Last simulated day (inclusive)."""
        return self.start + dt.timedelta(days=self.days - 1)

    @cached_property
    def dates(self) -> np.ndarray:
        """``datetime64[D]`` of every simulated day."""
        return np.datetime64(self.start, "D") + np.arange(self.days)

    @cached_property
    def weekday(self) -> np.ndarray:
        """Weekday of every day, Monday = 0."""
        return ((self.dates.astype(np.int64) + 3) % 7).astype(np.int8)

    @cached_property
    def day_of_month(self) -> np.ndarray:
        """Day of month (1-31) of every day."""
        months = self.dates.astype("datetime64[M]")
        return (self.dates - months.astype("datetime64[D]")).astype(np.int64) + 1

    @cached_property
    def month_of_year(self) -> np.ndarray:
        """Calendar month (1-12) of every day."""
        return self.dates.astype("datetime64[M]").astype(np.int64) % 12 + 1

    @cached_property
    def month_index(self) -> np.ndarray:
        """Months since the start month (0 for the first simulated month)."""
        months = self.dates.astype("datetime64[M]").astype(np.int64)
        return months - months[0]

    @cached_property
    def days_in_month(self) -> np.ndarray:
        """Length of the month of every day."""
        months = self.dates.astype("datetime64[M]")
        return ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(
            np.int64
        )

    @cached_property
    def is_holiday(self) -> np.ndarray:
        """True on public holidays (weekends not included)."""
        holidays: set[dt.date] = set()
        for year in range(self.start.year - 1, self.end.year + 2):
            holidays |= korean_holidays(year)
        return np.array([d in holidays for d in self._date_objects()], dtype=bool)

    @cached_property
    def lunar_new_year_and_chuseok(self) -> np.ndarray:
        """Day indices of 설날 and 추석 (their middle day) from the year before the period to
        the year after it; indices outside ``0..days-1`` are holidays just outside."""
        centres = [
            (dt.date.fromisoformat(f"{year}-{md}") - self.start).days
            for year in range(self.start.year - 1, self.end.year + 2)
            for md in LUNAR_HOLIDAYS.get(year, ())[::2]
        ]
        return np.array(centres, dtype=np.int64)

    @cached_property
    def is_rest_day(self) -> np.ndarray:
        """True on weekends and public holidays."""
        return self.is_holiday | (self.weekday >= 5)

    def _date_objects(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=k) for k in range(self.days)]

    @cached_property
    def pay_days(self) -> np.ndarray:
        """``(32, days)`` bool: salary for nominal payday ``d`` arrives on day ``t``.

        A payday past the month's end is paid on the last day; one on a weekend or holiday
        on the previous business day, as Korean employers do.
        """
        return self._shifted_schedule(forward=False)

    @cached_property
    def debit_days(self) -> np.ndarray:
        """``(32, days)`` bool: an auto-debit due on day ``d`` is taken on day ``t``.

        Due days past the month's end fall on the last day; weekend and holiday debits move
        to the next business day (debits moved past the simulated period are dropped).
        """
        return self._shifted_schedule(forward=True)

    def _shifted_schedule(self, *, forward: bool) -> np.ndarray:
        table = np.zeros((32, self.days), dtype=bool)
        rest = self._extended_rest()
        first = self.dates[0].astype("datetime64[M]")
        months = int(self.month_index[-1]) + 1
        for m in range(-1, months + 1):
            month = first + m
            first_day = month.astype("datetime64[D]")
            length = int(((month + 1).astype("datetime64[D]") - first_day).astype(np.int64))
            base = int((first_day - self.dates[0]).astype(np.int64))
            for nominal in range(1, 32):
                t = base + min(nominal, length) - 1
                step = 1 if forward else -1
                while -_PAD <= t < self.days + _PAD and rest[t + _PAD]:
                    t += step
                if 0 <= t < self.days:
                    table[nominal, t] = True
        return table

    def _extended_rest(self) -> np.ndarray:
        ext = SimCalendar.__new__(SimCalendar)
        object.__setattr__(ext, "start", self.start - dt.timedelta(days=_PAD))
        object.__setattr__(ext, "days", self.days + 2 * _PAD)
        return ext.is_rest_day


_PAD = 40
"""Days simulated around the period so shifted paydays near its edges are placed right."""
