"""The handover: the booking request, the front desk's confirmation (time, place,
interpreter), a no-show or cancellation that books again, the handover held, and sending a
failed booking request again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import formats
from django.utils.translation import gettext as _

from cases.enums import CaseAction
from cases.models import MeetingHours, Team
from cases.roles import BOOKING_ROLES, SENDING_ROLES, require_role
from cases.services import case_move
from core import clock, workdays
from core.errors import ActorNotAllowed, Conflict, DomainError, InvalidInput, TransitionNotAllowed
from core.retry import atomic_with_retry
from core.transitions import allowed_actions, check_transition, require_text, run_transition
from notifications.models import NotificationKind
from notifications.services import notify
from transfers import client_notice, handoff, links, notices
from transfers.enums import (
    BookingStatus,
    DeliveryStatus,
    InterpreterStatus,
    NoticeKind,
    TransferAction,
    TransferState,
)
from transfers.events import transfer_event
from transfers.models import HandoverBooking, Transfer

from .locks import lock_case, lock_live_booking, lock_transfer

# A household's transfers (proposed together, transfers.services.household) share one
# booking: the first request makes it, the others join it, and confirming or holding the
# handover moves them all. A transfer outside a household is its own household of one.


def _household_booking(transfer: Transfer) -> HandoverBooking | None:
    """The live booking of `transfer`, or of a transfer of its household, locked."""
    own = lock_live_booking(transfer)
    if own is not None or transfer.household_id is None:
        return own
    return (
        HandoverBooking.objects.select_for_update(no_key=True)
        .filter(
            transfer__household_id=transfer.household_id,
            status__in=[BookingStatus.REQUESTED, BookingStatus.CONFIRMED],
        )
        .order_by("pk")
        .first()
    )


def _with_household(transfer: Transfer, state: str) -> list[Transfer]:
    """`transfer` and the other transfers of its household in `state`, locked (case, then
    transfer, in the cases' order after the caller's own)."""
    if transfer.household_id is None:
        return [transfer]
    others = (
        Transfer.objects.filter(household_id=transfer.household_id, state=state)
        .exclude(pk=transfer.pk)
        .order_by("case_id")
        .values_list("pk", "case_id")
    )
    found = [transfer]
    for pk, case_id in others:
        lock_case(case_id)
        found.append(Transfer.objects.select_for_update(no_key=True).get(pk=pk))
    return found


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
    check_transition(transfer, "request_booking")
    household = _with_household(transfer, TransferState.ACCEPTED)
    # One request for the household: the interpreter asked for is that of the first member
    # who needs one.
    booking = _household_booking(transfer) or _new_booking(
        next((m for m in household if m.case.client.interpreter_needed), transfer)
    )
    for member in household:
        source, _target = run_transition(member, "request_booking", at=clock.now())
        transfer_event(
            member,
            TransferAction.REQUEST_BOOKING,
            actor=actor,
            role=role,
            source=source,
            params={"booking": booking.pk},
        )
    return booking


def _new_booking(transfer: Transfer) -> HandoverBooking:
    """A new booking request for `transfer` (with its client's interpreter need)."""
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


class HandoverNotStarted(DomainError):
    """The handover meeting has not started yet: it can be recorded as held, or the client
    as not having come, only once its time has passed."""

    code = "handover_not_started"
    http_status = 409


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "-"
    return formats.date_format(moment.astimezone(clock.tz()), "SHORT_DATETIME_FORMAT")


def _clock_time(value: dt.time) -> str:
    return formats.time_format(value, "TIME_FORMAT")


def horizon_days() -> int:
    """How many days ahead a handover may be booked (SILTA_HANDOVER_HORIZON_DAYS)."""
    return int(settings.SILTA_HANDOVER_HORIZON_DAYS)


def check_handover_time(starts_at: dt.datetime | None) -> dt.datetime:
    """The time is in the future and within the booking horizon; InvalidInput otherwise."""
    if starts_at is None:
        raise InvalidInput({"starts_at": _("Give the time of the handover.")})
    now = clock.now()
    if starts_at <= now:
        raise InvalidInput({"starts_at": _("The handover time must be in the future.")})
    latest = now + dt.timedelta(days=horizon_days())
    if starts_at > latest:
        raise InvalidInput(
            {
                "starts_at": _(
                    "A handover can be booked at most %(days)s days ahead, by %(date)s. "
                    "Check the date."
                )
                % {
                    "days": horizon_days(),
                    "date": formats.date_format(latest.astimezone(clock.tz()), "SHORT_DATE_FORMAT"),
                }
            }
        )
    return starts_at


def outside_meeting_hours(team: Team, starts_at: dt.datetime) -> str:
    """Why the time is not a usual handover time for the team ('' when it is): it must fall
    on a Finnish working day within the team's meeting hours (a team without meeting hours
    has only the working-day rule)."""
    local = starts_at.astimezone(clock.tz())
    if not workdays.is_working_day(local.date()):
        return _("%(date)s is not a working day (a weekend or a public holiday).") % {
            "date": formats.date_format(local, "SHORT_DATE_FORMAT")
        }
    hours = list(MeetingHours.objects.filter(team=team).order_by("weekday", "opens_at"))
    if not hours:
        return ""
    today = [h for h in hours if h.weekday == local.weekday()]
    if any(h.opens_at <= local.time() < h.closes_at for h in today):
        return ""
    if not today:
        return _("%(team)s holds no handover meetings on this weekday.") % {"team": team.name}
    return _("%(time)s is outside the meeting hours of %(team)s (%(hours)s).") % {
        "time": _clock_time(local.time()),
        "team": team.name,
        "hours": ", ".join(f"{_clock_time(h.opens_at)}–{_clock_time(h.closes_at)}" for h in today),
    }


@atomic_with_retry
def transfer_confirm_booking(
    *,
    actor: AbstractBaseUser | None,
    transfer: Transfer,
    starts_at: dt.datetime,
    place: str,
    interpreter: str = "",
    outside_hours_reason: str = "",
) -> Transfer:
    """booking_requested -> booked: the front desk confirms time, place and interpreter.

    The time is in the future and at most SILTA_HANDOVER_HORIZON_DAYS ahead. A time that
    is not on a working day within the team's meeting hours needs the front desk's reason
    (recorded on the booking and in the event); a booking system's confirmation (no
    actor) is accepted and flagged, so that a time agreed outside Silta is not lost."""
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
    starts_at = check_handover_time(starts_at)
    outside = outside_meeting_hours(transfer.receiving_team, starts_at)
    outside_hours_reason = (outside_hours_reason or "").strip() if outside else ""
    if outside and actor is not None and not outside_hours_reason:
        raise InvalidInput(
            {
                "starts_at": outside
                + " "
                + _("Choose another time, or give the reason for this time."),
                "outside_hours_reason": _(
                    "Give the reason for booking the handover outside the meeting hours."
                ),
            }
        )
    household = _with_household(transfer, TransferState.BOOKING_REQUESTED)
    booking = _household_booking(transfer)
    assert booking is not None  # a transfer in booking_requested has its live booking
    if booking.interpreter_status == InterpreterStatus.REQUESTED:
        interpreter = require_text(
            interpreter, "interpreter", _("The client needs an interpreter: name the booking.")
        )
    now = clock.now()
    for member in household[1:]:
        source, _target = run_transition(member, "confirm_booking", at=now)
        transfer_event(
            member,
            TransferAction.CONFIRM_BOOKING,
            actor=actor,
            role=role,
            source=source,
            params={"booking": booking.pk, "starts_at": starts_at.isoformat()},
        )
    source, _target = run_transition(transfer, "confirm_booking", at=now)
    booking.status = BookingStatus.CONFIRMED
    booking.starts_at = starts_at
    booking.place = place
    booking.confirmed_at = now
    booking.delivery = DeliveryStatus.DELIVERED
    booking.outside_hours = bool(outside)
    booking.outside_hours_reason = outside_hours_reason
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
        reason=outside_hours_reason,
        params={
            "booking": booking.pk,
            "starts_at": starts_at.isoformat(),
            "outside_hours": bool(outside),
        },
    )
    notify(
        recipients=handoff.sending_and_receiving(transfer),
        kind=NotificationKind.BOOKING_CONFIRMED,
        subject_key=f"booking:{booking.pk}",
        on_date=clock.today(),
        **links.about_transfer(transfer),
    )
    # The client's own text message of the appointment, if they consent (once per booking).
    client_notice.queue_sms(booking, NoticeKind.SMS)
    return transfer


@atomic_with_retry
def transfer_rebook(
    *, actor: AbstractBaseUser, transfer: Transfer, outcome: str, reason: str = ""
) -> HandoverBooking:
    """booked -> booking_requested: the client did not come (only once the meeting's
    start time has passed), or the appointment was cancelled (at any time). The
    interpreter is released at once and a new request is made."""
    _case, transfer = lock_transfer(transfer)
    role = require_role(actor, team=transfer.receiving_team, roles=BOOKING_ROLES, action="rebook")
    check_transition(transfer, "rebook")
    if outcome not in (BookingStatus.NO_SHOW, BookingStatus.CANCELLED):
        raise InvalidInput(
            {"outcome": _("Choose “client did not come” or “appointment cancelled”.")}
        )
    household = _with_household(transfer, TransferState.BOOKED)
    live = _household_booking(transfer)  # locked before anything is written
    assert live is not None  # a booked transfer has its live booking
    now = clock.now()
    if outcome == BookingStatus.NO_SHOW and not _started(live, now):
        raise InvalidInput(
            {
                "outcome": _(
                    "The handover is at %(time)s: record that the client did not come only "
                    "after that. If the time is cancelled, choose “appointment cancelled”."
                )
                % {"time": _when(live.starts_at)}
            }
        )
    moved = [(member, run_transition(member, "rebook", at=now)[0]) for member in household]
    released = end_booking(live, status=outcome, at=now)
    booking = _new_booking(live.transfer)
    for member, source in moved:
        transfer_event(
            member,
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
    """booked -> completed (the handover was held); the case becomes transferred. Only
    once the meeting's start time has passed (HandoverNotStarted before it)."""
    case, transfer = lock_transfer(transfer)
    role = require_role(actor, team=transfer.receiving_team, roles=BOOKING_ROLES, action="complete")
    check_transition(transfer, "complete")
    household = _with_household(transfer, TransferState.BOOKED)
    live = _household_booking(transfer)  # locked before anything is written
    # A booked transfer has its live booking; in a household whose booking's own
    # transfer was cancelled, the others were still held at that appointment.
    assert live is not None or transfer.household_id is not None
    now = clock.now()
    if live is not None and not _started(live, now):
        raise HandoverNotStarted(
            _("The handover is at %(time)s: record it as held only after it has started.")
            % {"time": _when(live.starts_at)},
            starts_at=live.starts_at.isoformat() if live.starts_at else None,
        )
    for member in household:
        source, _target = run_transition(member, "complete", at=now)
        transfer_event(member, TransferAction.COMPLETE, actor=actor, role=role, source=source)
        notices.handover_held(member, actor=actor)
        case_move(
            case if member.pk == transfer.pk else lock_case(member.case_id),
            CaseAction.COMPLETE_TRANSFER,
            actor=actor,
            role=role,
            transfer_id=member.pk,
            at=now,
        )
    if live is not None:
        end_booking(live, status=BookingStatus.HELD, at=now)
    return transfer


def _started(booking: HandoverBooking, now: dt.datetime) -> bool:
    return booking.starts_at is not None and booking.starts_at <= now


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
