"""What the transfer services record and refuse, in the detail the mutation run
(`make mutate`) showed untested: the rows and fields each service writes, the events'
parameters, which bookings release an interpreter, and the refusals that change nothing.
The guards themselves are proved in tests/transfers/test_service_guards.py."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.utils import translation

from cases.enums import CaseAction, CaseState, ClosureReason, HousingSituation, Role
from cases.models import Event
from core import clock
from core.errors import (
    ActorNotAllowed,
    Conflict,
    CriteriaNotMet,
    InvalidInput,
    TransitionNotAllowed,
)
from criteria import services as criteria_services
from criteria.models import AssessmentStatus, Review, ReviewOutcome
from criteria.selectors import open_review_of
from notifications.models import Notification, NotificationKind, OutboxMessage, OutboxStatus
from tests.factories import (
    assess_all_met,
    bring_transfer_to,
    case_in_state,
    handover_slot,
    member,
    open_case,
    reload,
    transfer_in_state,
)
from tests.snapshot import snapshot
from transfers import services
from transfers.enums import (
    BookingStatus,
    DeliveryStatus,
    InterpreterStatus,
    TransferAction,
    TransferState,
)
from transfers.models import HandoverBooking, Transfer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def ready_review(org, **client):
    case = case_in_state(org, CaseState.IN_REVIEW, **client)
    assess_all_met(org, case)
    return open_review_of(case)


def transfer_events(transfer, action):
    return Event.objects.filter(transfer=transfer, subject="transfer", action=action)


def case_events(case, action):
    return Event.objects.filter(case=case, subject="case", action=action)


def live(transfer):
    return transfer.bookings.get(status__in=[BookingStatus.REQUESTED, BookingStatus.CONFIRMED])


# --- proposing ----------------------------------------------------------------------------


def test_propose__the_transfer_as_proposed_with_both_events(org):
    review = ready_review(org)
    case = review.case
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=review
    )
    assert (transfer.sending_team, transfer.sending_worker) == (org.koto, org.caseworker)
    assert (transfer.receiving_team, transfer.routed_team) == (org.adult, org.adult)
    assert (transfer.override_reason, transfer.escorted) == ("", False)
    assert transfer.state == TransferState.PROPOSED and transfer.proposed_at is not None
    review = reload(review)
    assert review.outcome == ReviewOutcome.READY and review.completed_at is not None
    assert reload(case).state == CaseState.TRANSFER_PENDING
    moved = case_events(case, CaseAction.PROPOSE_TRANSFER).get()
    assert moved.params == {"at_cap": False, "decision": "", "ready": True}
    assert (moved.transfer_id, moved.review_id) == (transfer.pk, review.pk)
    proposed = transfer_events(transfer, TransferAction.PROPOSE).get()
    assert proposed.params == {
        "receiving_team": "pohjoinen-aiso",
        "routed_team": "pohjoinen-aiso",
        "overridden": False,
        "escorted": False,
        "consent_basis": "consent",
    }
    assert proposed.review_id == review.pk and proposed.reason == ""
    assert (proposed.actor, proposed.actor_role) == (org.caseworker, Role.CASEWORKER)


def test_propose__another_team_with_a_reason__recorded_stripped(org):
    review = ready_review(org)
    transfer = services.transfer_propose(
        consent_basis="consent",
        actor=org.koto_supervisor,
        review=review,
        receiving_team=org.other_adult,
        override_reason="  Moving to Länsi next month  ",
    )
    assert transfer.receiving_team == org.other_adult and transfer.routed_team == org.adult
    assert transfer.override_reason == "Moving to Länsi next month"
    proposed = transfer_events(transfer, TransferAction.PROPOSE).get()
    assert proposed.params["overridden"] is True
    assert proposed.params["receiving_team"] == "lansi-aiso"
    assert proposed.reason.strip() == "Moving to Länsi next month"
    assert proposed.actor_role == Role.SUPERVISOR


def test_propose__by_hand_where_routing_cannot__no_routed_team_recorded(org):
    review = ready_review(org, postal_code="99999")
    with pytest.raises(Exception) as must_choose:
        services.transfer_propose(consent_basis="consent", actor=org.caseworker, review=review)
    assert must_choose.value.code == "routing_needs_manual_choice"
    transfer = services.transfer_propose(
        consent_basis="consent",
        actor=org.caseworker,
        review=review,
        receiving_team=org.adult,
        override_reason="PO box",
    )
    assert transfer.routed_team is None
    assert transfer_events(transfer, TransferAction.PROPOSE).get().params["routed_team"] is None


def test_propose__escorted_when_the_multi_problem_marker_is_set(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    assess_all_met(org, case)
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=open_review_of(case).assessments.get(criterion__code="authorities"),
        status=AssessmentStatus.MET,
        multi_problem=True,
    )
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
    )
    assert transfer.escorted is True
    assert transfer_events(transfer, TransferAction.PROPOSE).get().params["escorted"] is True


def test_propose__not_ready__the_reasons_name_blockers_then_unmet(org):
    case = case_in_state(org, CaseState.IN_REVIEW, housing_situation=HousingSituation.HOMELESS)
    before = snapshot()
    with pytest.raises(CriteriaNotMet) as refused:
        services.transfer_propose(
            consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
        )
    reasons = refused.value.extra["reasons"]
    assert reasons[0] == "homeless_or_crisis_accommodation"
    assert "finances" in reasons and "housing" in reasons
    assert snapshot() == before


def test_propose__a_completed_review__conflict_and_nothing_changes(org):
    review = ready_review(org)
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=review
    )
    services.transfer_return(
        actor=org.receiving_worker, transfer=transfer, reason="not_ready", text="Not yet"
    )
    before = snapshot()
    with pytest.raises(Conflict):
        services.transfer_propose(
            consent_basis="consent", actor=org.caseworker, review=review
        )  # the old review
    assert snapshot() == before


@pytest.mark.parametrize("actor", ["receiving_worker", "outsider"])
def test_propose__by_someone_outside_the_sending_team__refused(org, actor):
    review = ready_review(org)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        services.transfer_propose(consent_basis="consent", actor=getattr(org, actor), review=review)
    assert snapshot() == before


def test_propose__a_ppt_client_with_a_coordinator__proposed(org):
    case = case_in_state(org, CaseState.IN_REVIEW, is_ppt=True)
    assess_all_met(org, case)
    from cases import services as case_services

    case_services.case_set_coordinator(actor=org.caseworker, case=case, coordinator="Kela")
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
    )
    assert transfer.state == TransferState.PROPOSED


# --- accepting, returning, cancelling -------------------------------------------------------


def test_accept__the_worker_and_the_case_handed_to_the_receiving_team(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    services.transfer_accept(
        actor=org.receiving_supervisor, transfer=transfer, receiving_worker=org.receiving_worker
    )
    transfer = reload(transfer)
    assert transfer.receiving_worker == org.receiving_worker
    assert transfer.accepted_at is not None
    assert reload(transfer.case).receiving_team == org.adult
    accepted = transfer_events(transfer, TransferAction.ACCEPT).get()
    assert accepted.params == {"receiving_worker": org.receiving_worker.pk}
    assert (accepted.from_state, accepted.to_state) == (
        TransferState.PROPOSED,
        TransferState.ACCEPTED,
    )
    assert accepted.actor_role == Role.SUPERVISOR


@pytest.mark.parametrize("actor", ["caseworker", "front_desk", "outsider"])
def test_accept__by_anyone_but_the_receiving_teams_accepting_roles__refused(org, actor):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        services.transfer_accept(
            actor=getattr(org, actor), transfer=transfer, receiving_worker=org.receiving_worker
        )
    assert snapshot() == before


def test_return__reason_and_text_recorded_and_the_case_back_in_review(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    old_review = transfer.review
    services.transfer_return(
        actor=org.receiving_worker,
        transfer=transfer,
        reason="missing_information",
        text="  Housing unclear  ",
    )
    transfer = reload(transfer)
    assert (transfer.return_reason, transfer.return_text) == (
        "missing_information",
        "Housing unclear",
    )
    assert transfer.returned_at is not None
    returned = transfer_events(transfer, TransferAction.RETURN).get()
    assert returned.reason == "Housing unclear"
    assert returned.params == {"reason": "missing_information"}
    case = reload(transfer.case)
    assert case.state == CaseState.IN_REVIEW and case.receiving_team is None
    reopened = case_events(case, CaseAction.REOPEN_REVIEW).get()
    new_review = open_review_of(case)
    assert new_review.pk != old_review.pk
    assert (reopened.transfer_id, reopened.review_id) == (transfer.pk, new_review.pk)
    assert reopened.reason == "Housing unclear"
    assert new_review.assessments.filter(status=AssessmentStatus.MET).count() == (
        old_review.assessments.filter(status=AssessmentStatus.MET).count()
    )


@pytest.mark.parametrize(
    ("reason", "text", "field"),
    [("because", "Housing unclear", "reason"), ("not_ready", "  ", "text")],
)
def test_return__bad_reason_or_no_text__refused_naming_the_field(org, reason, text, field):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        services.transfer_return(
            actor=org.receiving_worker, transfer=transfer, reason=reason, text=text
        )
    assert list(refused.value.errors) == [field]
    assert snapshot() == before


@pytest.mark.parametrize("actor", ["caseworker", "front_desk", "outsider"])
def test_return__by_anyone_but_the_receiving_teams_accepting_roles__refused(org, actor):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        services.transfer_return(
            actor=getattr(org, actor), transfer=transfer, reason="not_ready", text="x"
        )
    assert snapshot() == before


@pytest.mark.parametrize(
    ("state", "released"),
    [
        (TransferState.PROPOSED, False),
        (TransferState.ACCEPTED, False),
        (TransferState.BOOKING_REQUESTED, True),
        (TransferState.BOOKED, True),
    ],
)
def test_cancel__the_case_back_in_review_a_live_interpreter_released(org, state, released):
    transfer = transfer_in_state(org, state)
    services.transfer_cancel(actor=org.koto_supervisor, transfer=transfer, reason="  Moved  ")
    transfer = reload(transfer)
    assert transfer.state == TransferState.CANCELLED
    assert (transfer.cancel_reason, transfer.cancelled_at is not None) == ("Moved", True)
    cancelled = transfer_events(transfer, TransferAction.CANCEL).get()
    assert cancelled.params == {"interpreter_released": released}
    assert cancelled.reason == "Moved" and cancelled.actor_role == Role.SUPERVISOR
    case = reload(transfer.case)
    assert case.state == CaseState.IN_REVIEW and case.receiving_team is None
    assert case_events(case, CaseAction.REOPEN_REVIEW).get().reason == "Moved"
    if state in (TransferState.BOOKING_REQUESTED, TransferState.BOOKED):
        booking = transfer.bookings.get()
        assert booking.status == BookingStatus.CANCELLED and booking.ended_at is not None
        assert booking.interpreter_status == InterpreterStatus.RELEASED
        assert Notification.objects.filter(kind=NotificationKind.INTERPRETER_FREE).exists()


def test_cancel__a_booking_without_interpreter__nothing_to_release(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED, interpreter_needed=False)
    services.transfer_cancel(actor=org.caseworker, transfer=transfer, reason="Moved")
    booking = reload(transfer).bookings.get()
    assert booking.interpreter_status == InterpreterStatus.NOT_NEEDED
    assert transfer_events(transfer, TransferAction.CANCEL).get().params == {
        "interpreter_released": False
    }
    assert not Notification.objects.filter(kind=NotificationKind.INTERPRETER_FREE).exists()


@pytest.mark.parametrize("actor", ["receiving_worker", "receiving_supervisor", "outsider"])
def test_cancel__by_anyone_but_the_sending_team__refused(org, actor):
    transfer = transfer_in_state(org, TransferState.ACCEPTED)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        services.transfer_cancel(actor=getattr(org, actor), transfer=transfer, reason="x")
    assert snapshot() == before


# --- the handover -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("needed", "language", "status"),
    [(True, "ara", InterpreterStatus.REQUESTED), (False, "", InterpreterStatus.NOT_NEEDED)],
)
def test_request_booking__the_request_carries_the_interpreter_need(org, needed, language, status):
    transfer = transfer_in_state(org, TransferState.ACCEPTED, interpreter_needed=needed)
    booking = services.transfer_request_booking(transfer=transfer, actor=org.front_desk)
    assert (booking.interpreter_language, booking.interpreter_status) == (language, status)
    assert booking.status == BookingStatus.REQUESTED and booking.requested_at is not None
    transfer = reload(transfer)
    assert transfer.state == TransferState.BOOKING_REQUESTED
    assert transfer.booking_requested_at is not None
    requested = transfer_events(transfer, TransferAction.REQUEST_BOOKING).get()
    assert requested.params == {"booking": booking.pk}
    assert requested.actor_role == Role.FRONT_DESK


def _confirm(org, transfer, **overrides):
    values = {
        "actor": org.front_desk,
        "transfer": transfer,
        "starts_at": handover_slot(days=7),
        "place": "Malmi front desk",
        "interpreter": "  Interpreter booking 123  ",
    }
    values.update(overrides)
    return services.transfer_confirm_booking(**values)


def test_confirm_booking__time_place_and_interpreter_recorded_both_teams_told(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    starts = handover_slot(days=7)
    _confirm(org, transfer, starts_at=starts)
    transfer = reload(transfer)
    assert transfer.state == TransferState.BOOKED and transfer.booked_at is not None
    booking = transfer.bookings.get()
    assert (booking.status, booking.starts_at, booking.place) == (
        BookingStatus.CONFIRMED,
        starts,
        "Malmi front desk",
    )
    assert booking.confirmed_at is not None and booking.delivery == DeliveryStatus.DELIVERED
    assert booking.interpreter_status == InterpreterStatus.BOOKED
    assert booking.interpreter_name == "Interpreter booking 123"
    confirmed = transfer_events(transfer, TransferAction.CONFIRM_BOOKING).get()
    assert confirmed.params == {
        "booking": booking.pk,
        "starts_at": starts.isoformat(),
        "outside_hours": False,
    }
    told = set(
        Notification.objects.filter(kind=NotificationKind.BOOKING_CONFIRMED).values_list(
            "recipient", flat=True
        )
    )
    assert {org.caseworker.pk, org.receiving_worker.pk} <= told


def test_confirm_booking__no_interpreter_needed__none_asked(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED, interpreter_needed=False)
    _confirm(org, transfer, interpreter="")
    booking = reload(transfer).bookings.get()
    assert booking.interpreter_status == InterpreterStatus.NOT_NEEDED
    assert booking.interpreter_name == ""


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"place": "  "}, "place"),
        ({"starts_at": None}, "starts_at"),
        ({"starts_at": "now"}, "starts_at"),
        ({"starts_at": "past"}, "starts_at"),
        ({"interpreter": " "}, "interpreter"),
    ],
)
def test_confirm_booking__bad_input__refused_naming_the_field(org, overrides, field):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    now = clock.now()
    moments = {"now": now, "past": now - dt.timedelta(hours=1)}
    if overrides.get("starts_at") in moments:
        overrides["starts_at"] = moments[overrides["starts_at"]]
    before = snapshot()
    with time_machine.travel(now, tick=False), pytest.raises(InvalidInput) as refused:
        _confirm(org, transfer, **overrides)
    assert list(refused.value.errors) == [field]
    assert snapshot() == before


@pytest.mark.parametrize("actor", ["caseworker", "outsider"])
def test_confirm_booking__by_someone_outside_the_receiving_team__refused(org, actor):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        _confirm(org, transfer, actor=getattr(org, actor))
    assert snapshot() == before


def test_confirm_booking__by_the_booking_system_itself(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    _confirm(org, transfer, actor=None)
    confirmed = transfer_events(transfer, TransferAction.CONFIRM_BOOKING).get()
    assert (confirmed.actor, confirmed.actor_role) == (None, "system")


@pytest.mark.parametrize("outcome", [BookingStatus.NO_SHOW, BookingStatus.CANCELLED])
def test_rebook__interpreter_released_and_a_new_request(org, outcome):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    old = live(transfer)
    new = services.transfer_rebook(
        actor=org.front_desk, transfer=transfer, outcome=outcome, reason="Ill"
    )
    old = reload(old)
    assert (old.status, old.interpreter_status) == (outcome, InterpreterStatus.RELEASED)
    assert old.ended_at is not None
    assert new.pk != old.pk and new.status == BookingStatus.REQUESTED
    assert new.interpreter_status == InterpreterStatus.REQUESTED
    transfer = reload(transfer)
    assert transfer.state == TransferState.BOOKING_REQUESTED and transfer.booked_at is None
    rebooked = transfer_events(transfer, TransferAction.REBOOK).get()
    assert rebooked.params == {
        "outcome": outcome,
        "interpreter_released": True,
        "booking": new.pk,
    }
    assert rebooked.reason == "Ill"


@pytest.mark.parametrize("outcome", [BookingStatus.HELD, BookingStatus.CONFIRMED, "lost"])
def test_rebook__any_other_outcome__refused(org, outcome):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        services.transfer_rebook(actor=org.front_desk, transfer=transfer, outcome=outcome)
    assert list(refused.value.errors) == ["outcome"]
    assert snapshot() == before


@pytest.mark.parametrize("actor", ["caseworker", "outsider"])
def test_rebook_and_complete__by_someone_outside_the_receiving_team__refused(org, actor):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        services.transfer_rebook(
            actor=getattr(org, actor), transfer=transfer, outcome=BookingStatus.NO_SHOW
        )
    with pytest.raises(ActorNotAllowed):
        services.transfer_complete(actor=getattr(org, actor), transfer=transfer)
    assert snapshot() == before


def test_complete__held_the_interpreter_kept_the_case_transferred(org):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    services.transfer_complete(actor=org.front_desk, transfer=transfer)
    transfer = reload(transfer)
    assert transfer.state == TransferState.COMPLETED and transfer.completed_at is not None
    booking = transfer.bookings.get()
    assert booking.status == BookingStatus.HELD and booking.ended_at is not None
    assert booking.interpreter_status == InterpreterStatus.BOOKED  # held: not released
    assert not Notification.objects.filter(kind=NotificationKind.INTERPRETER_FREE).exists()
    case = reload(transfer.case)
    assert case.state == CaseState.TRANSFERRED
    moved = case_events(case, CaseAction.COMPLETE_TRANSFER).get()
    assert moved.transfer_id == transfer.pk and moved.actor_role == Role.FRONT_DESK
    assert transfer_events(transfer, TransferAction.COMPLETE).get().actor_role == Role.FRONT_DESK


@pytest.mark.parametrize(
    "state", [TransferState.PROPOSED, TransferState.BOOKED, TransferState.CANCELLED]
)
def test_retry_booking__only_while_waiting_for_the_booking(org, state):
    transfer = transfer_in_state(org, state)
    before = snapshot()
    with pytest.raises(TransitionNotAllowed):
        services.transfer_retry_booking_request(actor=org.front_desk, transfer=transfer)
    assert snapshot() == before


def test_retry_booking__nothing_failed__conflict(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    with pytest.raises(Conflict):
        services.transfer_retry_booking_request(actor=org.caseworker, transfer=transfer)
    assert not transfer_events(transfer, TransferAction.RETRY_BOOKING).exists()


def test_retry_booking__failed_requests_sent_again_with_one_event(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    with mock.patch("transfers.handoff.retry_failed_requests", return_value=2) as retried:
        assert services.transfer_retry_booking_request(actor=org.caseworker, transfer=transfer) == 2
    retried.assert_called_once()
    event = transfer_events(transfer, TransferAction.RETRY_BOOKING).get()
    assert event.params == {"messages": 2}
    assert event.actor_role == Role.CASEWORKER
    assert event.from_state == event.to_state == TransferState.BOOKING_REQUESTED


def test_retry_booking__the_message_says_whose_role_is_needed(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    with pytest.raises(ActorNotAllowed) as refused:
        services.transfer_retry_booking_request(actor=org.outsider, transfer=transfer)
    assert str(org.adult) in refused.value.detail


# --- closing a case ----------------------------------------------------------------------------


def test_close__an_open_transfer_cancelled_the_case_closed_not_reopened(org):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    case = transfer.case
    services.case_close(actor=org.caseworker, case=case, reason=ClosureReason.MOVED_AWAY)
    transfer = reload(transfer)
    assert transfer.state == TransferState.CANCELLED
    assert transfer.cancel_reason == "The case was closed."
    assert transfer_events(transfer, TransferAction.CANCEL).get().params == {
        "interpreter_released": True
    }
    case = reload(case)
    assert case.state == CaseState.CLOSED and case.receiving_team is None
    assert not case_events(case, CaseAction.REOPEN_REVIEW).exists()
    assert not Review.objects.filter(case=case, completed_at__isnull=True).exists()
    closed = case_events(case, CaseAction.CLOSE).get()
    assert closed.params == {
        "reason": "moved_away",
        "at_cap": False,
        "decision": "",
        "home_base": None,  # none recorded: the closure record says so
        "home_base_reason": "",
    }
    assert closed.reason == "moved_away"
    assert (case.closure_reason, case.closure_text) == ("moved_away", "")
    assert case.closed_at is not None


def test_close__an_open_review_ends_as_closed(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    services.case_close(actor=org.caseworker, case=case, reason=ClosureReason.DECEASED)
    review = reload(review)
    assert review.outcome == ReviewOutcome.CLOSED and review.completed_at is not None


def test_close__other_needs_the_text_which_is_the_events_reason(org):
    case = open_case(org)
    with pytest.raises(InvalidInput) as refused:
        services.case_close(actor=org.caseworker, case=case, reason=ClosureReason.OTHER, text=" ")
    assert list(refused.value.errors) == ["text"]
    services.case_close(
        actor=org.caseworker, case=case, reason=ClosureReason.OTHER, text=" Returned home "
    )
    case = reload(case)
    assert case.closure_text == "Returned home"
    assert case_events(case, CaseAction.CLOSE).get().reason == "Returned home"


def test_close__an_unknown_reason__refused_naming_it(org):
    case = open_case(org)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        services.case_close(actor=org.caseworker, case=case, reason="bored")
    assert list(refused.value.errors) == ["reason"]
    assert snapshot() == before


@pytest.mark.parametrize("actor", ["receiving_supervisor", "outsider"])
def test_close__by_someone_outside_the_sending_team__refused(org, actor):
    transfer = transfer_in_state(org, TransferState.ACCEPTED)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        services.case_close(
            actor=getattr(org, actor), case=transfer.case, reason=ClosureReason.MOVED_AWAY
        )
    assert snapshot() == before


def test_close__a_closed_case__not_allowed(org):
    case = case_in_state(org, CaseState.CLOSED)
    with pytest.raises(TransitionNotAllowed):
        services.case_close(actor=org.caseworker, case=case, reason=ClosureReason.MOVED_AWAY)


# --- nothing half-written ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "step",
    ["propose", "accept", "return", "cancel", "request", "confirm", "rebook", "complete", "close"],
)
def test_services__event_cannot_be_written__the_change_is_undone(org, step):
    start = {
        "propose": None,
        "accept": TransferState.PROPOSED,
        "return": TransferState.PROPOSED,
        "cancel": TransferState.ACCEPTED,
        "request": TransferState.ACCEPTED,
        "confirm": TransferState.BOOKING_REQUESTED,
        "rebook": TransferState.BOOKED,
        "complete": TransferState.BOOKED,
        "close": TransferState.BOOKED,
    }[step]
    review = ready_review(org) if start is None else None
    transfer = transfer_in_state(org, start) if start else None
    before = snapshot()
    calls = {
        "propose": lambda: services.transfer_propose(
            consent_basis="consent", actor=org.caseworker, review=review
        ),
        "accept": lambda: bring_transfer_to(org, transfer, TransferState.ACCEPTED),
        "return": lambda: bring_transfer_to(org, transfer, TransferState.RETURNED),
        "cancel": lambda: services.transfer_cancel(
            actor=org.caseworker, transfer=transfer, reason="x"
        ),
        "request": lambda: services.transfer_request_booking(transfer=transfer),
        "confirm": lambda: _confirm(org, transfer),
        "rebook": lambda: services.transfer_rebook(
            actor=org.front_desk, transfer=transfer, outcome=BookingStatus.NO_SHOW
        ),
        "complete": lambda: services.transfer_complete(actor=org.front_desk, transfer=transfer),
        "close": lambda: services.case_close(
            actor=org.caseworker, case=transfer.case, reason=ClosureReason.MOVED_AWAY
        ),
    }
    failing = [
        mock.patch(f"transfers.services.{module}.{name}", side_effect=RuntimeError("down"))
        for module, name in [
            ("proposal", "transfer_event"),
            ("decisions", "transfer_event"),
            ("handover", "transfer_event"),
            ("proposal", "case_move"),
            ("decisions", "case_move"),
            ("handover", "case_move"),
            ("closure", "case_move"),
        ]
    ]
    for patch in failing:
        patch.start()
    try:
        with pytest.raises(RuntimeError):
            calls[step]()
    finally:
        for patch in failing:
            patch.stop()
    assert snapshot() == before
    assert HandoverBooking.objects.count() == len(before["transfers.HandoverBooking"])
    assert Transfer.objects.count() == len(before["transfers.Transfer"])


def test_accept__an_inactive_receiving_worker__refused(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    gone = member(org.adult, Role.RECEIVING_WORKER, is_active=False)
    with pytest.raises(InvalidInput):
        services.transfer_accept(
            actor=org.receiving_supervisor, transfer=transfer, receiving_worker=gone
        )
    assert reload(transfer).state == TransferState.PROPOSED


def test_close__other_as_a_form_or_the_api_sends_it__needs_the_text(org):
    case = open_case(org)
    other = "".join(["oth", "er"])  # a plain string, as read from a request
    with pytest.raises(InvalidInput) as refused:
        services.case_close(actor=org.caseworker, case=case, reason=other, text="")
    assert list(refused.value.errors) == ["text"]
    assert reload(case).state == CaseState.ACTIVE


def test_propose__the_routed_team_named_explicitly__not_recorded_as_overridden(org):
    review = ready_review(org)
    same_team = type(org.adult).objects.get(pk=org.adult.pk)  # as a form reads it
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=review, receiving_team=same_team
    )
    assert transfer.receiving_team == transfer.routed_team == org.adult
    assert transfer.override_reason == ""
    proposed = transfer_events(transfer, TransferAction.PROPOSE).get()
    assert proposed.params["overridden"] is False


def test_retry_booking__event_cannot_be_written__the_request_stays_failed(org):
    transfer = transfer_in_state(org, TransferState.ACCEPTED)
    OutboxMessage.objects.filter(key=f"booking:open:{transfer.pk}").update(
        status=OutboxStatus.FAILED, attempts=6, last_error="HTTP 503"
    )
    before = snapshot()
    with (
        mock.patch("transfers.services.handover.transfer_event", side_effect=RuntimeError("x")),
        pytest.raises(RuntimeError),
    ):
        services.transfer_retry_booking_request(actor=org.front_desk, transfer=transfer)
    assert snapshot() == before
    row = OutboxMessage.objects.get(key=f"booking:open:{transfer.pk}")
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 6)
