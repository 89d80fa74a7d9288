"""Who is told of each hand-off of a transfer: the one place that says who gets what.

Each function is called by the service that makes the change, inside its transaction
(`notifications.services.notify` writes the inbox and outbox rows there, so a change that
rolls back tells no one). A notice carries the case reference and a link only; a return
reason or a booking outcome travels as its code's label, never as the free text beside
it. The person who acted is never told of their own action. Each notice is keyed by the
transfer or booking and the event, so it is written once.

Who is told (and which team's Teams channel):
- proposed: the receiving team's receiving workers, and its channel;
- accepted: the sending caseworker; the receiving worker named is also told when the
  booking request waits for the front desk's booking hours, and until when;
- returned (the reason's label): the sending caseworker;
- a question asked before deciding: the sending caseworker; its answer: the receiving
  team's receiving workers and its channel (the transfer is before them again). The
  question's and the answer's words stay on the transfer's page;
- cancelled: while proposed, the receiving workers and the channel; later, the receiving
  worker, and the front desk once a booking was requested;
- booking request released to the desk: the front desk, and the channel (sent when the
  request is delivered, transfers/channel.py);
- booked: the sending caseworker and the receiving worker (transfers/services/handover.py);
- handover held; no-show or cancelled appointment (the outcome's label): the sending
  caseworker and the receiving worker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils import translation

from cases.enums import Role
from core import clock
from notifications.models import NotificationKind
from notifications.services import notify

from . import handoff, links
from .enums import BookingStatus, ReturnReason, TransferState
from .models import HandoverBooking, Transfer

__all__ = [
    "booking_missed",
    "handover_held",
    "request_waits",
    "transfer_accepted",
    "transfer_cancelled",
    "transfer_link",
    "transfer_proposed",
    "transfer_question_answered",
    "transfer_question_asked",
    "transfer_returned",
]


def transfer_link(transfer: Transfer) -> str:
    """The transfer's page: both teams may open it, before acceptance too."""
    return reverse("web:transfer", args=[transfer.pk])


def _tell(
    recipients: Iterable[Any],
    *,
    actor: Any,
    transfer: Transfer,
    kind: str,
    key: str,
    team_id: int | None = None,
    params: dict[str, Any] | None = None,
) -> None:
    actor_id = getattr(actor, "pk", None)
    people = {user.pk: user for user in recipients if user is not None and user.pk != actor_id}
    if not people and team_id is None:
        return
    notify(
        recipients=people.values(),
        kind=kind,
        subject_key=f"transfer:{transfer.pk}:{key}",
        on_date=clock.today(),
        team_id=team_id,
        reference=links.case_reference(transfer.case_id),
        link=transfer_link(transfer),
        case_id=transfer.case_id,
        transfer_id=transfer.pk,
        params=params,
    )


def _receiving_workers(transfer: Transfer) -> list[Any]:
    return list(handoff.members(transfer.receiving_team, Role.RECEIVING_WORKER))


def transfer_proposed(transfer: Transfer, *, actor: Any) -> None:
    """The receiving team decides next: its receiving workers and its Teams channel."""
    _tell(
        _receiving_workers(transfer),
        actor=actor,
        transfer=transfer,
        kind=NotificationKind.TRANSFER_PROPOSED,
        key="proposed",
        team_id=transfer.receiving_team_id,
    )


def transfer_accepted(transfer: Transfer, *, actor: Any) -> None:
    """The sending caseworker prepares the handover next."""
    _tell(
        [transfer.sending_worker],
        actor=actor,
        transfer=transfer,
        kind=NotificationKind.TRANSFER_ACCEPTED,
        key="accepted",
    )
    request_waits(transfer)


def transfer_question_asked(transfer: Transfer, *, actor: Any, message_id: int) -> None:
    """The sending caseworker answers next; the question's words stay on the page."""
    _tell(
        [transfer.sending_worker],
        actor=actor,
        transfer=transfer,
        kind=NotificationKind.TRANSFER_QUESTION,
        key=f"question:{message_id}",
    )


def transfer_question_answered(transfer: Transfer, *, actor: Any, message_id: int) -> None:
    """The receiving team decides again: its receiving workers and its Teams channel."""
    _tell(
        _receiving_workers(transfer),
        actor=actor,
        transfer=transfer,
        kind=NotificationKind.TRANSFER_ANSWERED,
        key=f"answer:{message_id}",
        team_id=transfer.receiving_team_id,
    )


def request_waits(transfer: Transfer) -> dt.datetime | None:
    """When the booking request waits for the front desk's booking hours, the receiving
    worker is told when it will reach the desk. Returns that time (None: at once)."""
    at = handoff.request_time(transfer.receiving_team)
    if at <= clock.now():
        return None
    _tell(
        [transfer.receiving_worker],
        actor=None,
        transfer=transfer,
        kind=NotificationKind.BOOKING_WAITING,
        key="waits",
        params={"when": at.isoformat()},
    )
    return at


def transfer_returned(transfer: Transfer, *, actor: Any) -> None:
    """The sending caseworker reviews again: the reason's label, not its free text."""
    _tell(
        [transfer.sending_worker],
        actor=actor,
        transfer=transfer,
        kind=NotificationKind.TRANSFER_RETURNED,
        key="returned",
        params={
            "reason": transfer.return_reason,
            "label": _label(ReturnReason, transfer.return_reason),
        },
    )


def _label(choices: Any, code: str) -> str:
    """A code's label as its English message id: the notice translates it for its reader."""
    with translation.override(None):
        return str(choices(code).label)


def transfer_cancelled(transfer: Transfer, *, actor: Any, source: str) -> None:
    """The receiving side stops: before acceptance the team that was asked (and its
    channel), after it the receiving worker and, once a booking was requested, the desk."""
    if source in (TransferState.PROPOSED, TransferState.INFORMATION_REQUESTED):
        recipients, team_id = _receiving_workers(transfer), transfer.receiving_team_id
    else:
        recipients, team_id = [transfer.receiving_worker], None
        if source in (TransferState.BOOKING_REQUESTED, TransferState.BOOKED):
            recipients += list(handoff.desk_workers(transfer.receiving_team))
    _tell(
        recipients,
        actor=actor,
        transfer=transfer,
        kind=NotificationKind.TRANSFER_CANCELLED,
        key="cancelled",
        team_id=team_id,
    )


def handover_held(transfer: Transfer, *, actor: Any) -> None:
    """The case is the receiving team's now: the sender and the receiving worker."""
    _tell(
        handoff.sending_and_receiving(transfer),
        actor=actor,
        transfer=transfer,
        kind=NotificationKind.HANDOVER_HELD,
        key="held",
    )


def booking_missed(booking: HandoverBooking, *, actor: Any) -> None:
    """The client did not come or the appointment was cancelled: a new booking is
    requested; the sender and the receiving worker are told, with the outcome's label."""
    transfer = booking.transfer
    _tell(
        handoff.sending_and_receiving(transfer),
        actor=actor,
        transfer=transfer,
        kind=NotificationKind.HANDOVER_MISSED,
        key=f"missed:{booking.pk}",
        params={"outcome": booking.status, "label": _label(BookingStatus, booking.status)},
    )
