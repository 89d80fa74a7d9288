"""The transition table of both machines, every (state, action) pair.

An allowed pair reaches its target and writes exactly one event row for its machine's
subject; a forbidden pair raises TransitionNotAllowed naming the state and the allowed
actions, and changes nothing at all (every row of every Silta table is compared).

The case machine's reopen_review and complete_transfer are driven only by the transfer
machine (return, cancel, complete); the transfer table asserts the case's state for them.
"""

import datetime as dt
import itertools

import pytest

from cases import services as case_services
from cases.enums import CaseState
from cases.models import Case, Event
from core import clock
from core.errors import TransitionNotAllowed
from core.transitions import allowed_actions
from criteria import services as criteria_services
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from tests.factories import (
    assess_all_met,
    bring_transfer_to,
    case_in_state,
    handover_slot,
    open_case,
    reload,
    transfer_in_state,
)
from tests.snapshot import snapshot
from transfers import services
from transfers.enums import BookingStatus, TransferState
from transfers.models import Transfer

pytestmark = pytest.mark.django_db

CASE_ALLOWED = {
    (CaseState.ACTIVE, "mark_due"): CaseState.REVIEW_DUE,
    (CaseState.ACTIVE, "close"): CaseState.CLOSED,
    (CaseState.REVIEW_DUE, "start_review"): CaseState.IN_REVIEW,
    (CaseState.REVIEW_DUE, "close"): CaseState.CLOSED,
    (CaseState.IN_REVIEW, "complete_not_ready"): CaseState.ACTIVE,
    (CaseState.IN_REVIEW, "propose_transfer"): CaseState.TRANSFER_PENDING,
    (CaseState.IN_REVIEW, "close"): CaseState.CLOSED,
    (CaseState.TRANSFER_PENDING, "close"): CaseState.CLOSED,
}
CASE_ACTIONS = ["mark_due", "start_review", "complete_not_ready", "propose_transfer", "close"]
# The actions each case state offers, including the two the transfer machine drives.
CASE_STATE_ACTIONS = {
    CaseState.ACTIVE: ["close", "mark_due"],
    CaseState.REVIEW_DUE: ["close", "start_review"],
    CaseState.IN_REVIEW: ["close", "complete_not_ready", "propose_transfer"],
    CaseState.TRANSFER_PENDING: ["close", "complete_transfer", "reopen_review"],
    CaseState.TRANSFERRED: [],
    CaseState.CLOSED: [],
}

TRANSFER_ALLOWED = {
    (TransferState.PROPOSED, "accept"): TransferState.ACCEPTED,
    (TransferState.PROPOSED, "return"): TransferState.RETURNED,
    (TransferState.PROPOSED, "cancel"): TransferState.CANCELLED,
    (TransferState.PROPOSED, "request_information"): TransferState.INFORMATION_REQUESTED,
    (TransferState.INFORMATION_REQUESTED, "answer_information"): TransferState.PROPOSED,
    (TransferState.INFORMATION_REQUESTED, "return"): TransferState.RETURNED,
    (TransferState.INFORMATION_REQUESTED, "cancel"): TransferState.CANCELLED,
    (TransferState.ACCEPTED, "request_booking"): TransferState.BOOKING_REQUESTED,
    (TransferState.ACCEPTED, "cancel"): TransferState.CANCELLED,
    (TransferState.BOOKING_REQUESTED, "confirm_booking"): TransferState.BOOKED,
    (TransferState.BOOKING_REQUESTED, "cancel"): TransferState.CANCELLED,
    (TransferState.BOOKED, "rebook"): TransferState.BOOKING_REQUESTED,
    (TransferState.BOOKED, "complete"): TransferState.COMPLETED,
    (TransferState.BOOKED, "cancel"): TransferState.CANCELLED,
}
TRANSFER_ACTIONS = [
    "accept",
    "return",
    "request_information",
    "answer_information",
    "request_booking",
    "confirm_booking",
    "rebook",
    "complete",
    "cancel",
]
# What the case becomes when the transfer action succeeds.
CASE_AFTER_TRANSFER_ACTION = {
    "return": CaseState.IN_REVIEW,
    "cancel": CaseState.IN_REVIEW,
    "complete": CaseState.TRANSFERRED,
}


def _case_with_history(org, state: str, action: str) -> Case:
    """A case in `state`, reached through a path that left a review behind, so every
    review-taking action has a review to be called with."""
    if state in (CaseState.ACTIVE, CaseState.REVIEW_DUE):
        case = case_in_state(org, CaseState.IN_REVIEW)
        _one_unmet(org, case)
        criteria_services.review_complete_not_ready(
            actor=org.caseworker,
            review=open_review_of(case),
            next_review_on=clock.today() + dt.timedelta(days=180),
        )
        if state == CaseState.REVIEW_DUE:
            case_services.case_mark_due(case=case)
        return reload(case)
    if state == CaseState.CLOSED:
        case = case_in_state(org, CaseState.IN_REVIEW)
        services.case_close(actor=org.caseworker, case=case, reason="moved_away")
        return reload(case)
    case = case_in_state(org, state)
    if state == CaseState.IN_REVIEW:
        if action == "propose_transfer":
            assess_all_met(org, case)
        else:
            _one_unmet(org, case)
    return reload(case)


def _one_unmet(org, case):
    assessment = open_review_of(case).assessments.get(criterion__code="finances")
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=assessment,
        status=AssessmentStatus.NOT_MET,
        plan_action="Debt counselling",
        plan_owner="Caseworker",
    )


def _do_case_action(org, case: Case, action: str):
    review = case.reviews.order_by("-started_at", "-id").first()
    if action == "mark_due":
        return case_services.case_mark_due(case=case, actor=org.caseworker)
    if action == "start_review":
        return criteria_services.review_start(actor=org.caseworker, case=case)
    if action == "complete_not_ready":
        return criteria_services.review_complete_not_ready(
            actor=org.caseworker,
            review=review,
            next_review_on=clock.today() + dt.timedelta(days=180),
        )
    if action == "propose_transfer":
        return services.transfer_propose(
            consent_basis="consent", actor=org.caseworker, review=review
        )
    if action == "close":
        return services.case_close(actor=org.caseworker, case=case, reason="moved_away")
    raise AssertionError(action)


def _do_transfer_action(org, transfer: Transfer, action: str):
    if action == "accept":
        return services.transfer_accept(
            actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
        )
    if action == "return":
        return services.transfer_return(
            actor=org.receiving_worker,
            transfer=transfer,
            reason="not_ready",
            text="Finances unclear",
        )
    if action == "request_information":
        return services.transfer_request_information(
            actor=org.receiving_worker, transfer=transfer, text="Is the rent plan in place?"
        )
    if action == "answer_information":
        return services.transfer_answer_information(
            actor=org.caseworker, transfer=transfer, text="Yes, since May."
        )
    if action == "request_booking":
        return services.transfer_request_booking(transfer=transfer)
    if action == "confirm_booking":
        return services.transfer_confirm_booking(
            actor=org.front_desk,
            transfer=transfer,
            starts_at=handover_slot(days=3),
            place="Malmi",
            interpreter="Booked",
        )
    if action == "rebook":
        return services.transfer_rebook(
            actor=org.front_desk, transfer=transfer, outcome=BookingStatus.NO_SHOW
        )
    if action == "complete":
        return services.transfer_complete(actor=org.receiving_worker, transfer=transfer)
    if action == "cancel":
        return services.transfer_cancel(
            actor=org.caseworker, transfer=transfer, reason="Client moved abroad"
        )
    raise AssertionError(action)


def _events(subject: str, **lookup) -> int:
    return Event.objects.filter(subject=subject, **lookup).count()


def test_case_table__matches_the_state_machine_declared_on_the_model(org):
    for state, expected in CASE_STATE_ACTIONS.items():
        case = _case_with_history(org, state, "close")
        assert allowed_actions(case) == sorted(expected), state


@pytest.mark.parametrize(
    ("state", "action"), list(itertools.product(CaseState.values, CASE_ACTIONS))
)
def test_case_transition(org, state, action):
    case = _case_with_history(org, state, action)
    assert case.state == state
    before_events = _events("case", case=case)
    target = CASE_ALLOWED.get((state, action))

    if target is not None:
        _do_case_action(org, case, action)
        assert reload(case).state == target
        assert _events("case", case=case) == before_events + 1
    else:
        before = snapshot()
        with pytest.raises(TransitionNotAllowed) as raised:
            _do_case_action(org, case, action)
        assert raised.value.extra["state"] == state
        assert raised.value.extra["allowed"] == sorted(CASE_STATE_ACTIONS[state])
        assert snapshot() == before


@pytest.mark.parametrize(
    ("state", "action"), list(itertools.product(TransferState.values, TRANSFER_ACTIONS))
)
def test_transfer_transition(org, state, action):
    transfer = transfer_in_state(org, state)
    assert transfer.state == state
    before_events = _events("transfer", transfer=transfer)
    target = TRANSFER_ALLOWED.get((state, action))

    if target is not None:
        _do_transfer_action(org, transfer, action)
        transfer = reload(transfer)
        assert transfer.state == target
        assert _events("transfer", transfer=transfer) == before_events + 1
        expected_case = CASE_AFTER_TRANSFER_ACTION.get(action, CaseState.TRANSFER_PENDING)
        assert transfer.case.state == expected_case
    else:
        allowed = sorted(a for (s, a) in TRANSFER_ALLOWED if s == state)
        assert allowed_actions(transfer) == allowed
        before = snapshot()
        with pytest.raises(TransitionNotAllowed) as raised:
            _do_transfer_action(org, transfer, action)
        assert raised.value.extra["state"] == state
        assert raised.value.extra["allowed"] == allowed
        assert snapshot() == before


def test_transfer__rebook_after_no_show__releases_interpreter_and_requests_again(org):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    services.transfer_rebook(actor=org.front_desk, transfer=transfer, outcome=BookingStatus.NO_SHOW)
    ended, live = transfer.bookings.order_by("id")
    assert (ended.status, ended.interpreter_status) == ("no_show", "released")
    assert (live.status, live.interpreter_status) == ("requested", "requested")
    event = Event.objects.filter(transfer=transfer, action="rebook").get()
    assert event.params["interpreter_released"] is True


def test_case__close_while_transfer_pending__cancels_the_transfer_too(org):
    case = case_in_state(org, CaseState.TRANSFER_PENDING)
    services.case_close(actor=org.caseworker, case=case, reason="deceased")
    assert reload(case).state == CaseState.CLOSED
    assert case.transfers.get().state == TransferState.CANCELLED
    assert open_review_of(case) is None


def test_transfer__return_then_propose_again__uses_a_new_review(org):
    transfer = transfer_in_state(org, TransferState.RETURNED)
    case = reload(transfer.case)
    review = open_review_of(case)
    assert review.pk != transfer.review_id
    # The new review starts from the previous assessments: all still met.
    second = services.transfer_propose(consent_basis="consent", actor=org.caseworker, review=review)
    assert second.state == TransferState.PROPOSED
    assert reload(case).state == CaseState.TRANSFER_PENDING


def test_transfer__completed_path_via_factory_is_consistent(org):
    case = open_case(org)
    case_services.case_mark_due(case=case)
    criteria_services.review_start(actor=org.caseworker, case=case)
    assess_all_met(org, case)
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
    )
    bring_transfer_to(org, transfer, TransferState.COMPLETED)
    assert reload(case).state == CaseState.TRANSFERRED
    assert transfer.bookings.get().status == "held"
