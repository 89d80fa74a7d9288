"""The "booking" channel of the notifications outbox: how a booking row is delivered, what
a final failure and a retry do. Registered with notifications when the app is ready
(transfers.apps), so the relay never needs to know that bookings exist."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.dateparse import parse_datetime

from audit.access import PURPOSE_BOOKING, log_access
from core import clock
from notifications.channels import register
from notifications.models import NotificationKind, OutboxMessage
from notifications.services import notify

from . import booking_client, links, services
from .enums import BookingStatus, DeliveryStatus, TransferState
from .handoff import BOOKING_CHANNEL, desk_workers
from .models import HandoverBooking
from .services.locks import lock_booking, lock_transfer

logger = logging.getLogger("silta.booking")


def deliver_booking(message: OutboxMessage) -> None:
    """Called by the relay inside the row's transaction. Locks the case, the transfer and
    the booking in the order every service does, before anything is written or sent, so
    a front desk confirming meanwhile waits for it (or it for them) but never deadlocks."""
    payload = message.payload
    if payload["action"] == "open":
        _case, transfer = lock_transfer(payload["transfer"])
        if transfer.state == TransferState.ACCEPTED:
            services.transfer_request_booking(transfer=transfer, actor=None)
        return  # otherwise someone requested, or the transfer ended: nothing to open
    _case, _transfer, booking = lock_booking(payload["booking"])
    team = booking.transfer.receiving_team.desk  # a desk may serve several teams
    if team.booking_webhook_url and (
        payload["action"] == "cancel" or booking.status == BookingStatus.REQUESTED
    ):
        _log_disclosure(booking, action=payload["action"])
    if payload["action"] == "cancel":
        body = booking_client.request_body(booking, action="cancel", key=message.key)
        booking_client.post(team, key=message.key, body=body)
        return
    if booking.status != BookingStatus.REQUESTED:
        return  # cancelled or superseded before its booking hours came
    if team.booking_webhook_url:
        body = booking_client.request_body(booking, action="request", key=message.key)
        answer = booking_client.post(team, key=message.key, body=body)
        booking.external_ref = str(answer.get("reference", ""))[:200]
        _mark_delivered(booking)
        starts_at = parse_datetime(str(answer.get("starts_at", "")))
        if starts_at and answer.get("place"):
            services.transfer_confirm_booking(
                actor=None,
                transfer=booking.transfer,
                starts_at=starts_at,
                place=str(answer["place"]),
                interpreter=str(answer.get("interpreter", "")),
            )
    else:
        _mark_delivered(booking)
        notify(
            recipients=desk_workers(booking.transfer.receiving_team),
            kind=NotificationKind.BOOKING_REQUESTED,
            subject_key=f"booking:{booking.pk}",
            on_date=clock.today(),
            team_id=booking.transfer.receiving_team_id,
            **links.about_transfer(booking.transfer),
        )


def _log_disclosure(booking: HandoverBooking, *, action: str) -> None:
    """The task sends case data to the team's booking system for the receiving worker
    named at acceptance: an access-log row, written before anything leaves (fail closed)."""
    transfer = booking.transfer
    log_access(
        user=transfer.receiving_worker or transfer.sending_worker,
        action=f"task_booking_{action}",
        purpose=PURPOSE_BOOKING,
        subjects=[(transfer.case.client_id, transfer.case_id)],
    )


def _mark_delivered(booking: HandoverBooking) -> None:
    booking.delivery = DeliveryStatus.DELIVERED
    booking.delivery_error = ""
    booking.save(update_fields=["delivery", "delivery_error", "external_ref"])


@transaction.atomic
def booking_delivery_failed(message: OutboxMessage) -> None:
    """The request could not be sent: the booking shows it with the error, and the sender
    and the front desk are told."""
    if message.payload["action"] == "open":
        _case, transfer = lock_transfer(message.payload["transfer"])
    else:
        _case, transfer, booking = lock_booking(message.payload["booking"])
        booking.delivery = DeliveryStatus.FAILED
        booking.delivery_error = message.last_error
        booking.save(update_fields=["delivery", "delivery_error"])
    recipients = list(desk_workers(transfer.receiving_team))
    recipients.append(transfer.sending_worker)
    notify(
        recipients=recipients,
        kind=NotificationKind.BOOKING_FAILED,
        subject_key=f"outbox:{message.pk}",
        on_date=clock.today(),
        **links.about_transfer(transfer),
    )


def booking_delivery_retried(message: OutboxMessage) -> None:
    if message.payload["action"] != "open":
        HandoverBooking.objects.filter(pk=message.payload["booking"]).update(
            delivery=DeliveryStatus.WAITING, delivery_error=""
        )


def register_booking_channel() -> None:
    register(
        BOOKING_CHANNEL,
        deliver=deliver_booking,
        on_final_failure=booking_delivery_failed,
        on_retry=booking_delivery_retried,
    )
