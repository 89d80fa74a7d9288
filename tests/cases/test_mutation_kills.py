"""Rules of cases/services.py that the mutation run (make mutate) found untested or tested
only on one side: each test here kills mutants that changed behaviour with every other
test still green (see mutation/reports/cases-services.md)."""

from __future__ import annotations

import dataclasses

import pytest
from django.utils import translation

from cases import services as case_services
from cases.enums import CaseState, ClientAction, HouseholdRelation, Role
from cases.models import Client, Event, Household, HouseholdMember
from cases.selectors import household_members_of
from core.errors import Conflict, InvalidInput
from notifications.models import Notification, NotificationKind
from tests.factories import (
    case_in_state,
    client_data,
    make_client,
    member,
    open_case,
    reload,
    transfer_in_state,
)
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


def joins(client):
    return Event.objects.filter(client=client, action=ClientAction.HOUSEHOLD_JOIN).count()


def test_household_link__a_client_with_themselves__refused_nothing_written(org):
    # An id past CPython's cache of small ints: two reads of it are two int objects.
    client = Client.objects.create(pk=100_000, **client_data())
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        case_services.household_link(
            actor=org.caseworker,
            client=client,
            member=Client.objects.get(pk=client.pk),  # the same client, read again
            relation="child",
        )
    assert refused.value.errors == {"member": "Choose another client than this one."}
    assert not Household.objects.exists() and joins(client) == 0


def test_household_link__a_bad_relation_of_the_first_client__refused_nothing_written(org):
    parent, child = make_client(org), make_client(org, first_name="Sara")
    with pytest.raises(InvalidInput) as refused:
        case_services.household_link(
            actor=org.caseworker,
            client=parent,
            member=child,
            relation=HouseholdRelation.CHILD,
            client_relation="cousin",
        )
    assert set(refused.value.errors) == {"relation"}
    assert not Household.objects.exists() and not HouseholdMember.objects.exists()


def test_household_link__a_third_member_joins_the_same_household(org):
    parent = make_client(org, first_name="Amina")
    spouse = make_client(org, first_name="Omar")
    child = make_client(org, first_name="Sara")
    household = case_services.household_link(
        actor=org.caseworker,
        client=parent,
        member=spouse,
        relation=HouseholdRelation.SPOUSE,
        client_relation=HouseholdRelation.OTHER_ADULT,
    )
    again = case_services.household_link(
        actor=org.caseworker, client=parent, member=child, relation=HouseholdRelation.CHILD
    )
    assert again.pk == household.pk and Household.objects.count() == 1
    members = {m.client_id: m.relation for m in household_members_of(child)}
    assert members == {
        parent.pk: HouseholdRelation.OTHER_ADULT,  # as first linked, not the default again
        spouse.pk: HouseholdRelation.SPOUSE,
        child.pk: HouseholdRelation.CHILD,
    }
    assert (joins(parent), joins(spouse), joins(child)) == (1, 1, 1)


def test_household_leave__one_of_three__the_others_stay_together(org):
    a, b, c = (make_client(org, first_name=name) for name in ("A", "B", "C"))
    household = case_services.household_link(
        actor=org.caseworker, client=a, member=b, relation="child"
    )
    case_services.household_link(actor=org.caseworker, client=a, member=c, relation="child")
    case_services.household_leave(actor=org.caseworker, client=b)
    assert {m.client_id for m in household_members_of(a)} == {a.pk, c.pk}
    assert household_members_of(b) == []
    leaves = Event.objects.filter(action=ClientAction.HOUSEHOLD_LEAVE)
    assert [(e.client_id, e.params) for e in leaves] == [(b.pk, {"household": household.pk})]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_household_leave__in_autocommit_it_runs_in_a_transaction_of_its_own(org):
    """Called outside any transaction (a shell, a worker), the client still leaves under
    the client's lock, with the membership and the event written together."""
    a, b, c = (make_client(org, first_name=name) for name in ("A", "B", "C"))
    household = case_services.household_link(
        actor=org.caseworker, client=a, member=b, relation="child"
    )
    case_services.household_link(actor=org.caseworker, client=a, member=c, relation="child")
    case_services.household_leave(actor=org.caseworker, client=b)
    assert {m.client_id for m in household_members_of(a)} == {a.pk, c.pk}
    leaves = Event.objects.filter(action=ClientAction.HOUSEHOLD_LEAVE)
    assert [(e.client_id, e.params) for e in leaves] == [(b.pk, {"household": household.pk})]


def test_household_leave__the_last_two_part__both_leave_events(org):
    a, b = make_client(org), make_client(org, first_name="B")
    household = case_services.household_link(
        actor=org.caseworker, client=a, member=b, relation="child"
    )
    case_services.household_leave(actor=org.caseworker, client=b)
    leaves = Event.objects.filter(action=ClientAction.HOUSEHOLD_LEAVE).order_by("id")
    assert [(e.client_id, e.params) for e in leaves] == [
        (b.pk, {"household": household.pk}),
        (a.pk, {"household": household.pk}),
    ]


def test_household_leave__a_client_in_no_household__conflict(org):
    client = make_client(org)
    with pytest.raises(Conflict):
        case_services.household_leave(actor=org.caseworker, client=client)
    assert not Event.objects.filter(action=ClientAction.HOUSEHOLD_LEAVE).exists()


def test_household_leave__a_client_outside_the_scope__refused_as_not_found(org):
    a, b = make_client(org), make_client(org, first_name="B")
    case_services.household_link(actor=org.caseworker, client=a, member=b, relation="child")
    with pytest.raises(InvalidInput) as refused:
        case_services.household_leave(actor=org.outsider, client=b)
    assert set(refused.value.errors) == {"member"}
    assert HouseholdMember.objects.count() == 2


@pytest.mark.parametrize("who", ["caseworker", "koto_supervisor", None])
def test_case_mark_due__the_responsible_worker_told_only_of_someone_elses_action(org, who):
    case = open_case(org, started_months_ago=6)
    case_services.case_mark_due(case=case, actor=getattr(org, who) if who else None)
    told = Notification.objects.filter(kind=NotificationKind.REVIEW_BROUGHT_FORWARD)
    expected = [org.caseworker.pk] if who == "koto_supervisor" else []
    assert list(told.values_list("recipient_id", flat=True)) == expected
    assert all(note.link == f"/cases/{case.pk}/" for note in told)


def test_client_update__a_transferred_case__the_sending_team_only_reads(org):
    case = case_in_state(org, CaseState.TRANSFERRED)
    address = case.client.street_address
    with pytest.raises(Conflict):
        case_services.client_update(
            actor=org.caseworker, client=case.client, street_address="Kaivokatu 2"
        )
    assert reload(case.client).street_address == address
    assert not Event.objects.filter(client=case.client, action=ClientAction.UPDATE).exists()


def test_case_hand_to__the_accepting_team_and_its_named_worker_then_none_again(org):
    transfer = transfer_in_state(org, TransferState.ACCEPTED)
    case = reload(transfer.case)
    assert (case.receiving_team, case.receiving_worker) == (
        transfer.receiving_team,
        org.receiving_worker,
    )
    case_services.case_hand_to(case, team=None, worker=org.receiving_worker)
    case = reload(case)
    assert (case.receiving_team, case.receiving_worker) == (None, None)


def test_case_mark_due__the_responsible_worker_told_whatever_the_order_of_the_ids(org):
    """The worker is told of a supervisor's action whether their id is larger or smaller
    than the supervisor's (here larger, as for a worker who joined later)."""
    worker = member(org.koto, Role.CASEWORKER, id=900_001)
    assert worker.pk > org.koto_supervisor.pk
    case = open_case(dataclasses.replace(org, caseworker=worker), started_months_ago=6)
    assert case.responsible_worker_id == worker.pk
    case_services.case_mark_due(case=case, actor=org.koto_supervisor)
    told = Notification.objects.filter(kind=NotificationKind.REVIEW_BROUGHT_FORWARD)
    assert list(told.values_list("recipient_id", flat=True)) == [worker.pk]
