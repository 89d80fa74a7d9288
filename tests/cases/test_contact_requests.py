"""The intake queue's services: a contact request received from the public form, routed
to a worker by a supervisor (the worker told with the reference only), linked to a client
or closed with a reason; each change one event row, illegal ones changing nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from cases import intake
from cases.enums import ContactRequestAction, ContactRequestState, EventSubject, Role
from cases.models import ContactRequest, Event
from core.errors import ActorNotAllowed, InvalidInput, TransitionNotAllowed
from notifications.models import Notification, NotificationKind
from tests.factories import make_client, member, open_case, reload

pytestmark = pytest.mark.django_db


def fields(**overrides):
    data = {
        "organisation": "Monikulttuurinen neuvontapiste",
        "sender_name": "Neuvoja Nieminen",
        "sender_phone": "+358 40 123 4567",
        "sender_email": "",
        "client_name": "Qzcanary Asiakas",
        "client_date_of_birth": dt.date(1990, 3, 4),
        "client_phone": "",
        "client_language": "prs",
        "message": "Asiakas tarvitsee apua asumisasioissa.",
        "consent": True,
    }
    data.update(overrides)
    return data


def events_of(contact):
    return Event.objects.filter(
        subject=EventSubject.CONTACT_REQUEST, params__contact_request=contact.pk
    ).order_by("id")


def test_contact_request__receive__lands_new_with_an_event_without_actor():
    contact = intake.contact_request_receive(**fields())
    assert contact.state == ContactRequestState.NEW
    assert contact.reference == f"YP-{contact.pk:06d}"
    [event] = events_of(contact)
    assert event.action == ContactRequestAction.RECEIVE
    assert event.actor is None and event.client_id is None
    assert event.to_state == ContactRequestState.NEW


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent": False}, "consent"),
        ({"sender_phone": "", "sender_email": ""}, "sender_phone"),
        ({"message": "x" * 4001}, "message"),
        ({"client_name": "x" * 201}, "client_name"),
        ({"client_name": "  "}, "client_name"),
        ({"client_date_of_birth": dt.date(2999, 1, 1)}, "client_date_of_birth"),
        ({"client_language": "Dari"}, "client_language"),
    ],
    ids=[
        "no-consent",
        "no-way-to-reach",
        "huge-message",
        "long-name",
        "blank-name",
        "future",
        "language-not-a-code",
    ],
)
def test_contact_request__receive__bad_input_names_the_field_and_writes_nothing(overrides, field):
    with pytest.raises(InvalidInput) as caught:
        intake.contact_request_receive(**fields(**overrides))
    assert field in caught.value.errors
    assert not ContactRequest.objects.exists()
    assert not Event.objects.filter(subject=EventSubject.CONTACT_REQUEST).exists()


def test_contact_request__route__tells_the_worker_with_the_reference_only(org):
    contact = intake.contact_request_receive(**fields())
    intake.contact_request_route(actor=org.koto_supervisor, contact=contact, worker=org.caseworker)
    contact = reload(contact)
    assert contact.state == ContactRequestState.ROUTED
    assert contact.assigned_worker == org.caseworker
    notice = Notification.objects.get(
        recipient=org.caseworker, kind=NotificationKind.CONTACT_REQUEST_ROUTED
    )
    assert notice.reference == contact.reference
    assert notice.link == f"/intake/{contact.pk}/"
    assert "Qzcanary" not in str(notice.params)
    assert [e.action for e in events_of(contact)] == ["receive", "route"]


@pytest.mark.parametrize("role", ["caseworker", "receiving_supervisor", "outsider"])
def test_contact_request__route__only_a_unit_supervisor(org, role):
    contact = intake.contact_request_receive(**fields())
    with pytest.raises(ActorNotAllowed):
        intake.contact_request_route(
            actor=getattr(org, role), contact=contact, worker=org.caseworker
        )
    assert reload(contact).state == ContactRequestState.NEW
    assert events_of(contact).count() == 1


def test_contact_request__route__to_a_regional_worker_is_refused(org):
    contact = intake.contact_request_receive(**fields())
    with pytest.raises(InvalidInput) as caught:
        intake.contact_request_route(
            actor=org.koto_supervisor, contact=contact, worker=org.receiving_worker
        )
    assert "worker" in caught.value.errors
    assert reload(contact).state == ContactRequestState.NEW


def test_contact_request__link__to_a_client_and_their_open_case(org):
    case = open_case(org)
    contact = intake.contact_request_receive(**fields())
    intake.contact_request_route(actor=org.koto_supervisor, contact=contact, worker=org.caseworker)
    intake.contact_request_link(actor=org.caseworker, contact=contact, client=case.client)
    contact = reload(contact)
    assert (contact.state, contact.client, contact.case) == (
        ContactRequestState.LINKED,
        case.client,
        case,
    )
    link = events_of(contact).last()
    assert (link.action, link.client_id, link.case_id) == ("link", case.client_id, case.pk)


def test_contact_request__link__only_the_assigned_worker_or_a_supervisor(org):
    other = member(org.koto, Role.CASEWORKER)
    client = make_client(org)
    contact = intake.contact_request_receive(**fields())
    intake.contact_request_route(actor=org.koto_supervisor, contact=contact, worker=org.caseworker)
    with pytest.raises(ActorNotAllowed):
        intake.contact_request_link(actor=other, contact=contact, client=client)
    assert reload(contact).state == ContactRequestState.ROUTED


def test_contact_request__link__a_client_outside_the_scope_is_refused(org):
    other_team_client = make_client(org)
    contact = intake.contact_request_receive(**fields())
    outsider_worker = member(org.koto, Role.CASEWORKER)
    intake.contact_request_route(actor=org.koto_supervisor, contact=contact, worker=outsider_worker)
    with pytest.raises(InvalidInput):
        intake.contact_request_link(
            actor=outsider_worker, contact=contact, client=other_team_client
        )
    assert reload(contact).client is None


def test_contact_request__link__before_routing_is_not_allowed(org):
    contact = intake.contact_request_receive(**fields())
    with pytest.raises(TransitionNotAllowed):
        intake.contact_request_link(
            actor=org.koto_supervisor, contact=contact, client=make_client(org)
        )
    assert reload(contact).state == ContactRequestState.NEW


def test_contact_request__close__other_needs_the_explanation(org):
    contact = intake.contact_request_receive(**fields())
    intake.contact_request_route(actor=org.koto_supervisor, contact=contact, worker=org.caseworker)
    with pytest.raises(InvalidInput) as caught:
        intake.contact_request_close(actor=org.caseworker, contact=contact, reason="other")
    assert "text" in caught.value.errors
    intake.contact_request_close(
        actor=org.caseworker, contact=contact, reason="not_our_client", text="Kela asiakas"
    )
    contact = reload(contact)
    assert (contact.state, contact.close_reason) == (ContactRequestState.CLOSED, "not_our_client")
    with pytest.raises(TransitionNotAllowed):
        intake.contact_request_route(
            actor=org.koto_supervisor, contact=contact, worker=org.caseworker
        )
    assert [e.action for e in events_of(contact)] == ["receive", "route", "close"]


def test_contact_requests_visible_to__supervisors_all_workers_their_own(org):
    mine = intake.contact_request_receive(**fields())
    theirs = intake.contact_request_receive(**fields())
    intake.contact_request_route(actor=org.koto_supervisor, contact=mine, worker=org.caseworker)
    assert set(intake.contact_requests_visible_to(org.koto_supervisor)) == {mine, theirs}
    assert set(intake.contact_requests_visible_to(org.caseworker)) == {mine}
    assert not intake.contact_requests_visible_to(org.receiving_supervisor).exists()
