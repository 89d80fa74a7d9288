"""Working days and booking hours as a person in Helsinki counts them (core/workdays.py):
weekdays that are not Finnish public holidays (Midsummer Eve and Christmas Eve included),
in Helsinki time across daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core import workdays

D = dt.date.fromisoformat
HEL = ZoneInfo("Europe/Helsinki")
MON_FRI_9_15 = [(day, dt.time(9), dt.time(15)) for day in range(5)]


def helsinki(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=HEL)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-11-25", True),  # a Wednesday
        ("2026-11-28", False),  # Saturday
        ("2026-11-29", False),  # Sunday
        ("2026-06-19", False),  # Midsummer Eve, a Friday
        ("2027-06-25", False),  # Midsummer Eve the next year
        ("2026-12-24", False),  # Christmas Eve, a Thursday
        ("2026-12-31", True),  # New Year's Eve is a working day
        ("2027-01-06", False),  # Epiphany
        ("2026-05-01", False),  # May Day
        ("2027-03-26", False),  # Good Friday
        ("2027-03-29", False),  # Easter Monday
    ],
)
def test_is_working_day(day, working):
    assert workdays.is_working_day(D(day)) is working


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-11-30", -1, "2026-11-27"),  # Monday, one back: the Friday before
        ("2026-12-28", -1, "2026-12-23"),  # back over Christmas
        ("2026-06-22", -1, "2026-06-18"),  # back over Midsummer
        ("2026-11-29", -1, "2026-11-27"),  # from a Sunday
        ("2026-12-29", -10, "2026-12-11"),
        ("2026-11-27", 1, "2026-11-30"),  # Friday, one on: Monday
        ("2026-11-28", 1, "2026-11-30"),  # from a Saturday
        ("2026-12-23", 1, "2026-12-28"),
        ("2026-11-30", 5, "2026-12-07"),  # Independence Day, Sunday 6 December 2026
        ("2026-11-28", 0, "2026-11-28"),  # none: the same day, even a Saturday
        ("2026-11-30", 0, "2026-11-30"),
    ],
)
def test_add_working_days__forward_and_backward(start, n, expected):
    assert workdays.add_working_days(D(start), n) == D(expected)


def test_add_working_days__back_and_forth_return_to_a_working_day():
    for day in (D("2026-12-23"), D("2026-06-18"), D("2026-11-30")):
        for n in (1, 3, 10):
            assert workdays.add_working_days(workdays.add_working_days(day, n), -n) == day


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-11-27", "2026-11-30", 1),  # Friday to Monday: Monday only
        ("2026-11-30", "2026-11-30", 0),
        ("2026-11-30", "2026-11-27", 0),  # end before start
        ("2026-11-28", "2026-11-29", 0),  # a weekend
        ("2026-11-29", "2026-11-30", 1),  # the end counts
        ("2026-11-30", "2026-12-01", 1),  # the start does not
        ("2026-12-11", "2026-12-29", 10),
        ("2026-12-23", "2026-12-28", 1),
    ],
)
def test_working_days_between(start, end, expected):
    assert workdays.working_days_between(D(start), D(end)) == expected


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("2026-11-30 08:00", "2026-11-30 09:00"),  # before opening: the opening
        ("2026-11-30 09:00", "2026-11-30 09:00"),  # at opening
        ("2026-11-30 10:30", "2026-11-30 10:30"),  # within the hours: that moment
        ("2026-11-30 14:59", "2026-11-30 14:59"),
        ("2026-11-30 15:00", "2026-12-01 09:00"),  # at closing: never the closing instant
        ("2026-11-30 18:00", "2026-12-01 09:00"),
        ("2026-11-27 15:00", "2026-11-30 09:00"),  # Friday's closing: Monday
        ("2026-11-28 12:00", "2026-11-30 09:00"),  # a Saturday
        ("2026-12-23 15:00", "2026-12-28 09:00"),  # over Christmas
        ("2026-06-18 16:00", "2026-06-22 09:00"),  # over Midsummer
    ],
)
def test_next_booking_slot__inside_the_hours_on_a_working_day(after, expected):
    slot = workdays.next_booking_slot(helsinki(after), MON_FRI_9_15)
    assert slot == helsinki(expected)
    assert slot.utcoffset() == dt.timedelta(0)  # stored as UTC


def test_next_booking_slot__across_the_change_to_summer_time():
    # Friday 27 March 2026 after closing; the clocks go forward on Sunday 29 March.
    slot = workdays.next_booking_slot(helsinki("2026-03-27 15:30"), MON_FRI_9_15)
    assert slot == dt.datetime(2026, 3, 30, 6, 0, tzinfo=dt.UTC)  # 09:00 EEST
    friday = workdays.next_booking_slot(helsinki("2026-03-27 08:00"), MON_FRI_9_15)
    assert friday == dt.datetime(2026, 3, 27, 7, 0, tzinfo=dt.UTC)  # 09:00 EET


def test_next_booking_slot__after_given_in_utc_is_read_as_helsinki_time():
    # 22:30 UTC on Monday is 00:30 on Tuesday in Helsinki.
    after = dt.datetime(2026, 11, 30, 22, 30, tzinfo=dt.UTC)
    assert workdays.next_booking_slot(after, MON_FRI_9_15) == helsinki("2026-12-01 09:00")


def test_next_booking_slot__two_windows_a_day_in_any_order():
    hours = [(0, dt.time(13), dt.time(15)), (0, dt.time(9), dt.time(11))]
    monday = "2026-11-30"
    assert workdays.next_booking_slot(helsinki(f"{monday} 08:00"), hours) == helsinki(
        f"{monday} 09:00"
    )
    assert workdays.next_booking_slot(helsinki(f"{monday} 11:30"), hours) == helsinki(
        f"{monday} 13:00"
    )
    assert workdays.next_booking_slot(helsinki(f"{monday} 15:00"), hours) == helsinki(
        "2026-12-07 09:00"
    )


def test_next_booking_slot__only_on_the_weekdays_with_hours():
    tuesdays = [(1, dt.time(12), dt.time(14))]
    assert workdays.next_booking_slot(helsinki("2026-11-30 13:00"), tuesdays) == helsinki(
        "2026-12-01 12:00"
    )


def test_next_booking_slot__no_hours_or_none_within_the_horizon__none():
    assert workdays.next_booking_slot(helsinki("2026-11-30 08:00"), []) is None
    saturday = helsinki("2026-11-28 08:00")
    assert workdays.next_booking_slot(saturday, MON_FRI_9_15, horizon_days=2) is None
    assert workdays.next_booking_slot(saturday, MON_FRI_9_15, horizon_days=3) == helsinki(
        "2026-11-30 09:00"
    )
