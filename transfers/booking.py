"""The booking handoff: a request to the receiving front desk within its booking hours.

Two providers behind one interface, chosen by the receiving team's data:
- the front-desk queue in Silta (no external system): the front desk is notified and sees
  the request; confirming time, place and interpreter makes the transfer booked;
- an external booking system: HMAC-signed JSON with an idempotency key, retried with
  exponential backoff by the outbox relay, failed (visibly, with a retry action) after
  MAX_ATTEMPTS. A 2xx answer that carries a time and place confirms the booking.

Everything leaves through outbox rows written in the transaction of the change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging

import httpx
from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime

from notifications.models import Channel, NotificationKind, OutboxMessage
from notifications.services import DeliveryError, enqueue, notify

from . import calendar, clock
from .enums import BookingStatus, Role, TransferState
from .models import HandoverBooking, Team, Transfer

logger = logging.getLogger("silta.booking")

SIGNATURE_HEADER = "X-Silta-Signature"


def request_time(team: Team, after: dt.datetime | None = None) -> dt.datetime:
    """When a request may go to the team's front desk: now if inside its booking hours,
    else the next opening on a working day. A team without hours gets it at once."""
    after = after or clock.now()
    hours = team.booking_hours.values_list("weekday", "opens_at", "closes_at")
    return calendar.next_booking_slot(after, hours) or after


def schedule_open(transfer: Transfer) -> None:
    """After acceptance: move the transfer to booking_requested at booking hours."""
    enqueue(
        [
            _row(
                f"booking:open:{transfer.pk}",
                {"action": "open", "transfer": transfer.pk},
                at=request_time(transfer.receiving_team),
            )
        ]
    )


def schedule_send(booking: HandoverBooking) -> None:
    """Deliver this booking request through the team's provider, within booking hours."""
    enqueue(
        [
            _row(
                f"booking:send:{booking.pk}",
                {"action": "send", "booking": booking.pk},
                at=request_time(booking.transfer.receiving_team),
            )
        ]
    )


def schedule_cancel(booking: HandoverBooking) -> None:
    """Tell an external booking system that the appointment is off (and its interpreter)."""
    if booking.transfer.receiving_team.booking_webhook_url and booking.external_ref:
        enqueue(
            [
                _row(
                    f"booking:cancel:{booking.pk}",
                    {"action": "cancel", "booking": booking.pk},
                    at=clock.now(),
                )
            ]
        )


def _row(key: str, payload: dict, *, at: dt.datetime) -> OutboxMessage:
    return OutboxMessage(
        channel=Channel.BOOKING, key=key, payload=payload, available_at=at, created_at=clock.now()
    )


def deliver_booking(message: OutboxMessage) -> None:
    """Called by the relay inside the row's transaction."""
    from . import services

    payload = message.payload
    if payload["action"] == "open":
        transfer = Transfer.objects.select_for_update().get(pk=payload["transfer"])
        if transfer.state == TransferState.ACCEPTED:
            services.transfer_request_booking(transfer=transfer, actor=None)
        return  # otherwise someone requested, or the transfer ended: nothing to open
    booking = (
        # Lock the booking row only: the joined case, client and users are read, not changed.
        HandoverBooking.objects.select_for_update(of=("self",))
        .select_related(
            "transfer__receiving_team",
            "transfer__case__client",
            "transfer__sending_worker",
            "transfer__receiving_worker",
        )
        .get(pk=payload["booking"])
    )
    team = booking.transfer.receiving_team
    if team.booking_webhook_url and (
        payload["action"] == "cancel" or booking.status == BookingStatus.REQUESTED
    ):
        _log_disclosure(booking, action=payload["action"])
    if payload["action"] == "cancel":
        _post(team, key=message.key, body=_request_body(booking, action="cancel", key=message.key))
        return
    if booking.status != BookingStatus.REQUESTED:
        return  # cancelled or superseded before its booking hours came
    if team.booking_webhook_url:
        answer = _post(
            team, key=message.key, body=_request_body(booking, action="request", key=message.key)
        )
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
            recipients=members(team, Role.FRONT_DESK),
            kind=NotificationKind.BOOKING_REQUESTED,
            subject_key=f"booking:{booking.pk}",
            on_date=clock.today(),
            case=booking.transfer.case,
            transfer=booking.transfer,
            team=team,
        )


def _log_disclosure(booking: HandoverBooking, *, action: str) -> None:
    """The task sends case data to the team's booking system for the receiving worker
    named at acceptance: an access-log row, written before anything leaves (fail closed)."""
    from .audit import PURPOSE_BOOKING, log_access

    transfer = booking.transfer
    log_access(
        user=transfer.receiving_worker or transfer.sending_worker,
        action=f"task_booking_{action}",
        purpose=PURPOSE_BOOKING,
        subjects=[(transfer.case.client_id, transfer.case_id)],
    )


def _mark_delivered(booking: HandoverBooking) -> None:
    booking.delivery = "delivered"
    booking.delivery_error = ""
    booking.save(update_fields=["delivery", "delivery_error", "external_ref"])


def _request_body(booking: HandoverBooking, *, action: str, key: str) -> dict:
    """What the booking system needs, and nothing more: no name, no identity code."""
    transfer = booking.transfer
    case = transfer.case
    client = case.client
    body = {
        "action": action,
        "idempotency_key": key,
        "booking_id": booking.pk,
        "case_reference": case.reference,
        "receiving_team": transfer.receiving_team.code,
        "language": client.language,
        "interpreter_needed": booking.interpreter_status != "not_needed",
        "interpreter_language": booking.interpreter_language,
        "escorted": transfer.escorted,
        "attendees": (
            [
                {
                    "role": "sending_worker",
                    "name": transfer.sending_worker.get_full_name()
                    or transfer.sending_worker.get_username(),
                }
            ]
            if transfer.escorted
            else []
        ),
        "ppt_coordinator": case.ppt_coordinator if client.is_ppt else "",
    }
    if action == "cancel":
        body["external_reference"] = booking.external_ref
    return body


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(team: Team, *, key: str, body: dict) -> dict:
    secret = settings.SILTA_BOOKING_WEBHOOK_SECRET
    if not secret:
        raise DeliveryError("SILTA_BOOKING_WEBHOOK_SECRET is not set")
    raw = json.dumps(body, sort_keys=True).encode()
    try:
        response = httpx.post(
            team.booking_webhook_url,
            content=raw,
            timeout=settings.SILTA_BOOKING_WEBHOOK_TIMEOUT,
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": key,
                SIGNATURE_HEADER: sign(raw, secret),
            },
        )
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code >= 300:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:300]}")
    try:
        return response.json() if response.content else {}
    except ValueError:
        return {}


def members(team: Team, *roles: str):
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(memberships__team=team, memberships__role__in=roles, is_active=True)
        .distinct()
    )


@transaction.atomic
def booking_delivery_failed(message: OutboxMessage) -> None:
    """The request could not be sent: the booking shows it with the error, and the sender
    and the front desk are told."""
    if message.payload["action"] == "open":
        transfer = Transfer.objects.get(pk=message.payload["transfer"])
        booking = None
    else:
        booking = HandoverBooking.objects.select_related("transfer").get(
            pk=message.payload["booking"]
        )
        booking.delivery = "failed"
        booking.delivery_error = message.last_error
        booking.save(update_fields=["delivery", "delivery_error"])
        transfer = booking.transfer
    recipients = list(members(transfer.receiving_team, Role.FRONT_DESK))
    recipients.append(transfer.sending_worker)
    notify(
        recipients=recipients,
        kind=NotificationKind.BOOKING_FAILED,
        subject_key=f"outbox:{message.pk}",
        on_date=clock.today(),
        case=transfer.case,
        transfer=transfer,
    )


def booking_delivery_retried(message: OutboxMessage) -> None:
    if message.payload["action"] != "open":
        HandoverBooking.objects.filter(pk=message.payload["booking"]).update(
            delivery="waiting", delivery_error=""
        )


def interpreter_freed(booking: HandoverBooking) -> None:
    """A cancelled or missed handover releases its interpreter at once: tell the unit that
    booked it, so the interpreter can be reused."""
    team = booking.transfer.receiving_team
    notify(
        recipients=members(team, Role.FRONT_DESK, Role.RECEIVING_WORKER),
        kind=NotificationKind.INTERPRETER_FREE,
        subject_key=f"booking:{booking.pk}",
        on_date=clock.today(),
        team=team,
        params={"reference": booking.transfer.case.reference},
    )
    schedule_cancel(booking)


def sending_and_receiving(transfer: Transfer):
    return [transfer.sending_worker] + (
        [transfer.receiving_worker] if transfer.receiving_worker else []
    )
