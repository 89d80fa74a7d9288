"""End to end with a real Celery worker consuming from the real test Redis."""

import datetime as dt
import time

import pytest
from django.core import mail

from cases.enums import CaseState
from core import clock
from notifications.models import Notification, NotificationPreference, OutboxMessage
from tests.factories import make_org, open_case, reload, transfer_in_state
from transfers import services
from transfers.enums import TransferState
from transfers.tasks import due_sweep

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


def test_worker__case_falls_due__caseworker_notified_in_app_and_by_email(celery_worker):
    org = make_org()
    NotificationPreference.objects.create(user=org.caseworker, email=True)
    org.caseworker.email = "cw@example.invalid"
    org.caseworker.save()
    case = open_case(org, started_months_ago=24)

    due_sweep.delay()

    wait_for(lambda: reload(case).state == CaseState.REVIEW_DUE)
    note = Notification.objects.get(case_id=case.pk)
    assert (note.recipient, note.kind) == (org.caseworker, "review_due")
    wait_for(lambda: len(mail.outbox) == 1)
    assert case.reference in mail.outbox[0].body
    # The e-mail leaves inside the relay's transaction; the row is marked sent as it commits.
    wait_for(lambda: OutboxMessage.objects.get().status == "sent")


def test_worker__acceptance_to_booked_through_the_front_desk_queue(celery_worker):
    org = make_org()
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    services.transfer_accept(
        actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
    )
    # The commit kicked the relay: the worker opens the request and tells the front desk.
    wait_for(
        lambda: Notification.objects.filter(
            kind="booking_requested", recipient=org.front_desk
        ).exists()
    )
    assert reload(transfer).state == TransferState.BOOKING_REQUESTED
    services.transfer_confirm_booking(
        actor=org.front_desk,
        transfer=transfer,
        starts_at=clock.now() + dt.timedelta(days=1),
        place="Malmi FrontDesk",
        interpreter="TIMMI 12",
    )
    assert reload(transfer).state == TransferState.BOOKED


def test_worker__acceptance_to_booked_through_the_webhook_provider(
    celery_worker, booking_system, settings
):
    settings.SILTA_BOOKING_WEBHOOK_SECRET = "e2e-secret"
    org = make_org()
    org.adult.booking_webhook_url = booking_system.url
    org.adult.save()
    starts = (clock.now() + dt.timedelta(days=4)).replace(microsecond=0)
    booking_system.answers.append(
        (
            201,
            {
                "reference": "EXT-E2E",
                "starts_at": starts.isoformat(),
                "place": "Malmi",
                "interpreter": "TIMMI 5",
            },
        )
    )
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    services.transfer_accept(
        actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
    )
    wait_for(lambda: reload(transfer).state == TransferState.BOOKED)
    booking = reload(transfer).bookings.get()
    assert (booking.external_ref, booking.starts_at) == ("EXT-E2E", starts)
    assert len(booking_system.requests) == 1
