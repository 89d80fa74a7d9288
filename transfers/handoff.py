"""The booking hand-off: a request to the receiving front desk within its booking hours.

Two providers behind one interface, chosen by the receiving team's data:
- the front-desk queue in Silta (no external system): the front desk is notified and sees
  the request; confirming time, place and interpreter makes the transfer booked;
- an external booking system (transfers.booking_client): HMAC-signed JSON with an
  idempotency key, retried with exponential backoff by the outbox relay, failed (visibly,
  with a retry action) after MAX_ATTEMPTS. A 2xx answer that carries a time and place
  confirms the booking.

Everything leaves through outbox rows of the "booking" channel, written in the transaction
of the change; transfers.channel delivers them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from cases.enums import Role
from cases.models import Team
from cases.roles import shared_desk_team_ids
from core import clock, memo, workdays
from notifications.models import NotificationKind, OutboxMessage
from notifications.selectors import failed_messages
from notifications.services import enqueue, notify, outbox_retry

from . import links
from .enums import BookingStatus, TransferState
from .models import HandoverBooking, Transfer

BOOKING_CHANNEL = "booking"


def request_time(team: Team, after: dt.datetime | None = None) -> dt.datetime:
    """When a request may go to the team's front desk: now if inside its booking hours,
    else the next opening on a working day. A desk without hours gets it at once. A desk
    that serves several teams has one set of hours (Team.desk)."""
    after = after or clock.now()
    desk = team.desk
    # Read once per request (core.memo): accepting asks twice (the booking, the notice).
    hours = memo.remembered(
        ("booking hours", desk.pk),
        lambda: list(desk.booking_hours.values_list("weekday", "opens_at", "closes_at")),
    )
    return workdays.next_booking_slot(after, hours) or after


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
    if booking.transfer.receiving_team.desk.booking_webhook_url and booking.external_ref:
        enqueue(
            [
                _row(
                    f"booking:cancel:{booking.pk}",
                    {"action": "cancel", "booking": booking.pk},
                    at=clock.now(),
                )
            ]
        )


def _row(key: str, payload: dict[str, Any], *, at: dt.datetime) -> OutboxMessage:
    return OutboxMessage(
        channel=BOOKING_CHANNEL, key=key, payload=payload, available_at=at, created_at=clock.now()
    )


def members(team: Team, *roles: str) -> QuerySet[Any]:
    return (
        get_user_model()
        .objects.filter(memberships__team=team, memberships__role__in=roles, is_active=True)
        .distinct()
    )


def desk_workers(team: Team) -> QuerySet[Any]:
    """The front desk workers who book the team's handovers: at its desk, which may serve
    several teams (its front desk workers may be members of any of them)."""
    return (
        get_user_model()
        .objects.filter(
            memberships__team_id__in=shared_desk_team_ids([team.pk]),
            memberships__role=Role.FRONT_DESK,
            is_active=True,
        )
        .distinct()
    )


def interpreter_freed(booking: HandoverBooking) -> None:
    """A cancelled or missed handover releases its interpreter at once: tell the unit that
    booked it, so the interpreter can be reused."""
    team = booking.transfer.receiving_team
    notify(
        recipients=desk_workers(team) | members(team, Role.RECEIVING_WORKER),
        kind=NotificationKind.INTERPRETER_FREE,
        subject_key=f"booking:{booking.pk}",
        on_date=clock.today(),
        team_id=team.pk,
        reference=links.case_reference(booking.transfer.case_id),
        link=links.inbox_link(),
    )
    schedule_cancel(booking)


def sending_and_receiving(transfer: Transfer):
    return [transfer.sending_worker] + (
        [transfer.receiving_worker] if transfer.receiving_worker else []
    )


def attendees(transfer: Transfer) -> list[dict[str, str]]:
    """Who attends the handover besides the client and the receiving side: the sending
    worker, when the transfer is escorted (saattaen siirto). The same list goes to an
    external booking system and is shown in the front desk's queue in Silta."""
    if not transfer.escorted:
        return []
    worker = transfer.sending_worker
    return [
        {
            "role": "sending_worker",
            "name": worker.get_full_name() or worker.get_username(),
            "availability": transfer.sender_availability,
        }
    ]


def failed_requests(transfer: Transfer) -> list[OutboxMessage]:
    """The transfer's booking requests that failed for good and still matter: the opening
    of the request while the transfer waits for it (accepted), or the delivery of the live
    booking while it waits for a time (booking requested). Once the transfer has moved on
    or ended, an old failure is history, not something to send again."""
    if transfer.state == TransferState.ACCEPTED:
        about = {"transfer": [transfer.pk]}
    elif transfer.state == TransferState.BOOKING_REQUESTED:
        live = transfer.bookings.filter(status=BookingStatus.REQUESTED)
        about = {"booking": list(live.values_list("pk", flat=True))}
    else:
        return []
    return failed_messages(channel=BOOKING_CHANNEL, payload_any=about)


def retry_failed_requests(transfer: Transfer) -> int:
    """Queue again every failed booking request of this transfer; returns how many."""
    failed = failed_requests(transfer)
    for message in failed:
        outbox_retry(message=message)
    return len(failed)
