"""The booking handoff through both providers, and its faults."""

import datetime as dt
import hashlib
import hmac

import pytest
import time_machine

from audit.models import AccessLog
from core import clock
from notifications.models import Notification, OutboxMessage, OutboxStatus
from notifications.services import MAX_ATTEMPTS, relay_pending
from tests.factories import reload, transfer_in_state
from transfers import services
from transfers.enums import BookingStatus, TransferState

pytestmark = pytest.mark.django_db
SECRET = "test-webhook-secret"


def accept(org, transfer):
    services.transfer_accept(
        actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
    )


@pytest.fixture
def webhook_team(org, booking_system, settings):
    settings.SILTA_BOOKING_WEBHOOK_SECRET = SECRET
    org.adult.booking_webhook_url = booking_system.url
    org.adult.save()
    return org.adult


def test_front_desk_queue__accept_then_request_then_confirm(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    accept(org, transfer)
    assert reload(transfer).state == TransferState.ACCEPTED

    relay_pending()  # the booking hours have come (the team has none: at once)

    transfer = reload(transfer)
    assert transfer.state == TransferState.BOOKING_REQUESTED
    live = transfer.bookings.get()
    assert (live.delivery, live.interpreter_status, live.interpreter_language) == (
        "delivered",
        "requested",
        "ara",
    )
    assert (
        Notification.objects.filter(
            kind="booking_requested", recipient=org.front_desk, transfer_id=transfer.pk
        ).count()
        == 1
    )
    services.transfer_confirm_booking(
        actor=org.front_desk,
        transfer=transfer,
        starts_at=clock.now() + dt.timedelta(days=2),
        place="Malmi FrontDesk",
        interpreter="TIMMI 4711",
    )
    assert reload(transfer).state == TransferState.BOOKED
    assert Notification.objects.filter(
        kind="booking_confirmed", recipient=org.caseworker, transfer_id=transfer.pk
    ).exists()


def test_webhook__signed_request_with_idempotency_key_and_no_client_details(
    org, webhook_team, booking_system
):
    transfer = transfer_in_state(
        org,
        TransferState.PROPOSED,
        first_name="Canary",
        last_name="Bird",
        personal_identity_code="131052-308T",
        date_of_birth=dt.date(1952, 10, 13),
    )
    starts = (clock.now() + dt.timedelta(days=3)).replace(microsecond=0)
    booking_system.answers.append(
        (
            201,
            {
                "reference": "EXT-1",
                "starts_at": starts.isoformat(),
                "place": "Malmi 2. krs",
                "interpreter": "TIMMI 99",
            },
        )
    )
    accept(org, transfer)
    relay_pending()

    transfer = reload(transfer)
    assert transfer.state == TransferState.BOOKED
    live = transfer.bookings.get()
    assert (live.external_ref, live.place, live.starts_at) == ("EXT-1", "Malmi 2. krs", starts)
    request = booking_system.requests[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), request["raw"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Silta-Signature"] == expected
    assert request["headers"]["Idempotency-Key"] == f"booking:send:{live.pk}"
    body = request["body"]
    assert body["case_reference"] == transfer.case.reference
    assert (body["language"], body["interpreter_needed"]) == ("ara", True)
    for secret in (b"Canary", b"Bird", b"131052-308T", b"Malminkaari"):
        assert secret not in request["raw"]
    # The task acted for the receiving worker: one access-log row, purpose booking.
    log = AccessLog.objects.get(action="task_booking_send")
    assert (log.actor, log.case_id, log.purpose) == (
        org.receiving_worker,
        transfer.case_id,
        "handover_booking",
    )


@pytest.mark.parametrize("fault", ["http_400", "http_503", "timeout"])
def test_webhook__fault_is_retried_with_backoff_then_fails_visibly_then_retry_works(
    org, webhook_team, booking_system, settings, fault
):
    if fault == "timeout":
        settings.SILTA_BOOKING_WEBHOOK_TIMEOUT = 0.2
        booking_system.delay = 0.5
    else:
        status = int(fault.split("_")[1])
        booking_system.answers.extend([(status, {"error": "nope"})] * MAX_ATTEMPTS)
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    accept(org, transfer)
    relay_pending()
    message = OutboxMessage.objects.get(key__startswith="booking:send:")
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        message.refresh_from_db()
        assert message.status == OutboxStatus.PENDING
        waits.append(message.available_at - clock.now())
        with time_machine.travel(message.available_at + dt.timedelta(seconds=1), tick=False):
            relay_pending()
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert message.attempts == MAX_ATTEMPTS
    assert waits == sorted(waits) and waits[-1] > waits[0]  # exponential backoff
    live = reload(transfer).bookings.get()
    assert live.delivery == "failed"
    assert (
        ("HTTP" in live.delivery_error)
        if fault != "timeout"
        else ("Timeout" in live.delivery_error)
    )
    told = set(
        Notification.objects.filter(kind="booking_failed").values_list("recipient", flat=True)
    )
    assert told == {org.front_desk.pk, org.caseworker.pk}

    # The retry action, once the booking system is back.
    booking_system.delay = 0
    booking_system.answers.clear()
    booking_system.answers.append((202, {"reference": "EXT-2"}))
    with time_machine.travel(clock.now() + dt.timedelta(hours=2), tick=False):
        assert services.transfer_retry_booking_request(actor=org.caseworker, transfer=transfer) == 1
        relay_pending()
    live.refresh_from_db()
    assert (live.delivery, live.external_ref) == ("delivered", "EXT-2")
    assert reload(transfer).state == TransferState.BOOKING_REQUESTED


def test_no_show__interpreter_released_unit_told_and_external_booking_cancelled(
    org, webhook_team, booking_system
):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    starts = clock.now() + dt.timedelta(days=3)
    booking_system.answers.append(
        (
            200,
            {
                "reference": "EXT-7",
                "starts_at": starts.isoformat(),
                "place": "Malmi",
                "interpreter": "TIMMI 7",
            },
        )
    )
    accept(org, transfer)
    relay_pending()
    assert reload(transfer).state == TransferState.BOOKED

    booking_system.answers.append((202, {}))  # the new request after the no-show
    with time_machine.travel(starts + dt.timedelta(minutes=30), tick=False):
        services.transfer_rebook(
            actor=org.front_desk, transfer=transfer, outcome=BookingStatus.NO_SHOW
        )
        first = transfer.bookings.order_by("id").first()
        assert first.interpreter_status == "released"
        assert (
            Notification.objects.filter(kind="interpreter_free", recipient=org.front_desk).count()
            == 1
        )
        relay_pending()
    actions = [r["body"]["action"] for r in booking_system.requests]
    assert actions.count("cancel") == 1
    cancel = next(r["body"] for r in booking_system.requests if r["body"]["action"] == "cancel")
    assert cancel["external_reference"] == "EXT-7"


def test_teams_channel__team_notice_posted_once_with_reference_only(org, booking_system):
    from notifications.models import TeamChannel
    from transfers.reminders import reminder_sweep

    TeamChannel.objects.create(team=org.adult, teams_webhook_url=booking_system.url)
    with time_machine.travel(dt.datetime(2026, 11, 2, 8, tzinfo=dt.UTC), tick=False):
        transfer = transfer_in_state(org, TransferState.PROPOSED, first_name="Canary")
    with time_machine.travel(dt.datetime(2026, 11, 9, 8, tzinfo=dt.UTC), tick=False):
        reminder_sweep()
        reminder_sweep()
        relay_pending()
    posts = [r for r in booking_system.requests if "text" in r["body"]]
    # The proposal's notice and the reminder's, each once however often the sweep runs.
    assert len(posts) == 2
    assert "odottaa hyväksyntää" in posts[1]["body"]["text"]  # Teams speaks Finnish
    for post in posts:
        assert transfer.case.reference in post["body"]["text"]
        assert b"Canary" not in post["raw"]
