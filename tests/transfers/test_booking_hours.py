"""Booking requests land inside the front desk's booking hours, as a person in Helsinki
expects: weekdays, not on Finnish public holidays, local time across DST changes."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.models import BookingHours
from core import workdays
from notifications.models import OutboxMessage
from tests.factories import transfer_in_state
from transfers import services
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db
HELSINKI = ZoneInfo("Europe/Helsinki")


def helsinki(*args):
    return dt.datetime(*args, tzinfo=HELSINKI)


@pytest.fixture
def hours(org):
    """Malmi's front desk books clients Mon-Fri 9.00-11.30."""
    BookingHours.objects.bulk_create(
        BookingHours(team=org.adult, weekday=day, opens_at=dt.time(9), closes_at=dt.time(11, 30))
        for day in range(5)
    )


@pytest.mark.parametrize(
    ("accepted_at", "expected"),
    [
        # Inside hours on an ordinary Tuesday: at once.
        (helsinki(2026, 11, 24, 10, 0), helsinki(2026, 11, 24, 10, 0)),
        # Tuesday afternoon: Wednesday at nine.
        (helsinki(2026, 11, 24, 14, 0), helsinki(2026, 11, 25, 9, 0)),
        # Before Juhannus: Thursday afternoon; Friday is Midsummer Eve -> Monday 22 June.
        (helsinki(2026, 6, 18, 15, 0), helsinki(2026, 6, 22, 9, 0)),
        # Before Christmas: Wednesday 23 Dec after hours -> Monday 28 Dec.
        (helsinki(2026, 12, 23, 12, 0), helsinki(2026, 12, 28, 9, 0)),
        # Across the end of summer time (Sunday 25 Oct 2026): Friday evening -> Monday
        # 9.00 EET, which is 07:00 UTC, not 06:00.
        (helsinki(2026, 10, 23, 17, 0), helsinki(2026, 10, 26, 9, 0)),
        # Across the start of summer time (Sunday 29 Mar 2026): 9.00 EEST = 06:00 UTC.
        (helsinki(2026, 3, 27, 12, 0), helsinki(2026, 3, 30, 9, 0)),
    ],
)
def test_booking_request__sent_within_booking_hours(org, hours, accepted_at, expected):
    with time_machine.travel(accepted_at, tick=False):
        transfer = transfer_in_state(org, TransferState.PROPOSED)
        services.transfer_accept(
            actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
        )
    row = OutboxMessage.objects.get(key=f"booking:open:{transfer.pk}")
    assert row.available_at == expected


def test_calendar__dst_end_keeps_local_nine_oclock():
    slot = workdays.next_booking_slot(
        helsinki(2026, 10, 23, 17, 0), [(0, dt.time(9), dt.time(11, 30))]
    )
    assert slot == dt.datetime(2026, 10, 26, 7, 0, tzinfo=dt.UTC)


def test_calendar__working_days_skip_weekends_and_finnish_holidays():
    assert workdays.add_working_days(dt.date(2026, 12, 23), 1) == dt.date(2026, 12, 28)
    assert workdays.add_working_days(dt.date(2026, 6, 18), 1) == dt.date(2026, 6, 22)
    assert workdays.add_working_days(dt.date(2026, 12, 29), -10) == dt.date(2026, 12, 11)
    assert workdays.working_days_between(dt.date(2026, 12, 11), dt.date(2026, 12, 29)) == 10
    assert not workdays.is_working_day(dt.date(2027, 12, 6))  # Independence Day, a Monday
    assert workdays.is_working_day(dt.date(2027, 12, 7))
