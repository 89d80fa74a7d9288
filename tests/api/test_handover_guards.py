"""The handover guards through the API: held before the start is 409
`handover_not_started`; a time outside the meeting hours needs `outside_hours_reason`."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tests.factories import as_user, handover_slot, reload, transfer_in_state
from transfers import services
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


def test_complete_before_the_start__409_then_done_after_it(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    starts = handover_slot(days=2)
    services.transfer_confirm_booking(
        actor=org.front_desk, transfer=transfer, starts_at=starts, place="Malmi", interpreter="T"
    )
    url = f"/api/v1/transfers/{transfer.pk}/complete/"
    response = as_user(org.receiving_worker).post(url, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert response.json()["code"] == "handover_not_started"
    assert "after it has started" in response.json()["detail"]
    assert reload(transfer).state == TransferState.BOOKED
    with time_machine.travel(starts + dt.timedelta(minutes=1), tick=False):
        response = as_user(org.receiving_worker).post(url, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == TransferState.COMPLETED


def test_confirm_on_a_saturday__400_beside_the_time_then_booked_with_a_reason(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    saturday = handover_slot(days=3)
    while saturday.weekday() != 5:
        saturday += dt.timedelta(days=1)
    url = f"/api/v1/transfers/{transfer.pk}/confirm-booking/"
    body = {"starts_at": saturday.isoformat(), "place": "Malmi", "interpreter": "TIMMI"}
    response = as_user(org.front_desk).post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"starts_at", "outside_hours_reason"}
    response = as_user(org.front_desk).post(
        url, {**body, "outside_hours_reason": "Lauantain perhetapaaminen"}, format="json"
    )
    assert response.status_code == 200
    assert reload(transfer).bookings.get().outside_hours is True
