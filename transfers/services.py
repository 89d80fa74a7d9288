"""Every write to clients, cases, transfers and handover bookings.

Each service runs in one transaction: it locks the rows it changes (cases before
transfers, in that order everywhere, so two services never deadlock), checks the actor's
role in the right team, runs the transition, and writes one event row per state change.
If anything fails, nothing is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from criteria import rules
from criteria.models import Review, ReviewOutcome
from criteria.selectors import (
    client_facts,
    current_checklist,
    open_review_of,
    review_readiness,
)
from notifications.models import NotificationKind
from notifications.services import notify

from . import booking as handoff
from . import clock, routing
from .enums import (
    OPEN_TRANSFER_STATES,
    BookingStatus,
    CaseState,
    ClosureReason,
    InterpreterStatus,
    ReturnReason,
    Role,
    TeamKind,
)
from .errors import (
    ActorNotAllowed,
    CapReached,
    Conflict,
    CriteriaNotMet,
    InvalidInput,
    RoutingNeedsManualChoice,
)
from .models import Case, Client, EventSubject, HandoverBooking, Membership, Team, Transfer
from .workflow import (
    check_transition,
    full_clean_or_raise,
    lock,
    record_event,
    require_role,
    require_text,
    run_transition,
)

SENDING_ROLES = (Role.CASEWORKER, Role.SUPERVISOR)
ACCEPTING_ROLES = (Role.RECEIVING_WORKER, Role.SUPERVISOR)
BOOKING_ROLES = (Role.FRONT_DESK, Role.RECEIVING_WORKER, Role.SUPERVISOR)

CLIENT_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "personal_identity_code",
    "language",
    "interpreter_needed",
    "street_address",
    "postal_code",
    "post_office",
    "housing_situation",
    "children_count",
    "family_reunification_pending",
    "reunited_family",
    "sponsor_in_finland_since",
    "family_situation_stable",
    "is_ppt",
)


# Clients ---------------------------------------------------------------------------------


def _require_immigration_unit_member(actor: AbstractBaseUser, action: str) -> str:
    role = None
    if actor is not None and actor.is_active:
        role = (
            Membership.objects.filter(
                user=actor, role__in=SENDING_ROLES, team__kind=TeamKind.IMMIGRATION_UNIT
            )
            .values_list("role", flat=True)
            .first()
        )
    if role is None:
        raise ActorNotAllowed(action=action, roles=SENDING_ROLES, team=_("Immigration Unit"))
    return role


def _client_team(client: Client) -> Team | None:
    case = client.cases.select_related("team").order_by("-created_at").first()
    return case.team if case else None


@transaction.atomic
def client_create(*, actor: AbstractBaseUser, **fields: Any) -> Client:
    """Create a client. Bad input raises InvalidInput naming each field; nothing is saved."""
    role = _require_immigration_unit_member(actor, "client_create")
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise InvalidInput({name: _("Unknown field.") for name in sorted(unknown)})
    client = Client(**fields)
    if client.personal_identity_code == "":
        client.personal_identity_code = None
    full_clean_or_raise(client)
    client.save()
    record_event(
        subject=EventSubject.CLIENT,
        action="create",
        client_id=client.pk,
        actor=actor,
        actor_role=role,
        params={"fields": sorted(fields)},
    )
    return client


@transaction.atomic
def client_update(*, actor: AbstractBaseUser, client: Client, **fields: Any) -> Client:
    """Change a client's facts. The event row lists which fields changed (not their values:
    the log must not become a second copy of the client data)."""
    client = lock(Client, client.pk)
    team = _client_team(client)
    if team is None:
        role = _require_immigration_unit_member(actor, "client_update")
    else:
        role = require_role(actor, team=team, roles=SENDING_ROLES, action="client_update")
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise InvalidInput({name: _("Unknown field.") for name in sorted(unknown)})
    changed = sorted(name for name, value in fields.items() if getattr(client, name) != value)
    for name in changed:
        setattr(client, name, fields[name])
    if client.personal_identity_code == "":
        client.personal_identity_code = None
    full_clean_or_raise(client)
    client.save()
    if changed:
        record_event(
            subject=EventSubject.CLIENT,
            action="update",
            client_id=client.pk,
            actor=actor,
            actor_role=role,
            params={"fields": changed},
        )
    return client


# Cases -----------------------------------------------------------------------------------


def record_case_event(case: Case, *, action: str, actor, role: str, source: str, **kw: Any) -> None:
    record_event(
        subject=EventSubject.CASE,
        action=action,
        client_id=case.client_id,
        case_id=case.pk,
        actor=actor,
        actor_role=role,
        from_state=source,
        to_state=case.state,
        **kw,
    )


@transaction.atomic
def case_open(
    *,
    actor: AbstractBaseUser,
    client: Client,
    team: Team,
    responsible_worker: AbstractBaseUser,
    integration_started_on: dt.date,
    ppt_coordinator: str = "",
) -> Case:
    """Open a client relationship in an Immigration Unit team. The review date follows the
    rules: 24 months, or 12 for a reunited family whose sponsor has lived long in Finland
    and whose situation is stable (threshold from the current checklist version)."""
    if team.kind != TeamKind.IMMIGRATION_UNIT:
        raise InvalidInput({"team": _("A case is opened in an Immigration Unit team.")})
    role = require_role(actor, team=team, roles=SENDING_ROLES, action="case_open")
    if not Membership.objects.filter(
        user=responsible_worker, team=team, role=Role.CASEWORKER
    ).exists():
        raise InvalidInput(
            {
                "responsible_worker": _("The responsible worker must be a caseworker of %(team)s.")
                % {"team": team}
            }
        )
    checklist = current_checklist()
    case = Case(
        client=client,
        team=team,
        responsible_worker=responsible_worker,
        integration_started_on=integration_started_on,
        ppt_coordinator=ppt_coordinator,
        review_due_on=rules.review_due_on(
            integration_started_on=integration_started_on,
            client=client_facts(client),
            threshold_years=checklist.sponsor_long_residence_years,
        ),
    )
    full_clean_or_raise(case, exclude=["state"])
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError as exc:
        raise Conflict(_("This client already has an open case.")) from exc
    record_case_event(
        case,
        action="open",
        actor=actor,
        role=role,
        source="",
        params={"review_due_on": case.review_due_on.isoformat()},
    )
    return case


@transaction.atomic
def case_set_coordinator(*, actor: AbstractBaseUser, case: Case, coordinator: str) -> Case:
    """Name the PPT coordinating party (the sending worker names it)."""
    case = lock(Case, case.pk)
    role = require_role(actor, team=case.team, roles=SENDING_ROLES, action="set_coordinator")
    if case.state in (CaseState.TRANSFERRED, CaseState.CLOSED):
        raise Conflict(_("The case has ended; it can no longer be changed."))
    case.ppt_coordinator = coordinator.strip()
    case.save(update_fields=["ppt_coordinator"])
    record_case_event(
        case,
        action="set_coordinator",
        actor=actor,
        role=role,
        source=case.state,
        params={"named": bool(case.ppt_coordinator)},
    )
    return case


@transaction.atomic
def cases_reassign(
    *,
    actor: AbstractBaseUser,
    team: Team,
    from_worker: AbstractBaseUser,
    to_worker: AbstractBaseUser,
    case_ids: list[int] | None = None,
) -> list[Case]:
    """A supervisor moves a (leaving) worker's open cases to another caseworker of the same
    team: all of them, or those chosen. One event per case records who moved it where."""
    role = require_role(actor, team=team, roles=[Role.SUPERVISOR], action="reassign")
    if to_worker == from_worker:
        raise InvalidInput({"to_worker": _("Choose a worker other than the one leaving.")})
    if not Membership.objects.filter(user=to_worker, team=team, role=Role.CASEWORKER).exists():
        raise InvalidInput(
            {
                "to_worker": _("The new worker must be a caseworker of %(team)s.")
                % {"team": team.name}
            }
        )
    cases = (
        Case.objects.select_for_update()
        .filter(team=team, responsible_worker=from_worker)
        .exclude(state__in=[CaseState.TRANSFERRED, CaseState.CLOSED])
        .order_by("pk")
    )
    if case_ids is not None:
        cases = cases.filter(pk__in=case_ids)
    moved = list(cases)
    if not moved:
        raise InvalidInput({"cases": _("Choose at least one open case of this worker.")})
    Case.objects.filter(pk__in=[case.pk for case in moved]).update(responsible_worker=to_worker)
    for case in moved:
        case.responsible_worker = to_worker
        record_case_event(
            case,
            action="reassign",
            actor=actor,
            role=role,
            source=case.state,
            params={"from": from_worker.get_username(), "to": to_worker.get_username()},
        )
    return moved


@transaction.atomic
def case_mark_due(*, case: Case, actor: AbstractBaseUser | None = None) -> Case:
    """active -> review_due. Silta does this itself when the review date arrives (actor None);
    a caseworker or supervisor may bring a review forward."""
    case = lock(Case, case.pk)
    role = require_role(
        actor, team=case.team, roles=SENDING_ROLES, action="mark_due", system_allowed=True
    )
    source, _target = run_transition(case, "mark_due")
    record_case_event(
        case,
        action="mark_due",
        actor=actor,
        role=role,
        source=source,
        params={"review_due_on": case.review_due_on.isoformat()},
    )
    return case


@transaction.atomic
def case_close(
    *, actor: AbstractBaseUser, case: Case, reason: str, text: str = "", decision: str = ""
) -> Case:
    """Close the relationship from any state that is not final. An open transfer is
    cancelled and an open review ends with it. At the 60-month cap only a supervisor
    decides, and the decision is recorded."""
    case = lock(Case, case.pk)
    role = require_role(actor, team=case.team, roles=SENDING_ROLES, action="close")
    check_transition(case, "close")
    if reason not in ClosureReason.values:
        raise InvalidInput({"reason": _("Choose one of the closure reasons.")})
    if reason == ClosureReason.OTHER:
        text = require_text(text, "text", _("Explain the reason when it is “other”."))
    at_cap = _require_cap_decision(case, role=role, decision=decision)
    now = clock.now()
    open_transfer = case.transfers.filter(state__in=OPEN_TRANSFER_STATES).first()
    source, _target = run_transition(case, "close", reason=reason, text=text, at=now)
    if open_transfer is not None:
        _transfer_cancel_locked(
            lock(Transfer, open_transfer.pk),
            actor=actor,
            role=role,
            reason=_("The case was closed."),
            reopen_case=False,
        )
    review = open_review_of(case)
    if review is not None:
        review_finish(review, outcome=ReviewOutcome.CLOSED, at=now)
    record_case_event(
        case,
        action="close",
        actor=actor,
        role=role,
        source=source,
        reason=text or reason,
        params={"reason": reason, "at_cap": at_cap, "decision": decision},
    )
    return case


def _require_cap_decision(case: Case, *, role: str, decision: str) -> bool:
    """At the cap, the only outcomes are a transfer or a closure, decided by a supervisor
    with a written decision."""
    if not rules.is_at_cap(today=clock.today(), cap=case.cap_on):
        return False
    if role != Role.SUPERVISOR:
        raise CapReached(
            _(
                "The case has reached the 5-year cap on %(cap)s: a supervisor decides on the "
                "transfer or the closure."
            )
            % {"cap": case.cap_on.isoformat()}
        )
    require_text(decision, "decision", _("Write the supervisor's decision at the cap."))
    return True


def review_finish(
    review: Review, *, outcome: str, at: dt.datetime, next_review_on: dt.date | None = None
) -> None:
    review.completed_at = at
    review.outcome = outcome
    review.next_review_on = next_review_on
    review.save(update_fields=["completed_at", "outcome", "next_review_on"])


# Transfers -------------------------------------------------------------------------------


def _transfer_event(
    transfer: Transfer, *, action: str, actor, role: str, source: str, **kw: Any
) -> None:
    record_event(
        subject=EventSubject.TRANSFER,
        action=action,
        client_id=transfer.case.client_id,
        case_id=transfer.case_id,
        transfer_id=transfer.pk,
        actor=actor,
        actor_role=role,
        from_state=source,
        to_state=transfer.state,
        **kw,
    )


def routed_team_for(case: Case) -> Team:
    """The team routing chooses today, or RoutingNeedsManualChoice."""
    client = case.client
    return routing.route(
        postal_code=client.postal_code, date_of_birth=client.date_of_birth, on=clock.today()
    )


@transaction.atomic
def transfer_propose(
    *,
    actor: AbstractBaseUser,
    review: Review,
    receiving_team: Team | None = None,
    override_reason: str = "",
    decision: str = "",
) -> Transfer:
    """in_review -> transfer_pending, with a new Transfer (proposed).

    Requires a ready review (every applicable criterion met or excepted, no blocker) and,
    for a PPT client, a named coordinator. The receiving team is routed; choosing another
    team, or choosing by hand where routing cannot, needs a reason, which is logged.
    At the cap a supervisor may decide on a transfer that is not ready, in writing.
    """
    case = lock(Case, review.case_id)
    role = require_role(actor, team=case.team, roles=SENDING_ROLES, action="propose_transfer")
    check_transition(case, "propose_transfer")
    review = Review.objects.select_for_update().get(pk=review.pk)
    if not review.is_open:
        raise Conflict(_("This review is already completed."))
    at_cap = _require_cap_decision(case, role=role, decision=decision)
    readiness = review_readiness(review)
    if not readiness.ready and not at_cap:
        raise CriteriaNotMet(reasons=list(readiness.blockers) + list(readiness.unmet))
    if rules.ppt_coordinator_missing(is_ppt=case.client.is_ppt, coordinator=case.ppt_coordinator):
        raise CriteriaNotMet(reasons=[_("a PPT client needs a named coordinator")])

    try:
        routed: Team | None = routed_team_for(case)
    except RoutingNeedsManualChoice:
        if receiving_team is None:
            raise
        routed = None
    team = receiving_team or routed
    if team.kind not in (TeamKind.ADULT, TeamKind.YOUTH) or not team.is_active:
        raise InvalidInput({"receiving_team": _("Choose an active regional adult or youth team.")})
    if team != routed:
        override_reason = require_text(
            override_reason,
            "override_reason",
            _("Give the reason for choosing a team other than the routed one."),
        )

    now = clock.now()
    source, _target = run_transition(case, "propose_transfer")
    review_finish(review, outcome=ReviewOutcome.READY, at=now)
    transfer = Transfer.objects.create(
        case=case,
        review=review,
        sending_team=case.team,
        sending_worker=case.responsible_worker,
        receiving_team=team,
        routed_team=routed,
        override_reason=override_reason.strip(),
        escorted=readiness.escorted,
        proposed_at=now,
    )
    record_case_event(
        case,
        action="propose_transfer",
        actor=actor,
        role=role,
        source=source,
        transfer_id=transfer.pk,
        review_id=review.pk,
        params={"at_cap": at_cap, "decision": decision, "ready": readiness.ready},
    )
    _transfer_event(
        transfer,
        action="propose",
        actor=actor,
        role=role,
        source="",
        reason=override_reason,
        review_id=review.pk,
        params={
            "receiving_team": team.code,
            "routed_team": routed.code if routed else None,
            "overridden": team != routed,
            "escorted": transfer.escorted,
        },
    )
    return transfer


@transaction.atomic
def transfer_accept(
    *, actor: AbstractBaseUser, transfer: Transfer, receiving_worker: AbstractBaseUser
) -> Transfer:
    """proposed -> accepted, naming the receiving worker. Of concurrent accepts exactly
    one succeeds; the others raise a Conflict and write nothing."""
    transfer = lock(Transfer, transfer.pk)
    role = require_role(actor, team=transfer.receiving_team, roles=ACCEPTING_ROLES, action="accept")
    check_transition(transfer, "accept")
    if not Membership.objects.filter(
        user=receiving_worker, team=transfer.receiving_team, role=Role.RECEIVING_WORKER
    ).exists():
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
    _transfer_event(
        transfer,
        action="accept",
        actor=actor,
        role=role,
        source=source,
        params={"receiving_worker": receiving_worker.pk},
    )
    handoff.schedule_open(transfer)
    return transfer


def _reopen_case(transfer: Transfer, *, actor, role: str, why: str) -> None:
    """The case goes back to review; a new review starts from the last one's assessments."""
    from criteria.services import review_continue  # criteria builds on transfers

    case = lock(Case, transfer.case_id)
    source, _target = run_transition(case, "reopen_review")
    new_review = review_continue(previous=transfer.review, actor=actor)
    record_case_event(
        case,
        action="reopen_review",
        actor=actor,
        role=role,
        source=source,
        transfer_id=transfer.pk,
        review_id=new_review.pk,
        reason=why,
    )


@transaction.atomic
def transfer_return(
    *, actor: AbstractBaseUser, transfer: Transfer, reason: str, text: str
) -> Transfer:
    """proposed -> returned, with a coded reason and text; the case goes back to review."""
    lock(Case, transfer.case_id)  # cases before transfers, everywhere
    transfer = lock(Transfer, transfer.pk)
    role = require_role(actor, team=transfer.receiving_team, roles=ACCEPTING_ROLES, action="return")
    check_transition(transfer, "return_to_sender")
    if reason not in ReturnReason.values:
        raise InvalidInput({"reason": _("Choose one of the return reasons.")})
    text = require_text(text, "text", _("Explain to the sender why the transfer is returned."))
    source, _target = run_transition(
        transfer, "return_to_sender", reason=reason, text=text, at=clock.now()
    )
    _transfer_event(
        transfer,
        action="return",
        actor=actor,
        role=role,
        source=source,
        reason=text,
        params={"reason": reason},
    )
    _reopen_case(transfer, actor=actor, role=role, why=text)
    return transfer


def _live_booking(transfer: Transfer) -> HandoverBooking | None:
    return (
        transfer.bookings.select_for_update()
        .filter(status__in=[BookingStatus.REQUESTED, BookingStatus.CONFIRMED])
        .first()
    )


def _end_booking(booking: HandoverBooking, *, status: str, at: dt.datetime) -> bool:
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


@transaction.atomic
def transfer_request_booking(
    *, transfer: Transfer, actor: AbstractBaseUser | None = None
) -> HandoverBooking:
    """accepted -> booking_requested (and booked -> booking_requested goes through
    transfer_rebook). Creates the booking request with the interpreter need."""
    transfer = lock(Transfer, transfer.pk)
    role = require_role(
        actor,
        team=transfer.receiving_team,
        roles=BOOKING_ROLES,
        action="request_booking",
        system_allowed=True,
    )
    source, _target = run_transition(transfer, "request_booking", at=clock.now())
    booking = _new_booking(transfer)
    _transfer_event(
        transfer,
        action="request_booking",
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


@transaction.atomic
def transfer_confirm_booking(
    *,
    actor: AbstractBaseUser,
    transfer: Transfer,
    starts_at: dt.datetime,
    place: str,
    interpreter: str = "",
) -> Transfer:
    """booking_requested -> booked: the front desk confirms time, place and interpreter."""
    transfer = lock(Transfer, transfer.pk)
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
    booking = _live_booking(transfer)
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
    booking.delivery = "delivered"
    if booking.interpreter_status == InterpreterStatus.REQUESTED:
        booking.interpreter_status = InterpreterStatus.BOOKED
        booking.interpreter_name = interpreter.strip()
    booking.save()
    _transfer_event(
        transfer,
        action="confirm_booking",
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
        case=transfer.case,
        transfer=transfer,
    )
    return transfer


@transaction.atomic
def transfer_rebook(
    *, actor: AbstractBaseUser, transfer: Transfer, outcome: str, reason: str = ""
) -> HandoverBooking:
    """booked -> booking_requested: the client did not come, or the appointment was
    cancelled. The interpreter is released at once and a new request is made."""
    transfer = lock(Transfer, transfer.pk)
    role = require_role(actor, team=transfer.receiving_team, roles=BOOKING_ROLES, action="rebook")
    check_transition(transfer, "rebook")
    if outcome not in (BookingStatus.NO_SHOW, BookingStatus.CANCELLED):
        raise InvalidInput(
            {"outcome": _("Choose “client did not come” or “appointment cancelled”.")}
        )
    now = clock.now()
    source, _target = run_transition(transfer, "rebook", at=now)
    released = _end_booking(_live_booking(transfer), status=outcome, at=now)
    booking = _new_booking(transfer)
    _transfer_event(
        transfer,
        action="rebook",
        actor=actor,
        role=role,
        source=source,
        reason=reason,
        params={"outcome": outcome, "interpreter_released": released, "booking": booking.pk},
    )
    return booking


@transaction.atomic
def transfer_complete(*, actor: AbstractBaseUser, transfer: Transfer) -> Transfer:
    """booked -> completed (the handover was held); the case becomes transferred."""
    case = lock(Case, transfer.case_id)
    transfer = lock(Transfer, transfer.pk)
    role = require_role(actor, team=transfer.receiving_team, roles=BOOKING_ROLES, action="complete")
    now = clock.now()
    source, _target = run_transition(transfer, "complete", at=now)
    _end_booking(_live_booking(transfer), status=BookingStatus.HELD, at=now)
    _transfer_event(transfer, action="complete", actor=actor, role=role, source=source)
    case_source, _target = run_transition(case, "complete_transfer")
    record_case_event(
        case,
        action="complete_transfer",
        actor=actor,
        role=role,
        source=case_source,
        transfer_id=transfer.pk,
    )
    return transfer


def _transfer_cancel_locked(
    transfer: Transfer, *, actor, role: str, reason: str, reopen_case: bool
) -> Transfer:
    now = clock.now()
    source, _target = run_transition(transfer, "cancel", reason=reason, at=now)
    booking = _live_booking(transfer)
    released = _end_booking(booking, status=BookingStatus.CANCELLED, at=now) if booking else False
    _transfer_event(
        transfer,
        action="cancel",
        actor=actor,
        role=role,
        source=source,
        reason=reason,
        params={"interpreter_released": released},
    )
    if reopen_case:
        _reopen_case(transfer, actor=actor, role=role, why=reason)
    return transfer


@transaction.atomic
def transfer_cancel(*, actor: AbstractBaseUser, transfer: Transfer, reason: str) -> Transfer:
    """proposed, accepted, booking_requested or booked -> cancelled, by the sender with a
    reason. A booked interpreter is released at once; the case goes back to review."""
    lock(Case, transfer.case_id)
    transfer = lock(Transfer, transfer.pk)
    role = require_role(actor, team=transfer.sending_team, roles=SENDING_ROLES, action="cancel")
    check_transition(transfer, "cancel")
    reason = require_text(reason, "reason", _("Give the reason for cancelling the transfer."))
    _transfer_cancel_locked(transfer, actor=actor, role=role, reason=reason, reopen_case=True)
    return transfer


__all__ = [
    "case_close",
    "case_mark_due",
    "case_open",
    "case_set_coordinator",
    "client_create",
    "client_update",
    "routed_team_for",
    "transfer_accept",
    "transfer_cancel",
    "transfer_complete",
    "transfer_confirm_booking",
    "transfer_propose",
    "transfer_rebook",
    "transfer_request_booking",
    "transfer_return",
]


@transaction.atomic
def transfer_retry_booking_request(*, actor: AbstractBaseUser, transfer: Transfer) -> int:
    """The retry action for a booking request that failed: the sender or the receiving
    team sends it again. Returns how many requests were queued again."""
    from notifications.models import Channel, OutboxMessage, OutboxStatus
    from notifications.services import outbox_retry

    transfer = lock(Transfer, transfer.pk)
    if not Membership.objects.filter(
        Q(team=transfer.receiving_team, role__in=BOOKING_ROLES)
        | Q(team=transfer.sending_team, role__in=SENDING_ROLES),
        user=actor,
    ).exists():
        raise ActorNotAllowed(
            action="retry_booking", roles=BOOKING_ROLES, team=str(transfer.receiving_team)
        )
    booking_ids = list(transfer.bookings.values_list("pk", flat=True))
    failed = list(
        OutboxMessage.objects.filter(
            Q(payload__transfer=transfer.pk) | Q(payload__booking__in=booking_ids),
            channel=Channel.BOOKING,
            status=OutboxStatus.FAILED,
        )
    )
    if not failed:
        raise Conflict(_("No failed booking request to send again."))
    for message in failed:
        outbox_retry(message=message)
    record_event(
        subject=EventSubject.TRANSFER,
        action="retry_booking",
        client_id=transfer.case.client_id,
        case_id=transfer.case_id,
        transfer_id=transfer.pk,
        actor=actor,
        params={"messages": len(failed)},
    )
    return len(failed)
