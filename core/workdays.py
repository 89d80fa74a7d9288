"""Working days and booking hours as a person in Helsinki counts them: weekdays that are not
Finnish public holidays (Midsummer Eve and Christmas Eve included, as the city observes
them), in Europe/Helsinki local time across daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

import holidays

from . import clock


@lru_cache(maxsize=64)
def _finnish_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("FI", years=year))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _finnish_holidays(day.year)


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The date n working days after (n > 0) or before (n < 0) `day`."""
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    while remaining:
        day += dt.timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 if end <= start)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working_day(day)
    return count


def next_booking_slot(
    after: dt.datetime, hours: Iterable[tuple[int, dt.time, dt.time]], *, horizon_days: int = 60
) -> dt.datetime | None:
    """The first moment at or after `after` inside the front desk's booking hours
    (weekday, opens, closes in Helsinki time) on a working day; None if the team has none."""
    hours = sorted(hours)
    if not hours:
        return None
    tz = clock.tz()
    local = after.astimezone(tz)
    for offset in range(horizon_days):
        day = local.date() + dt.timedelta(days=offset)
        if not is_working_day(day):
            continue
        for weekday, opens, closes in hours:
            if weekday != day.weekday():
                continue
            start = dt.datetime.combine(day, opens, tzinfo=tz)
            end = dt.datetime.combine(day, closes, tzinfo=tz)
            if local < end:
                return max(start, local).astimezone(dt.UTC)
    return None
