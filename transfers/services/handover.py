"""The handover: the booking request, the front desk's confirmation (time, place,
interpreter), a no-show or cancellation that books again, the handover held, and sending a
failed booking request again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from cases.enums import CaseAction
from cases.roles import BOOKING_ROLES, SENDING_ROLES, require_role
from cases.services import case_move
from core import clock
from core.errors import ActorNotAllowed, Conflict, InvalidInput, TransitionNotAllowed
from core.retry import atomic_with_retry
from core.transitions import allowed_actions, check_transition, require_text, run_transition
from notifications.models import NotificationKind
from notifications.services import notify
from transfers import handoff, links, notices
from transfers.enums import (
    BookingStatus,
    DeliveryStatus,
    InterpreterStatus,
    TransferAction,
    TransferState,
)
from transfers.events import transfer_event
from transfers.models import HandoverBooking, Transfer

from .locks import lock_live_booking, lock_transfer


def end_booking(booking: HandoverBooking, *, status: str, at: dt.datetime) -> bool:
    """End a booking. A cancelled or missed one releases its interpreter at once and tells
    the unit; returns True when an interpreter was released."""
    freed = status != BookingStatus.HELD and booking.interpreter_status in (
        InterpreterStatus.REQUESTED,
        InterpreterStatus.BOOKED,
    )
    booking.status = status
    booking.ended_at = at
    if freed:
        booking.interpreter_status = InterpreterStatus.RELEASED
    booking.save(update_fields=["status", "ended_at", "interpreter_status"])
    if freed:
        handoff.interpreter_freed(booking)
    return freed


@atomic_with_retry
def transfer_request_booking(
    *, transfer: Transfer, actor: AbstractBaseUser | None = None
) -> HandoverBooking:
    """accepted -> booking_requested (and booked -> booking_requested goes through
    transfer_rebook). Creates the booking request with the interpreter need."""
    _case, transfer = lock_transfer(transfer)
    role = require_role(
        actor,
        team=transfer.receiving_team,
        roles=BOOKING_ROLES,
        action="request_booking",
        system_allowed=True,
    )
    source, _target = run_transition(transfer, "request_booking", at=clock.now())
    booking = _new_booking(transfer)
    transfer_event(
        transfer,
        TransferAction.REQUEST_BOOKING,
        actor=actor,
        role=role,
        source=source,
        params={"booking": booking.pk},
    )
    return booking


def _new_booking(transfer: Transfer) -> HandoverBooking:
    client = transfer.case.client
    new = HandoverBooking.objects.create(
        transfer=transfer,
        interpreter_language=client.language if client.interpreter_needed else "",
        interpreter_status=(
            InterpreterStatus.REQUESTED
            if client.interpreter_needed
            else InterpreterStatus.NOT_NEEDED
        ),
        requested_at=clock.now(),
    )
    handoff.schedule_send(new)
    return new


@atomic_with_retry
def transfer_confirm_booking(
    *,
    actor: AbstractBaseUser | None,
    transfer: Transfer,
    starts_at: dt.datetime,
    place: str,
    interpreter: str = "",
) -> Transfer:
    """booking_requested -> booked: the front desk confirms time, place and interpreter."""
    _case, transfer = lock_transfer(transfer)
    role = require_role(
        actor,
        team=transfer.receiving_team,
        roles=BOOKING_ROLES,
        action="confirm_booking",
        system_allowed=True,  # an external booking system's confirmation
    )
    check_transition(transfer, "confirm_booking")
    place = require_text(place, "place", _("Give the place of the handover."))
    if starts_at is None:
        raise InvalidInput({"starts_at": _("Give the time of the handover.")})
    if starts_at <= clock.now():
        raise InvalidInput({"starts_at": _("The handover time must be in the future.")})
    booking = lock_live_booking(transfer)
    assert booking is not None  # a transfer in booking_requested has its live booking
    if booking.interpreter_status == InterpreterStatus.REQUESTED:
        interpreter = require_text(
            interpreter, "interpreter", _("The client needs an interpreter: name the booking.")
        )
    now = clock.now()
    source, _target = run_transition(transfer, "confirm_booking", at=now)
    booking.status = BookingStatus.CONFIRMED
    booking.starts_at = starts_at
    booking.place = place
    booking.confirmed_at = now
    booking.delivery = DeliveryStatus.DELIVERED
    if booking.interpreter_status == InterpreterStatus.REQUESTED:
        booking.interpreter_status = InterpreterStatus.BOOKED
        booking.interpreter_name = interpreter.strip()
    booking.save()
    transfer_event(
        transfer,
        TransferAction.CONFIRM_BOOKING,
        actor=actor,
        role=role,
        source=source,
        params={"booking": booking.pk, "starts_at": starts_at.isoformat()},
    )
    notify(
        recipients=handoff.sending_and_receiving(transfer),
        kind=NotificationKind.BOOKING_CONFIRMED,
        subject_key=f"booking:{booking.pk}",
        on_date=clock.today(),
        **links.about_transfer(transfer),
    )
    return transfer


@atomic_with_retry
def transfer_rebook(
    *, actor: AbstractBaseUser, transfer: Transfer, outcome: str, reason: str = ""
) -> HandoverBooking:
    """booked -> booking_requested: the client did not come, or the appointment was
    cancelled. The interpreter is released at once and a new request is made."""
    _case, transfer = lock_transfer(transfer)
    role = require_role(actor, team=transfer.receiving_team, roles=BOOKING_ROLES, action="rebook")
    check_transition(transfer, "rebook")
    if outcome not in (BookingStatus.NO_SHOW, BookingStatus.CANCELLED):
        raise InvalidInput(
            {"outcome": _("Choose “client did not come” or “appointment cancelled”.")}
        )
    live = lock_live_booking(transfer)  # locked before anything is written
    now = clock.now()
    source, _target = run_transition(transfer, "rebook", at=now)
    assert live is not None  # a booked transfer has its live booking
    released = end_booking(live, status=outcome, at=now)
    booking = _new_booking(transfer)
    transfer_event(
        transfer,
        TransferAction.REBOOK,
        actor=actor,
        role=role,
        source=source,
        reason=reason,
        params={"outcome": outcome, "interpreter_released": released, "booking": booking.pk},
    )
    notices.booking_missed(live, actor=actor)
    return booking


@atomic_with_retry
def transfer_complete(*, actor: AbstractBaseUser, transfer: Transfer) -> Transfer:
    """booked -> completed (the handover was held); the case becomes transferred."""
    case, transfer = lock_transfer(transfer)
    role = require_role(actor, team=transfer.receiving_team, roles=BOOKING_ROLES, action="complete")
    live = lock_live_booking(transfer)  # locked before anything is written
    now = clock.now()
    source, _target = run_transition(transfer, "complete", at=now)
    assert live is not None  # a booked transfer has its live booking
    end_booking(live, status=BookingStatus.HELD, at=now)
    transfer_event(transfer, TransferAction.COMPLETE, actor=actor, role=role, source=source)
    notices.handover_held(transfer, actor=actor)
    case_move(case, CaseAction.COMPLETE_TRANSFER, actor=actor, role=role, transfer_id=transfer.pk)
    return transfer


@atomic_with_retry
def transfer_retry_booking_request(*, actor: AbstractBaseUser, transfer: Transfer) -> int:
    """The retry action for a booking request that failed: the sender or the receiving
    team sends it again. Returns how many requests were queued again."""
    _case, transfer = lock_transfer(transfer)
    role = _retry_role(actor, transfer)
    if transfer.state not in (TransferState.ACCEPTED, TransferState.BOOKING_REQUESTED):
        # Only a transfer that still waits for its booking has a request to send again.
        raise TransitionNotAllowed(
            action="retry_booking", state=transfer.state, allowed=allowed_actions(transfer)
        )
    failed = handoff.retry_failed_requests(transfer)
    if not failed:
        raise Conflict(_("No failed booking request to send again."))
    transfer_event(
        transfer,
        TransferAction.RETRY_BOOKING,
        actor=actor,
        role=role,
        source=transfer.state,
        params={"messages": failed},
    )
    return failed


def _retry_role(actor: Any, transfer: Transfer) -> str:
    """The sender or the receiving team may send a failed request again."""
    for team, roles in (
        (transfer.receiving_team, BOOKING_ROLES),
        (transfer.sending_team, SENDING_ROLES),
    ):
        try:
            return require_role(actor, team=team, roles=roles, action="retry_booking")
        except ActorNotAllowed:
            continue
    raise ActorNotAllowed(
        action="retry_booking", roles=BOOKING_ROLES, team=str(transfer.receiving_team)
    )
