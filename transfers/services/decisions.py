"""The receiving team's decisions (accept naming a worker, return with a reason) and the
sender's cancellation. A returned or cancelled transfer sends the case back to review."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from cases.enums import CaseAction, Role
from cases.roles import ACCEPTING_ROLES, SENDING_ROLES, is_member, require_role
from cases.services import case_hand_to, case_move
from core import clock
from core.errors import InvalidInput
from core.retry import atomic_with_retry
from core.transitions import check_transition, require_text, run_transition
from criteria.services import review_continue
from transfers import handoff, notices
from transfers.enums import BookingStatus, ReturnReason, TransferAction, TransferState
from transfers.events import transfer_event
from transfers.models import Transfer

from .handover import end_booking
from .locks import lock_case, lock_live_booking, lock_transfer


@atomic_with_retry
def transfer_accept(
    *, actor: AbstractBaseUser, transfer: Transfer, receiving_worker: AbstractBaseUser
) -> Transfer:
    """proposed -> accepted, naming the receiving worker (an active receiving worker of
    the receiving team). Of concurrent accepts exactly one succeeds; the others raise a
    Conflict and write nothing."""
    case, transfer = lock_transfer(transfer)
    role = require_role(actor, team=transfer.receiving_team, roles=ACCEPTING_ROLES, action="accept")
    check_transition(transfer, "accept")
    if not (
        receiving_worker.is_active
        and is_member(receiving_worker, team=transfer.receiving_team, roles=[Role.RECEIVING_WORKER])
    ):
        raise InvalidInput(
            {
                "receiving_worker": _(
                    "The receiving worker must be a receiving worker of %(team)s."
                )
                % {"team": transfer.receiving_team}
            }
        )
    source, _target = run_transition(
        transfer, "accept", receiving_worker=receiving_worker, at=clock.now()
    )
    transfer_event(
        transfer,
        TransferAction.ACCEPT,
        actor=actor,
        role=role,
        source=source,
        params={"receiving_worker": receiving_worker.pk},
    )
    case_hand_to(case, team=transfer.receiving_team, worker=receiving_worker)
    handoff.schedule_open(transfer)
    notices.transfer_accepted(transfer, actor=actor)
    return transfer


def send_back_to_review(
    transfer: Transfer, *, actor: AbstractBaseUser, role: str, why: str
) -> None:
    """The case goes back to review; a new review starts from the last one's assessments."""
    case = lock_case(transfer.case_id)  # held already by the caller: read afresh
    if case.receiving_team_id is not None:
        case_hand_to(case, team=None)
    check_transition(case, CaseAction.REOPEN_REVIEW)
    new_review = review_continue(previous=transfer.review, actor=actor)
    case_move(
        case,
        CaseAction.REOPEN_REVIEW,
        actor=actor,
        role=role,
        transfer_id=transfer.pk,
        review_id=new_review.pk,
        reason=why,
    )


@atomic_with_retry
def transfer_return(
    *, actor: AbstractBaseUser, transfer: Transfer, reason: str, text: str
) -> Transfer:
    """proposed -> returned, with a coded reason and text; the case goes back to review."""
    _case, transfer = lock_transfer(transfer)
    role = require_role(actor, team=transfer.receiving_team, roles=ACCEPTING_ROLES, action="return")
    check_transition(transfer, "return_to_sender")
    if reason not in ReturnReason.values:
        raise InvalidInput({"reason": _("Choose one of the return reasons.")})
    text = require_text(text, "text", _("Explain to the sender why the transfer is returned."))
    source, _target = run_transition(
        transfer, "return_to_sender", reason=reason, text=text, at=clock.now()
    )
    transfer_event(
        transfer,
        TransferAction.RETURN,
        actor=actor,
        role=role,
        source=source,
        reason=text,
        params={"reason": reason},
    )
    notices.transfer_returned(transfer, actor=actor)
    send_back_to_review(transfer, actor=actor, role=role, why=text)
    return transfer


def _household_heir(transfer: Transfer) -> Transfer | None:
    """Another transfer of `transfer`'s household still waiting for or holding the
    household's handover (the oldest), or None."""
    if transfer.household_id is None:
        return None
    return (
        Transfer.objects.filter(
            household_id=transfer.household_id,
            state__in=[TransferState.BOOKING_REQUESTED, TransferState.BOOKED],
        )
        .exclude(pk=transfer.pk)
        .order_by("pk")
        .first()
    )


def transfer_cancel_locked(
    transfer: Transfer, *, actor: AbstractBaseUser, role: str, reason: str, reopen_case: bool
) -> Transfer:
    """Cancel a transfer whose case and transfer the caller has locked."""
    booking = lock_live_booking(transfer)  # locked before anything is written
    now = clock.now()
    source, _target = run_transition(transfer, "cancel", reason=reason, at=now)
    heir = _household_heir(transfer) if booking else None
    if booking and heir:
        # The household's one booking stays for the members still going: it passes to one
        # of them instead of being cancelled (their appointment and interpreter stand).
        booking.transfer = heir
        booking.save(update_fields=["transfer"])
        booking = None
    released = end_booking(booking, status=BookingStatus.CANCELLED, at=now) if booking else False
    transfer_event(
        transfer,
        TransferAction.CANCEL,
        actor=actor,
        role=role,
        source=source,
        reason=reason,
        params={"interpreter_released": released},
    )
    notices.transfer_cancelled(transfer, actor=actor, source=source)
    if reopen_case:
        send_back_to_review(transfer, actor=actor, role=role, why=reason)
    return transfer


@atomic_with_retry
def transfer_cancel(*, actor: AbstractBaseUser, transfer: Transfer, reason: str) -> Transfer:
    """proposed, accepted, booking_requested or booked -> cancelled, by the sender with a
    reason. A booked interpreter is released at once; the case goes back to review."""
    _case, transfer = lock_transfer(transfer)
    role = require_role(actor, team=transfer.sending_team, roles=SENDING_ROLES, action="cancel")
    check_transition(transfer, "cancel")
    reason = require_text(reason, "reason", _("Give the reason for cancelling the transfer."))
    transfer_cancel_locked(transfer, actor=actor, role=role, reason=reason, reopen_case=True)
    return transfer
