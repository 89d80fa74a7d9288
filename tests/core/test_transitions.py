"""The machinery every service shares (core/transitions.py): a transition the state does not
allow is refused naming the state and the allowed actions; a stale copy is refused as a
concurrent update; a model's validation errors come back per field."""

from __future__ import annotations

import pytest
from django.db import transaction

from cases.enums import CaseState
from cases.models import Case, Client
from core.errors import ConcurrentUpdate, InvalidInput, TransitionNotAllowed
from core.transitions import (
    action_name,
    allowed_actions,
    check_transition,
    full_clean_or_raise,
    lock,
    require_text,
    run_transition,
)
from tests.factories import open_case, reload, transfer_in_state
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


def test_check_transition__not_allowed__names_state_and_allowed_actions(org):
    case = open_case(org)
    check_transition(case, "mark_due")  # allowed: no error
    with pytest.raises(TransitionNotAllowed) as refused:
        check_transition(case, "start_review")
    assert refused.value.extra == {
        "action": "start_review",
        "state": CaseState.ACTIVE,
        "allowed": ["close", "mark_due"],
    }


def test_allowed_actions__the_user_facing_names(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    assert allowed_actions(transfer) == ["accept", "cancel", "request_information", "return"]
    assert action_name("return_to_sender") == "return"
    assert action_name("accept") == "accept"
    with pytest.raises(TransitionNotAllowed) as refused:
        check_transition(transfer, "complete")
    assert refused.value.extra["allowed"] == [
        "accept",
        "cancel",
        "request_information",
        "return",
    ]


def test_run_transition__returns_from_and_to_and_saves(org):
    case = lock(Case, open_case(org).pk)
    assert run_transition(case, "mark_due") == (CaseState.ACTIVE, CaseState.REVIEW_DUE)
    assert reload(case).state == CaseState.REVIEW_DUE


def test_run_transition__not_allowed__nothing_saved(org):
    case = open_case(org)
    with pytest.raises(TransitionNotAllowed):
        run_transition(case, "propose_transfer")
    assert reload(case).state == CaseState.ACTIVE


def test_run_transition__a_stale_copy__concurrent_update_and_the_first_change_kept(org):
    case = open_case(org)
    first, stale = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    run_transition(first, "mark_due")
    with pytest.raises(ConcurrentUpdate), transaction.atomic():  # as in a service
        run_transition(stale, "close", closure_reason="moved_away", text="", at=None)
    assert reload(case).state == CaseState.REVIEW_DUE


def test_full_clean_or_raise__errors_per_field(org):
    client = Client(first_name="", last_name="X", date_of_birth=None)
    with pytest.raises(InvalidInput) as refused:
        full_clean_or_raise(client)
    assert {"first_name", "date_of_birth"} <= set(refused.value.errors)
    assert all(isinstance(m, str) and m for m in refused.value.errors.values())


def test_full_clean_or_raise__valid__no_error(org):
    full_clean_or_raise(open_case(org).client)


@pytest.mark.parametrize("value", ["", "   ", None])
def test_require_text__blank__refused_naming_the_field(value):
    with pytest.raises(InvalidInput) as refused:
        require_text(value, "reason", "Give a reason.")
    assert refused.value.errors == {"reason": "Give a reason."}


def test_require_text__stripped():
    assert require_text("  Moved abroad ", "reason", "x") == "Moved abroad"
