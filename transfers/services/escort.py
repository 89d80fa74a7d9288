"""Escorted handovers (saattaen siirto): the sending worker attends the handover, so once
the front desk has booked the time the sending worker is asked to confirm it, and the
confirmation is recorded (on the booking and in the event log). The attendee and the
sender's availability note travel with every booking request (transfers.handoff)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from cases.roles import SENDING_ROLES, require_role
from core import clock
from core.errors import ActorNotAllowed, Conflict, TransitionNotAllowed
from core.retry import atomic_with_retry
from core.transitions import allowed_actions
from transfers.enums import TransferAction, TransferState
from transfers.events import transfer_event
from transfers.models import HandoverBooking, Transfer

from .locks import lock_live_booking, lock_transfer


@atomic_with_retry
def transfer_confirm_attendance(*, actor: AbstractBaseUser, transfer: Transfer) -> HandoverBooking:
    """The escorting sending worker confirms the booked handover time.

    Only the transfer's sending worker (in a sending role of the sending team), only for
    an escorted transfer whose handover is booked, once per booking: a handover booked
    again (no-show, cancelled) asks again, and only before the meeting begins. Nothing
    changes state; the booking records when.
    """
    _case, transfer = lock_transfer(transfer)
    role = require_role(
        actor, team=transfer.sending_team, roles=SENDING_ROLES, action="confirm_attendance"
    )
    if actor.pk != transfer.sending_worker_id:
        raise ActorNotAllowed(
            action="confirm_attendance",
            roles=[_("the escorting sending worker")],
            team=str(transfer.sending_team),
        )
    if transfer.state != TransferState.BOOKED:
        raise TransitionNotAllowed(
            action="confirm_attendance", state=transfer.state, allowed=allowed_actions(transfer)
        )
    if not transfer.escorted:
        raise Conflict(_("The transfer is not escorted: no one needs to confirm attending."))
    booking = lock_live_booking(transfer)
    assert booking is not None and booking.starts_at is not None  # booked: a live time
    if booking.sender_confirmed_at is not None:
        raise Conflict(_("You have already confirmed this time."))
    if booking.starts_at <= clock.now():
        raise Conflict(_("The handover time has already begun: it can no longer be confirmed."))
    booking.sender_confirmed_at = clock.now()
    booking.save(update_fields=["sender_confirmed_at"])
    transfer_event(
        transfer,
        TransferAction.CONFIRM_ATTENDANCE,
        actor=actor,
        role=role,
        source=transfer.state,
        params={"booking": booking.pk, "starts_at": booking.starts_at.isoformat()},
    )
    return booking
