"""A household moves together: one transfer per member's case in one transaction (all or
nothing, one team), refused naming who is not ready and why; accepted or returned as one;
one handover booking for the household, confirmed and held as one."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import OperationalError, connection, transaction
from django.utils import translation

from cases import services as case_services
from cases.enums import CaseAction, CaseState, Role, TeamKind
from cases.models import Case, Event, Team
from core.errors import CriteriaNotMet
from tests.database import wait_until_blocked
from tests.factories import (
    assess_all_met,
    case_in_state,
    handover_slot,
    make_client,
    make_org,
    member,
    reload,
)
from transfers import services
from transfers.enums import TransferState
from transfers.models import HandoverBooking, Transfer

pytestmark = pytest.mark.django_db


def ready_case(org, **client):
    case = case_in_state(org, CaseState.IN_REVIEW, **client)
    assess_all_met(org, case)
    return case


def family(org, *, second_ready=True):
    parent = ready_case(org, first_name="Amina", last_name="Mäkinen", interpreter_needed=False)
    spouse = (
        ready_case(org, first_name="Omar", last_name="Mäkinen", interpreter_needed=True)
        if second_ready
        else case_in_state(org, CaseState.IN_REVIEW, first_name="Omar", last_name="Mäkinen")
    )
    child = make_client(
        org, first_name="Sara", last_name="Mäkinen", date_of_birth=dt.date(2016, 1, 1)
    )
    household = case_services.household_link(
        actor=org.caseworker, client=parent.client, member=spouse.client, relation="spouse"
    )
    case_services.household_link(
        actor=org.caseworker, client=parent.client, member=child, relation="child"
    )
    return household, parent, spouse


def test_household_propose__one_transfer_per_members_case_to_one_team(org):
    household, parent, spouse = family(org)
    transfers = services.household_transfer_propose(
        consent_basis="consent", actor=org.caseworker, household=household
    )
    assert sorted(t.case_id for t in transfers) == sorted([parent.pk, spouse.pk])
    assert {t.receiving_team for t in transfers} == {org.adult}
    assert {t.household_id for t in transfers} == {household.pk}
    assert {reload(c).state for c in (parent, spouse)} == {CaseState.TRANSFER_PENDING}


def test_household_propose__a_member_not_ready__refused_naming_who_nothing_written(org):
    household, parent, spouse = family(org, second_ready=False)
    with translation.override("en"), pytest.raises(CriteriaNotMet) as refused:
        services.household_transfer_propose(
            consent_basis="consent", actor=org.caseworker, household=household
        )
    assert refused.value.detail.startswith("The household is not ready for transfer: ")
    assert "Omar Mäkinen: not ready" in refused.value.detail
    assert "Amina" not in refused.value.detail  # the ready member is not a problem
    assert not Transfer.objects.exists()
    assert {reload(c).state for c in (parent, spouse)} == {CaseState.IN_REVIEW}


def test_household_propose__a_member_outside_the_scope__counted_not_named(org):
    household, _parent, spouse = family(org)
    other = Team.objects.create(
        code="koto4", name="Koto-tiimi 4", kind=TeamKind.IMMIGRATION_UNIT, region=org.koto.region
    )
    member(other, Role.CASEWORKER)
    Case.objects.filter(pk=spouse.pk).update(team=other)
    with translation.override("en"), pytest.raises(CriteriaNotMet) as refused:
        services.household_transfer_propose(
            consent_basis="consent", actor=org.caseworker, household=household
        )
    assert "Omar" not in refused.value.detail
    assert "1 member of the household is not in your caseload" in refused.value.detail
    assert not Transfer.objects.exists()


def test_household_propose__a_later_member_fails__the_first_transfer_is_undone(org, monkeypatch):
    """All or nothing even when a member's own proposal fails after another's succeeded."""
    household, parent, spouse = family(org)
    real = services.household.transfer_propose
    calls = []

    def second_fails(**kwargs):
        calls.append(kwargs["review"].case_id)
        if len(calls) == 2:
            raise services.household.CriteriaNotMet(reasons=["changed meanwhile"])
        return real(**kwargs)

    monkeypatch.setattr(services.household, "transfer_propose", second_fails)
    with pytest.raises(services.household.CriteriaNotMet):
        services.household_transfer_propose(
            consent_basis="consent", actor=org.caseworker, household=household
        )
    assert len(calls) == 2
    assert not Transfer.objects.exists()
    assert {reload(c).state for c in (parent, spouse)} == {CaseState.IN_REVIEW}


def test_household_accept__accepting_one_accepts_the_household(org):
    household, _parent, _spouse = family(org)
    first, second = services.household_transfer_propose(
        consent_basis="consent", actor=org.caseworker, household=household
    )
    services.transfer_accept_together(
        actor=org.receiving_worker, transfer=second, receiving_worker=org.receiving_worker
    )
    assert {reload(t).state for t in (first, second)} == {TransferState.ACCEPTED}


def test_household_return__returning_one_returns_the_household(org):
    household, parent, spouse = family(org)
    first, second = services.household_transfer_propose(
        consent_basis="consent", actor=org.caseworker, household=household
    )
    services.transfer_return_together(
        actor=org.receiving_worker,
        transfer=first,
        reason="missing_information",
        text="Housing unclear for the family",
    )
    assert {reload(t).state for t in (first, second)} == {TransferState.RETURNED}
    assert {reload(c).state for c in (parent, spouse)} == {CaseState.IN_REVIEW}


def test_household_handover__one_booking_confirmed_and_held_as_one(org):
    household, parent, spouse = family(org)
    first, second = services.household_transfer_propose(
        consent_basis="consent", actor=org.caseworker, household=household
    )
    services.transfer_accept_together(
        actor=org.receiving_worker, transfer=first, receiving_worker=org.receiving_worker
    )
    booking = services.transfer_request_booking(transfer=first)
    assert HandoverBooking.objects.count() == 1
    assert {reload(t).state for t in (first, second)} == {TransferState.BOOKING_REQUESTED}
    # The spouse needs an interpreter: the household's one request asks for one.
    assert booking.interpreter_language == "ara"

    services.transfer_confirm_booking(
        actor=org.front_desk,
        transfer=second,
        starts_at=handover_slot(),
        place="Malmi FrontDesk",
        interpreter="Booking 123",
    )
    assert {reload(t).state for t in (first, second)} == {TransferState.BOOKED}

    with time_machine.travel(handover_slot() + dt.timedelta(minutes=5), tick=False):
        services.transfer_complete(actor=org.receiving_worker, transfer=first)
    assert {reload(t).state for t in (first, second)} == {TransferState.COMPLETED}
    assert {reload(c).state for c in (parent, spouse)} == {CaseState.TRANSFERRED}
    assert HandoverBooking.objects.get().status == "held"


def test_household_handover__held_recorded_on_any_members_transfer_moves_every_case(org):
    """The receiving worker may record the household's handover as held on whichever
    member's transfer they open: every member's transfer completes and each member's own
    case becomes transferred."""
    household, parent, spouse = family(org)
    transfers = services.household_transfer_propose(
        consent_basis="consent", actor=org.caseworker, household=household
    )
    services.transfer_accept_together(
        actor=org.receiving_worker, transfer=transfers[0], receiving_worker=org.receiving_worker
    )
    services.transfer_request_booking(transfer=transfers[0])
    services.transfer_confirm_booking(
        actor=org.front_desk,
        transfer=transfers[0],
        starts_at=handover_slot(),
        place="Malmi FrontDesk",
        interpreter="Booking 123",
    )
    latest = max(transfers, key=lambda t: t.pk)
    with time_machine.travel(handover_slot() + dt.timedelta(minutes=5), tick=False):
        services.transfer_complete(actor=org.receiving_worker, transfer=reload(latest))
    assert {reload(t).state for t in transfers} == {TransferState.COMPLETED}
    assert {reload(c).state for c in (parent, spouse)} == {CaseState.TRANSFERRED}
    moved = Event.objects.filter(action=CaseAction.COMPLETE_TRANSFER)
    assert sorted(e.case_id for e in moved) == sorted([parent.pk, spouse.pk])


def test_household_handover__a_no_show_books_the_household_again_once(org):
    household, _parent, _spouse = family(org)
    first, second = services.household_transfer_propose(
        consent_basis="consent", actor=org.caseworker, household=household
    )
    services.transfer_accept_together(
        actor=org.receiving_worker, transfer=first, receiving_worker=org.receiving_worker
    )
    services.transfer_request_booking(transfer=first)
    services.transfer_confirm_booking(
        actor=org.front_desk,
        transfer=first,
        starts_at=handover_slot(),
        place="Malmi FrontDesk",
        interpreter="Booking 123",
    )
    with time_machine.travel(handover_slot() + dt.timedelta(minutes=5), tick=False):
        services.transfer_rebook(actor=org.front_desk, transfer=second, outcome="no_show")
    assert {reload(t).state for t in (first, second)} == {TransferState.BOOKING_REQUESTED}
    assert HandoverBooking.objects.filter(status="requested").count() == 1


@pytest.mark.parametrize("booked", [False, True], ids=["requested", "booked"])
def test_household_cancel__the_booking_holders_transfer__the_others_keep_the_booking(org, booked):
    household, _parent, _spouse = family(org)
    first, second = services.household_transfer_propose(
        consent_basis="consent", actor=org.caseworker, household=household
    )
    services.transfer_accept_together(
        actor=org.receiving_worker, transfer=first, receiving_worker=org.receiving_worker
    )
    booking = services.transfer_request_booking(transfer=first)
    holder = booking.transfer
    other = second if holder.pk == first.pk else first
    if booked:
        services.transfer_confirm_booking(
            actor=org.front_desk,
            transfer=holder,
            starts_at=handover_slot(),
            place="Malmi FrontDesk",
            interpreter="Booking 123",
        )

    services.transfer_cancel(actor=org.caseworker, transfer=holder, reason="Moved to Espoo")

    assert reload(holder).state == TransferState.CANCELLED
    booking = reload(booking)
    assert booking.transfer_id == other.pk  # passed on, not cancelled
    assert booking.status == ("confirmed" if booked else "requested")
    # The one still going goes on: confirmed (or held) through its own transfer, no 500.
    if not booked:
        services.transfer_confirm_booking(
            actor=org.front_desk,
            transfer=other,
            starts_at=handover_slot(),
            place="Malmi FrontDesk",
            interpreter="Booking 123",
        )
    with time_machine.travel(handover_slot() + dt.timedelta(minutes=5), tick=False):
        services.transfer_complete(actor=org.receiving_worker, transfer=other)
    assert reload(other).state == TransferState.COMPLETED
    assert reload(booking).status == "held"


def test_household_cancel__the_last_member__the_booking_is_cancelled(org):
    household, _parent, _spouse = family(org)
    first, second = services.household_transfer_propose(
        consent_basis="consent", actor=org.caseworker, household=household
    )
    services.transfer_accept_together(
        actor=org.receiving_worker, transfer=first, receiving_worker=org.receiving_worker
    )
    booking = services.transfer_request_booking(transfer=first)
    for transfer in (second, first):
        services.transfer_cancel(actor=org.caseworker, transfer=transfer, reason="Moved away")
    assert reload(booking).status == "cancelled"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_household_propose__locks_the_cases_in_id_order__no_deadlock_with_another_writer():
    """Every writer that locks several cases locks them in id order (a supervisor moving a
    worker's cases, a household's handover), so two of them wait for each other but never
    in a cycle. A household's proposal does too, whatever order its members joined in: it
    waits at the first case another writer holds, without holding the next one."""
    org = make_org()
    # The spouse's case is the older one; the parent joined the household first.
    spouse = ready_case(org, first_name="Omar", last_name="Mäkinen")
    parent = ready_case(org, first_name="Amina", last_name="Mäkinen")
    household = case_services.household_link(
        actor=org.caseworker, client=parent.client, member=spouse.client, relation="spouse"
    )
    outcome: dict[str, object] = {}

    def propose() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            outcome["proposed"] = services.household_transfer_propose(
                consent_basis="consent", actor=org.caseworker, household=household
            )
        except Exception as exc:  # asserted below
            outcome["proposed"] = exc
        finally:
            connection.close()

    with transaction.atomic():
        # The other writer holds the first case (in id order): the spouse's.
        Case.objects.select_for_update().get(pk=spouse.pk)
        thread = threading.Thread(target=propose)
        thread.start()
        wait_until_blocked(outcome, "the proposal")
        # ... and goes on to the next: the proposal must not be holding it.
        try:
            with transaction.atomic():
                Case.objects.select_for_update(nowait=True).get(pk=parent.pk)
            took_the_next = True
        except OperationalError:
            took_the_next = False
    thread.join(timeout=60)
    assert took_the_next
    proposed = outcome["proposed"]
    assert isinstance(proposed, list), proposed
    assert sorted(t.case_id for t in proposed) == sorted([parent.pk, spouse.pk])
