"""The handover guards, enforced by the services: held or no-show only once the meeting's
start time has passed; a handover time on a Finnish working day within the team's meeting
hours or with the front desk's reason; never in the past or beyond the booking horizon. A
booking system's confirmation outside the hours is accepted and flagged, not lost."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from cases.enums import CaseState
from cases.models import Event, MeetingHours
from core import clock
from core.errors import InvalidInput
from tests.factories import handover_slot, reload, transfer_in_state
from tests.snapshot import snapshot
from transfers import services
from transfers.enums import BookingStatus, TransferAction, TransferState
from transfers.services.handover import HandoverNotStarted

pytestmark = pytest.mark.django_db


def helsinki(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=clock.tz())


@pytest.fixture
def meeting_hours(org):
    """The receiving team meets clients Monday to Friday 8.30-15.30."""
    MeetingHours.objects.bulk_create(
        MeetingHours(
            team=org.adult, weekday=day, opens_at=dt.time(8, 30), closes_at=dt.time(15, 30)
        )
        for day in range(5)
    )


def confirm(org, transfer, starts_at, **kwargs):
    return services.transfer_confirm_booking(
        actor=org.front_desk,
        transfer=transfer,
        starts_at=starts_at,
        place="Malmi FrontDesk",
        interpreter="TIMMI 1",
        **kwargs,
    )


def booked_ahead(org, days: int = 3):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    starts = handover_slot(days=days)
    confirm(org, transfer, starts)
    return reload(transfer), starts


# Held and no-show wait for the meeting -------------------------------------------------------


def test_complete__before_the_meeting_starts__refused_and_nothing_written(org):
    transfer, starts = booked_ahead(org)
    before = snapshot()
    with (
        time_machine.travel(starts - dt.timedelta(minutes=1), tick=False),
        pytest.raises(HandoverNotStarted) as refused,
    ):
        services.transfer_complete(actor=org.receiving_worker, transfer=transfer)
    assert refused.value.http_status == 409
    assert snapshot() == before


def test_complete__once_the_meeting_has_started__the_case_is_transferred(org):
    transfer, starts = booked_ahead(org)
    with time_machine.travel(starts, tick=False):
        services.transfer_complete(actor=org.receiving_worker, transfer=transfer)
    transfer = reload(transfer)
    assert transfer.state == TransferState.COMPLETED
    assert transfer.case.state == CaseState.TRANSFERRED


def test_no_show__before_the_meeting_starts__refused_beside_the_outcome(org):
    transfer, starts = booked_ahead(org)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        services.transfer_rebook(
            actor=org.front_desk, transfer=transfer, outcome=BookingStatus.NO_SHOW
        )
    assert list(refused.value.errors) == ["outcome"]
    assert snapshot() == before
    with time_machine.travel(starts + dt.timedelta(minutes=15), tick=False):
        services.transfer_rebook(
            actor=org.front_desk, transfer=transfer, outcome=BookingStatus.NO_SHOW
        )
    assert transfer.bookings.filter(status=BookingStatus.NO_SHOW).count() == 1


def test_held_or_no_show_too_early__the_refusal_names_the_meeting_time(org):
    """Refused before the meeting, the front desk is told when it is: the time as the
    user reads it (Helsinki time, their language's short format), not a placeholder."""
    transfer, starts = booked_ahead(org)
    local = starts.astimezone(clock.tz())
    shown = f"{local.day}.{local.month}.{local.year} klo {local.hour}.{local.minute:02d}"
    with translation.override("fi"):
        with pytest.raises(HandoverNotStarted) as not_held:
            services.transfer_complete(actor=org.receiving_worker, transfer=transfer)
        with pytest.raises(InvalidInput) as not_missed:
            services.transfer_rebook(
                actor=org.front_desk, transfer=transfer, outcome=BookingStatus.NO_SHOW
            )
    assert shown in str(not_held.value.detail)
    assert not_held.value.extra["starts_at"] == starts.astimezone(dt.UTC).isoformat()
    assert shown in not_missed.value.errors["outcome"]
    assert reload(transfer).state == TransferState.BOOKED


def test_cancelled_appointment__before_the_meeting__allowed(org):
    transfer, _starts = booked_ahead(org)
    services.transfer_rebook(
        actor=org.front_desk, transfer=transfer, outcome=BookingStatus.CANCELLED, reason="Ill"
    )
    assert reload(transfer).state == TransferState.BOOKING_REQUESTED


# The time: working day, meeting hours, the horizon --------------------------------------------


def test_confirm__on_independence_day__refused_without_a_reason_accepted_with_one(
    org, meeting_hours
):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    holiday = helsinki(2027, 12, 6, 10, 0)  # a Monday, and Independence Day
    with time_machine.travel(helsinki(2027, 11, 29, 9, 0), tick=False):
        before = snapshot()
        with translation.override("fi"), pytest.raises(InvalidInput) as refused:
            confirm(org, transfer, holiday)
        assert set(refused.value.errors) == {"starts_at", "outside_hours_reason"}
        assert "6.12.2027" in refused.value.errors["starts_at"]
        assert snapshot() == before

        confirm(org, transfer, holiday, outside_hours_reason="  The only day the client can  ")
    booking = reload(transfer).bookings.get()
    assert (booking.starts_at, booking.outside_hours, booking.outside_hours_reason) == (
        holiday,
        True,
        "The only day the client can",
    )
    event = Event.objects.get(transfer_id=transfer.pk, action=TransferAction.CONFIRM_BOOKING)
    assert event.reason == "The only day the client can"
    assert event.params["outside_hours"] is True


def test_confirm__at_half_past_seven_in_the_evening__refused_without_a_reason(org, meeting_hours):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    evening = handover_slot(days=3, at=dt.time(19, 30))
    with translation.override("fi"), pytest.raises(InvalidInput) as refused:
        confirm(org, transfer, evening)
    assert "8.30–15.30" in refused.value.errors["starts_at"]
    confirm(org, transfer, evening, outside_hours_reason="Evening interpreter only")
    assert reload(transfer).bookings.get().outside_hours is True


def test_confirm__within_meeting_hours__not_flagged_and_a_stray_reason_dropped(org, meeting_hours):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    confirm(org, transfer, handover_slot(days=3), outside_hours_reason="not needed")
    booking = reload(transfer).bookings.get()
    assert (booking.outside_hours, booking.outside_hours_reason) == (False, "")


def test_confirm__a_weekend_without_meeting_hours_set__still_needs_a_reason(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    saturday = clock.today() + dt.timedelta(days=(5 - clock.today().weekday()) % 7 or 7)
    with pytest.raises(InvalidInput) as refused:
        confirm(org, transfer, helsinki(saturday.year, saturday.month, saturday.day, 10, 0))
    assert "starts_at" in refused.value.errors


@pytest.mark.parametrize("when", ["past", "beyond_horizon"])
def test_confirm__in_the_past_or_beyond_the_horizon__refused_even_with_a_reason(
    org, settings, when
):
    settings.SILTA_HANDOVER_HORIZON_DAYS = 90
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    starts = {
        "past": clock.now() - dt.timedelta(hours=1),
        "beyond_horizon": handover_slot(days=91),
    }[when]
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        confirm(org, transfer, starts, outside_hours_reason="Because")
    assert list(refused.value.errors) == ["starts_at"]
    if when == "beyond_horizon":
        assert "90" in refused.value.errors["starts_at"]
    assert snapshot() == before


def test_confirm__by_the_booking_system_outside_the_hours__accepted_and_flagged(org, meeting_hours):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    evening = handover_slot(days=3, at=dt.time(19, 30))
    services.transfer_confirm_booking(
        actor=None, transfer=transfer, starts_at=evening, place="Malmi", interpreter="TIMMI"
    )
    booking = reload(transfer).bookings.get()
    assert (booking.status, booking.outside_hours, booking.outside_hours_reason) == (
        BookingStatus.CONFIRMED,
        True,
        "",
    )
    event = Event.objects.get(transfer_id=transfer.pk, action=TransferAction.CONFIRM_BOOKING)
    assert event.params["outside_hours"] is True and event.actor is None


# The rules themselves, at their edges (what the mutation run showed untested) -----------------


def test_meeting_hours__opening_minute_in_closing_minute_out_the_weekday_s_own_hours(org):
    """A meeting may start at opening time, not at closing time; a day's hours are those of
    its weekday (several spans a day), and the message lists them."""
    MeetingHours.objects.bulk_create(
        [
            MeetingHours(team=org.adult, weekday=0, opens_at=dt.time(8, 0), closes_at=dt.time(11)),
            MeetingHours(team=org.adult, weekday=0, opens_at=dt.time(12), closes_at=dt.time(15)),
            MeetingHours(team=org.adult, weekday=2, opens_at=dt.time(9), closes_at=dt.time(10)),
        ]
    )
    outside = services.handover.outside_meeting_hours
    # Monday 29 November 2027 is a working day, and the Tuesday and Wednesday after it.
    with translation.override("en"):
        assert outside(org.adult, helsinki(2027, 11, 29, 8, 0)) == ""
        assert outside(org.adult, helsinki(2027, 11, 29, 10, 59)) == ""
        assert outside(org.adult, helsinki(2027, 11, 29, 12, 0)) == ""
        late = outside(org.adult, helsinki(2027, 11, 29, 11, 0))
        assert late.startswith("11:00 is outside the meeting hours of Pohjoinen AISO (")
        assert "8:00" in late and "12:00" in late and "9:00" not in late
        assert outside(org.adult, helsinki(2027, 11, 29, 15, 0)) != ""
        assert outside(org.adult, helsinki(2027, 12, 1, 9, 30)) == ""
        assert outside(org.adult, helsinki(2027, 12, 1, 11, 0)) != ""
        tuesday = outside(org.adult, helsinki(2027, 11, 30, 9, 30))
        assert tuesday == "Pohjoinen AISO holds no handover meetings on this weekday."
        # Another team's hours are not this team's: a team without hours has only the
        # working-day rule.
        assert outside(org.youth, helsinki(2027, 11, 30, 19, 0)) == ""
        holiday = outside(org.youth, helsinki(2027, 12, 6, 10, 0))
        assert "is not a working day" in holiday


def test_handover_time__the_horizon_is_inclusive_now_is_not_the_future(org, settings):
    settings.SILTA_HANDOVER_HORIZON_DAYS = 30
    check = services.handover.check_handover_time
    now = helsinki(2027, 11, 29, 9, 0)
    with time_machine.travel(now, tick=False):
        assert services.handover.horizon_days() == 30
        last = now + dt.timedelta(days=30)
        assert check(last) == last
        assert check(now + dt.timedelta(seconds=1)) == now + dt.timedelta(seconds=1)
        for bad in (None, now, last + dt.timedelta(seconds=1)):
            with pytest.raises(InvalidInput) as refused:
                check(bad)
            assert list(refused.value.errors) == ["starts_at"]
