"""The guards of the cases services, proved where they are enforced: calling the service
itself, as a page, the API or the admin would. Each refusal changes nothing at all."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import translation

from cases import services as case_services
from cases.enums import CaseAction, CaseState, ClosureReason, Role
from cases.models import Case, Client, Event
from core import clock
from core.errors import ActorNotAllowed, CapReached, Conflict, InvalidInput
from criteria import services as criteria_services
from tests.factories import (
    case_in_state,
    client_data,
    make_client,
    member,
    open_case,
    reload,
)
from tests.snapshot import snapshot
from transfers import services

pytestmark = pytest.mark.django_db


def _open(org, *, responsible_worker, actor=None, team=None):
    return criteria_services.case_open(
        actor=actor or org.caseworker,
        client=make_client(org),
        team=team or org.koto,
        responsible_worker=responsible_worker,
        integration_started_on=clock.today() - relativedelta(months=3),
    )


# --- opening a case: the responsible worker is an active caseworker of that team ---------


def test_case_open__a_caseworker_of_the_team__is_the_responsible_worker(org):
    colleague = member(org.koto, Role.CASEWORKER)
    case = _open(org, responsible_worker=colleague)
    assert reload(case).responsible_worker == colleague
    assert case.events.get().action == CaseAction.OPEN


@pytest.mark.parametrize("who", ["supervisor", "other_team", "regional", "inactive"])
def test_case_open__responsible_worker_not_an_active_caseworker_of_the_team__refused(org, who):
    other_unit = type(org.koto).objects.create(
        code="koto1", name="Koto-tiimi 1", kind=org.koto.kind, region=org.koto.region
    )
    worker = {
        "supervisor": lambda: org.koto_supervisor,
        "other_team": lambda: member(other_unit, Role.CASEWORKER),
        "regional": lambda: org.receiving_worker,
        "inactive": lambda: member(org.koto, Role.CASEWORKER, is_active=False),
    }[who]()
    client = make_client(org)
    before = snapshot()
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        criteria_services.case_open(
            actor=org.caseworker,
            client=client,
            team=org.koto,
            responsible_worker=worker,
            integration_started_on=clock.today() - relativedelta(months=3),
        )
    assert list(refused.value.errors) == ["responsible_worker"]
    assert "active caseworker" in refused.value.errors["responsible_worker"]
    assert snapshot() == before


def test_case_open__in_a_regional_team__refused_naming_the_team(org):
    with pytest.raises(InvalidInput) as refused:
        _open(
            org,
            responsible_worker=org.receiving_worker,
            actor=org.receiving_supervisor,
            team=org.adult,
        )
    assert list(refused.value.errors) == ["team"]
    assert not Case.objects.exists()


@pytest.mark.parametrize("actor", ["receiving_worker", "outsider", "front_desk"])
def test_case_open__by_someone_without_a_sending_role_in_the_team__refused(org, actor):
    client = make_client(org)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        criteria_services.case_open(
            actor=getattr(org, actor),
            client=client,
            team=org.koto,
            responsible_worker=org.caseworker,
            integration_started_on=clock.today() - relativedelta(months=3),
        )
    assert snapshot() == before


def test_case_open__the_supervisor_opens_for_a_caseworker(org):
    case = _open(org, responsible_worker=org.caseworker, actor=org.koto_supervisor)
    event = case.events.get()
    assert (event.actor, event.actor_role) == (org.koto_supervisor, Role.SUPERVISOR)
    assert event.params == {"review_due_on": case.review_due_on.isoformat()}
    assert event.from_state == "" and event.to_state == CaseState.ACTIVE


def test_case_open__a_second_open_case__conflict_and_the_first_kept(org):
    case = open_case(org)
    with pytest.raises(Conflict):
        criteria_services.case_open(
            actor=org.caseworker,
            client=case.client,
            team=org.koto,
            responsible_worker=org.caseworker,
            integration_started_on=clock.today(),
        )
    assert list(Case.objects.all()) == [case]


# --- the PPT coordinator: named by the sending team, never on an ended case --------------


@pytest.mark.parametrize("state", [CaseState.TRANSFERRED, CaseState.CLOSED])
def test_set_coordinator__on_an_ended_case__conflict_and_nothing_changes(org, state):
    case = case_in_state(org, state)
    actor = org.caseworker
    before = snapshot()
    with pytest.raises(Conflict):
        case_services.case_set_coordinator(actor=actor, case=case, coordinator="Kela")
    assert snapshot() == before


@pytest.mark.parametrize(
    "state", [CaseState.ACTIVE, CaseState.IN_REVIEW, CaseState.TRANSFER_PENDING]
)
def test_set_coordinator__on_an_open_case__named_with_one_event(org, state):
    case = case_in_state(org, state)
    case_services.case_set_coordinator(actor=org.caseworker, case=case, coordinator="  Kela  ")
    assert reload(case).ppt_coordinator == "Kela"
    event = Event.objects.filter(case=case, action=CaseAction.SET_COORDINATOR).get()
    assert event.params == {"named": True}
    assert (event.from_state, event.to_state) == (state, state)
    assert event.actor_role == Role.CASEWORKER


def test_set_coordinator__cleared__recorded_as_not_named(org):
    case = open_case(org, is_ppt=True)
    case_services.case_set_coordinator(actor=org.caseworker, case=case, coordinator="Kela")
    case_services.case_set_coordinator(actor=org.caseworker, case=case, coordinator="   ")
    assert reload(case).ppt_coordinator == ""
    events = Event.objects.filter(case=case, action=CaseAction.SET_COORDINATOR)
    assert [e.params["named"] for e in events.order_by("pk")] == [True, False]


@pytest.mark.parametrize("actor", ["receiving_worker", "receiving_supervisor", "outsider"])
def test_set_coordinator__by_someone_outside_the_sending_team__refused(org, actor):
    case = open_case(org, is_ppt=True)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        case_services.case_set_coordinator(actor=getattr(org, actor), case=case, coordinator="x")
    assert snapshot() == before


# --- reassigning: a supervisor of the team, to an active caseworker of the team ----------


def _caseload(org, worker, n):
    return [
        criteria_services.case_open(
            actor=org.koto_supervisor,
            client=make_client(org, first_name=f"Client{worker.pk}x{i}"),
            team=org.koto,
            responsible_worker=worker,
            integration_started_on=clock.today() - relativedelta(months=25),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("actor", ["caseworker", "receiving_supervisor", "outsider"])
def test_reassign__by_anyone_but_a_supervisor_of_the_team__refused(org, actor):
    leaving = member(org.koto, Role.CASEWORKER)
    _caseload(org, leaving, 2)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        case_services.cases_reassign(
            actor=getattr(org, actor), team=org.koto, from_worker=leaving, to_worker=org.caseworker
        )
    assert snapshot() == before


@pytest.mark.parametrize("who", ["supervisor", "regional", "other_team", "inactive", "same"])
def test_reassign__to_someone_not_an_active_caseworker_of_the_team__refused(org, who):
    other_unit = type(org.koto).objects.create(
        code="koto1", name="Koto-tiimi 1", kind=org.koto.kind, region=org.koto.region
    )
    leaving = member(org.koto, Role.CASEWORKER)
    _caseload(org, leaving, 1)
    to_worker = {
        "supervisor": lambda: org.koto_supervisor,
        "regional": lambda: org.receiving_worker,
        "other_team": lambda: member(other_unit, Role.CASEWORKER),
        "inactive": lambda: member(org.koto, Role.CASEWORKER, is_active=False),
        "same": lambda: reload(leaving),  # the same person, read again (as a form does)
    }[who]()
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        case_services.cases_reassign(
            actor=org.koto_supervisor, team=org.koto, from_worker=leaving, to_worker=to_worker
        )
    assert list(refused.value.errors) == ["to_worker"]
    assert snapshot() == before


def test_reassign__all_open_cases_move_with_one_event_each_ended_ones_stay(org):
    leaving = member(org.koto, Role.CASEWORKER, username="leaving")
    taking = member(org.koto, Role.CASEWORKER, username="taking")
    open_cases = _caseload(org, leaving, 2)
    closed = _caseload(org, leaving, 1)[0]
    services.case_close(actor=org.koto_supervisor, case=closed, reason=ClosureReason.DECEASED)
    others = _caseload(org, org.caseworker, 1)

    moved = case_services.cases_reassign(
        actor=org.koto_supervisor, team=org.koto, from_worker=leaving, to_worker=taking
    )

    assert sorted(c.pk for c in moved) == sorted(c.pk for c in open_cases)
    assert all(c.responsible_worker == taking for c in moved)
    for case in open_cases:
        assert reload(case).responsible_worker == taking
        event = Event.objects.get(case=case, action=CaseAction.REASSIGN)
        assert event.params == {"from": "leaving", "to": "taking"}
        assert (event.actor, event.actor_role) == (org.koto_supervisor, Role.SUPERVISOR)
        assert event.from_state == event.to_state == CaseState.ACTIVE
    assert reload(closed).responsible_worker == leaving
    assert reload(others[0]).responsible_worker == org.caseworker
    assert not Event.objects.filter(case__in=[closed, *others], action="reassign").exists()


def test_reassign__only_the_chosen_cases_move(org):
    leaving = member(org.koto, Role.CASEWORKER)
    first, second = _caseload(org, leaving, 2)
    moved = case_services.cases_reassign(
        actor=org.koto_supervisor,
        team=org.koto,
        from_worker=leaving,
        to_worker=org.caseworker,
        case_ids=[second.pk],
    )
    assert [c.pk for c in moved] == [second.pk]
    assert reload(first).responsible_worker == leaving
    assert reload(second).responsible_worker == org.caseworker


@pytest.mark.parametrize("chosen", ["none_open", "another_workers_case", "empty_choice"])
def test_reassign__nothing_to_move__refused_naming_the_cases(org, chosen):
    leaving = member(org.koto, Role.CASEWORKER)
    theirs = _caseload(org, org.caseworker, 1)[0]
    case_ids = None
    if chosen != "none_open":
        _caseload(org, leaving, 1)
        case_ids = [theirs.pk] if chosen == "another_workers_case" else []
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        case_services.cases_reassign(
            actor=org.koto_supervisor,
            team=org.koto,
            from_worker=leaving,
            to_worker=member(org.koto, Role.CASEWORKER),
            case_ids=case_ids,
        )
    assert list(refused.value.errors) == ["cases"]
    # The refused call changed no case (the new caseworker above is the test's own row).
    assert snapshot()["cases.Case"] == before["cases.Case"]
    assert snapshot()["cases.Event"] == before["cases.Event"]


# --- the review date arriving: Silta itself, or the sending team bringing it forward -----


def test_mark_due__silta_itself_and_the_sending_team_may__others_may_not(org):
    by_silta = case_services.case_mark_due(case=open_case(org, first_name="A"))
    event = by_silta.events.get(action=CaseAction.MARK_DUE)
    assert (event.actor, event.actor_role) == (None, "system")
    assert event.params == {"review_due_on": by_silta.review_due_on.isoformat()}
    forward = case_services.case_mark_due(case=open_case(org, first_name="B"), actor=org.caseworker)
    assert reload(forward).state == CaseState.REVIEW_DUE
    case = open_case(org, first_name="C")
    with pytest.raises(ActorNotAllowed):
        case_services.case_mark_due(case=case, actor=org.receiving_supervisor)
    assert reload(case).state == CaseState.ACTIVE


# --- changing a client: by the sending team of the client's case -------------------------


def test_client_update__a_client_in_a_case__only_its_teams_sending_roles(org):
    case = open_case(org)
    other_unit = type(org.koto).objects.create(
        code="koto1", name="Koto-tiimi 1", kind=org.koto.kind, region=org.koto.region
    )
    stranger = member(other_unit, Role.CASEWORKER)
    with pytest.raises(ActorNotAllowed):
        case_services.client_update(actor=stranger, client=case.client, street_address="Uusi 2")
    updated = case_services.client_update(
        actor=org.koto_supervisor, client=case.client, street_address="Uusi 2"
    )
    assert updated.street_address == "Uusi 2"
    event = Event.objects.filter(client=case.client, action="update").get()
    assert event.params == {"fields": ["street_address"]}
    assert event.actor_role == Role.SUPERVISOR


def test_client_update__nothing_changed__no_event(org):
    client = make_client(org)
    case_services.client_update(actor=org.caseworker, client=client, street_address="Malminkaari 1")
    assert not Event.objects.filter(client=client, action="update").exists()


def test_client_update__unknown_field__refused_naming_it(org):
    client = make_client(org)
    with pytest.raises(InvalidInput) as refused:
        case_services.client_update(actor=org.caseworker, client=client, shoe_size=44)
    assert list(refused.value.errors) == ["shoe_size"]


# --- at the 5-year cap: a supervisor decides, in writing -----------------------------------


def test_cap_decision__before_the_cap__not_needed_whoever_acts(org):
    case = open_case(org, started_months_ago=59)
    assert case_services.require_cap_decision(case, role=Role.CASEWORKER, decision="") is False


def test_cap_decision__on_the_cap_day__a_supervisor_with_a_written_decision(org):
    case = open_case(org, started_months_ago=60)
    assert case.cap_on == clock.today()
    with pytest.raises(CapReached):
        case_services.require_cap_decision(case, role=Role.CASEWORKER, decision="Siirto")
    with pytest.raises(InvalidInput) as refused:
        case_services.require_cap_decision(case, role=Role.SUPERVISOR, decision="  ")
    assert list(refused.value.errors) == ["decision"]
    assert case_services.require_cap_decision(case, role=Role.SUPERVISOR, decision="Siirto")


# --- nothing half-written: a failure late in a service undoes what it wrote first --------
# The fault is injected at each service's last write (its event row): whatever the service
# wrote before must be gone, even inside the test's own transaction.


def _failing_events():
    return mock.patch("cases.services.case_event", side_effect=RuntimeError("event log down"))


def test_case_open__event_cannot_be_written__no_case_is_left(org):
    client = make_client(org)
    with _failing_events(), pytest.raises(RuntimeError):
        criteria_services.case_open(
            actor=org.caseworker,
            client=client,
            team=org.koto,
            responsible_worker=org.caseworker,
            integration_started_on=clock.today(),
        )
    assert not Case.objects.exists()


def test_client_create__event_cannot_be_written__no_client_is_left(org):
    with (
        mock.patch("cases.services.client_event", side_effect=RuntimeError("down")),
        pytest.raises(RuntimeError),
    ):
        case_services.client_create(actor=org.caseworker, **client_data())
    assert not Client.objects.exists()


@pytest.mark.parametrize("service", ["set_coordinator", "reassign", "mark_due", "client_update"])
def test_services__event_cannot_be_written__the_change_is_undone(org, service):
    leaving = member(org.koto, Role.CASEWORKER)
    case = _caseload(org, leaving, 1)[0]
    before = snapshot()
    calls = {
        "set_coordinator": lambda: case_services.case_set_coordinator(
            actor=org.caseworker, case=case, coordinator="Kela"
        ),
        "reassign": lambda: case_services.cases_reassign(
            actor=org.koto_supervisor, team=org.koto, from_worker=leaving, to_worker=org.caseworker
        ),
        "mark_due": lambda: case_services.case_mark_due(case=case),
        "client_update": lambda: case_services.client_update(
            actor=org.caseworker, client=case.client, street_address="Uusi 2"
        ),
    }
    with (
        mock.patch("cases.services.case_event", side_effect=RuntimeError("down")),
        mock.patch("cases.services.client_event", side_effect=RuntimeError("down")),
        pytest.raises(RuntimeError),
    ):
        calls[service]()
    assert snapshot() == before


def test_case_open__started_today_review_in_two_years(org):
    case = _open(org, responsible_worker=org.caseworker)
    start = case.integration_started_on
    assert case.review_due_on == start + relativedelta(months=24)
    assert case.cap_on == start + relativedelta(months=60)
    assert isinstance(case.review_due_on, dt.date)


@pytest.mark.parametrize("kind", ["adult", "youth"])
def test_case_open__in_a_regional_team_of_either_kind__refused(org, kind):
    team = org.adult if kind == "adult" else org.youth
    actor = member(team, Role.SUPERVISOR)
    worker = member(team, Role.CASEWORKER)
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        _open(org, responsible_worker=worker, actor=actor, team=team)
    # The reason in words, not only the team field's "not a valid choice".
    assert refused.value.errors == {"team": "A case is opened in an Immigration Unit team."}


def test_identity_code_check__a_clients_own_code__not_another_clients(org):
    """A form that checks before it saves (the admin's) checks the code a client already
    has: it is that client's own, not a duplicate."""
    client = make_client(
        org, personal_identity_code="131052-308T", date_of_birth=dt.date(1952, 10, 13)
    )
    case_services.client_identity_code_check(
        actor=org.caseworker, code=client.personal_identity_code, client=client
    )


def test_client_create__the_same_code_registered_in_between__answered_as_a_duplicate(org):
    """Two registrations of one person at once: the second passes the first check before
    the first is saved, and its save then meets the database's unique constraint. It is
    answered as a duplicate (the existing client within the scope), never a 500."""
    code, born = "131052-308T", dt.date(1952, 10, 13)
    first = make_client(org, personal_identity_code=code, date_of_birth=born)
    real_check = case_services._identity_code_check
    calls = []

    def check_that_misses_the_first_time(*args, **kwargs):
        calls.append(args)
        if len(calls) > 1:
            real_check(*args, **kwargs)

    with (
        mock.patch("cases.services._identity_code_check", check_that_misses_the_first_time),
        pytest.raises(case_services.ClientExists),
    ):
        case_services.client_create(
            actor=org.caseworker,
            **client_data(first_name="Again", personal_identity_code=code, date_of_birth=born),
        )
    assert len(calls) == 2
    assert list(Client.objects.filter(personal_identity_code=code)) == [first]


def test_cap_decision__the_role_as_read_from_the_database(org):
    """`require_role` answers with the role as stored (plain text), not the enum member."""
    case = open_case(org, started_months_ago=60)
    supervisor = "".join(["super", "visor"])
    assert case_services.require_cap_decision(case, role=supervisor, decision="Siirto")


def test_client_update__another_clients_code__named_before_any_other_field(org):
    code, born = "131052-308T", dt.date(1952, 10, 13)
    make_client(org, personal_identity_code=code, date_of_birth=born, first_name="First")
    second = make_client(org, first_name="Second", date_of_birth=born)
    with pytest.raises(case_services.ClientExists):
        case_services.client_update(
            actor=org.caseworker, client=second, personal_identity_code=code, language="xx"
        )
    assert reload(second).personal_identity_code is None


def test_case_open__the_team_as_read_from_the_database(org):
    """A page or the API reads the team afresh: its kind is stored text, not the enum."""
    team = type(org.koto).objects.get(pk=org.koto.pk)
    case = _open(org, responsible_worker=org.caseworker, team=team)
    assert case.team == org.koto
