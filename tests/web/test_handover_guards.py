"""The handover guards on the transfer page: a time that is not a usual handover time is
refused beside the field until a reason is written; the handover cannot be recorded as held
before its time, and the page says when it can."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from cases.models import MeetingHours
from core import clock
from tests.factories import handover_slot, reload, transfer_in_state
from transfers import services
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def signed_in(user):
        client.force_login(user)
        return client

    return signed_in


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(clock.tz()).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    ("language", "words"),
    [("fi", "Kirjoita syy"), ("sv", "Ange skälet"), ("en", "Give the reason")],
)
def test_confirm_in_the_evening__error_beside_the_time_then_booked_with_a_reason(
    web, org, language, words
):
    MeetingHours.objects.bulk_create(
        MeetingHours(team=org.adult, weekday=d, opens_at=dt.time(8, 30), closes_at=dt.time(15, 30))
        for d in range(5)
    )
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    desk = web(org.front_desk)
    page = desk.get(reverse("web:transfer", args=[transfer.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert "meeting-hours" in page.content.decode()
    evening = _local(handover_slot(days=3, at=dt.time(19, 30)))
    url = reverse("web:transfer-confirm", args=[transfer.pk])
    body = {"confirm-starts_at": evening, "confirm-place": "Malmi", "confirm-interpreter": "T 1"}
    page = desk.post(url, body, HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode()
    assert page.status_code == 400
    assert "id_confirm-starts_at_error" in html and "id_confirm-outside_hours_reason_error" in html
    assert words in html
    assert 'value="T 1"' in html  # what was typed is kept
    assert reload(transfer).state == TransferState.BOOKING_REQUESTED
    page = desk.post(url, {**body, "confirm-outside_hours_reason": "Iltatulkki"})
    assert page.status_code == 302
    booking = reload(transfer).bookings.get()
    assert (booking.outside_hours, booking.outside_hours_reason) == (True, "Iltatulkki")
    assert "Iltatulkki" in desk.get(reverse("web:transfer", args=[transfer.pk])).content.decode()


def test_held__not_offered_before_the_time_and_refused_if_posted(web, org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    starts = handover_slot(days=3)
    services.transfer_confirm_booking(
        actor=org.front_desk, transfer=transfer, starts_at=starts, place="Malmi", interpreter="T"
    )
    worker = web(org.receiving_worker)
    page = worker.get(reverse("web:transfer", args=[transfer.pk]), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert reverse("web:transfer-complete", args=[transfer.pk]) not in html
    assert "after it has started" in html
    page = worker.post(
        reverse("web:transfer-complete", args=[transfer.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 400
    assert "only after it has started" in page.content.decode()
    assert reload(transfer).state == TransferState.BOOKED
    with time_machine.travel(starts + dt.timedelta(minutes=5), tick=False):
        worker = web(org.receiving_worker)  # signed in again: the session has its own clock
        page = worker.get(reverse("web:transfer", args=[transfer.pk]))
        assert reverse("web:transfer-complete", args=[transfer.pk]) in page.content.decode()
        page = worker.post(reverse("web:transfer-complete", args=[transfer.pk]))
    assert page.status_code == 302
    assert reload(transfer).state == TransferState.COMPLETED
