"""Escorted handovers (saattaen siirto): the sending worker is an attendee in every booking
path (the desk queue in Silta, the booking system's request), with the availability note
they gave when proposing; once the desk books, the sending worker confirms the time, and
that is recorded. Only the sending worker, only escorted, only booked, only once per
booking."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from cases.enums import CaseState, Role
from core.errors import ActorNotAllowed, Conflict, TransitionNotAllowed
from criteria import services as criteria_services
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from notifications.services import relay_pending
from tests.factories import (
    as_user,
    bring_transfer_to,
    case_in_state,
    handover_slot,
    member,
    reload,
)
from transfers import booking_client, services
from transfers.enums import BookingStatus, TransferAction, TransferState

pytestmark = pytest.mark.django_db
NOTE = "Ti ja to aamupäivisin; ei perjantaisin"


def _proposed(org, *, escorted: bool, note: str = NOTE):
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    for assessment in review.assessments.select_related("criterion"):
        if assessment.status != AssessmentStatus.NOT_APPLICABLE:
            criteria_services.assessment_update(
                actor=org.caseworker,
                assessment=assessment,
                status=AssessmentStatus.MET,
                multi_problem=escorted and assessment.criterion.has_multi_problem_marker,
            )
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=review, sender_availability=note
    )
    assert transfer.escorted is escorted
    return transfer


def _booked(org, **kwargs):
    transfer = _proposed(org, **kwargs)
    bring_transfer_to(org, transfer, TransferState.ACCEPTED)
    relay_pending()
    services.transfer_confirm_booking(
        actor=org.front_desk,
        transfer=reload(transfer),
        starts_at=handover_slot(days=4),
        place="Malmi FrontDesk",
        interpreter="TIMMI 9",
    )
    return reload(transfer)


def test_propose__the_availability_note_is_kept_for_an_escorted_transfer_only(org):
    assert _proposed(org, escorted=True).sender_availability == NOTE
    assert _proposed(org, escorted=False).sender_availability == ""


def test_attendee__in_the_booking_system_s_request_with_the_note(org):
    org.caseworker.first_name, org.caseworker.last_name = "Saara", "Saattaja"
    org.caseworker.save()
    transfer = _proposed(org, escorted=True)
    bring_transfer_to(org, transfer, TransferState.ACCEPTED)
    relay_pending()
    booking = reload(transfer).bookings.get()
    body = booking_client.request_body(booking, action="request", key="k")
    assert body["escorted"] is True
    assert body["attendees"] == [
        {"role": "sending_worker", "name": "Saara Saattaja", "availability": NOTE}
    ]
    plain = _proposed(org, escorted=False)
    bring_transfer_to(org, plain, TransferState.ACCEPTED)
    relay_pending()
    body = booking_client.request_body(reload(plain).bookings.get(), action="request", key="k2")
    assert body["attendees"] == []


def test_attendee__in_the_desk_queue_in_silta_and_its_api(org, client):
    org.caseworker.first_name, org.caseworker.last_name = "Saara", "Saattaja"
    org.caseworker.save()
    transfer = _proposed(org, escorted=True)
    bring_transfer_to(org, transfer, TransferState.ACCEPTED)
    relay_pending()
    client.force_login(org.front_desk)
    html = client.get(reverse("web:desk"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Saara Saattaja (sending worker)" in html
    assert NOTE in html
    rows = as_user(org.front_desk).get("/api/v1/booking-queue/").json()["results"]
    (row,) = [r for r in rows if r["transfer"] == transfer.pk]
    assert row["attendees"] == [
        {"role": "sending_worker", "name": "Saara Saattaja", "availability": NOTE}
    ]


def test_confirm_attendance__the_sending_worker_confirms_once_and_it_is_recorded(org):
    transfer = _booked(org, escorted=True)
    booking = services.transfer_confirm_attendance(actor=org.caseworker, transfer=transfer)
    assert booking.sender_confirmed_at is not None
    event = transfer.events.get(action=TransferAction.CONFIRM_ATTENDANCE)
    assert (event.actor, event.params["booking"]) == (org.caseworker, booking.pk)
    assert reload(transfer).state == TransferState.BOOKED  # no state change
    with pytest.raises(Conflict):
        services.transfer_confirm_attendance(actor=org.caseworker, transfer=transfer)
    assert transfer.events.filter(action=TransferAction.CONFIRM_ATTENDANCE).count() == 1


@pytest.mark.parametrize("who", ["koto_supervisor", "other_caseworker", "front_desk"])
def test_confirm_attendance__only_the_sending_worker(org, who):
    transfer = _booked(org, escorted=True)
    actor = member(org.koto, Role.CASEWORKER) if who == "other_caseworker" else getattr(org, who)
    with pytest.raises(ActorNotAllowed):
        services.transfer_confirm_attendance(actor=actor, transfer=transfer)
    assert reload(transfer).bookings.get(status=BookingStatus.CONFIRMED).sender_confirmed_at is None


def test_confirm_attendance__by_id_not_by_order_or_identity_of_the_number(org):
    """The sending worker is recognised by their id's value: a worker with a large id (as
    in production, past the integers Python keeps as single objects) confirms, and a
    colleague with a smaller id is refused like any other."""
    sender = member(org.koto, Role.CASEWORKER, id=900_001)
    earlier_colleague = org.caseworker
    assert earlier_colleague.pk < sender.pk
    transfer = _booked(dataclasses.replace(org, caseworker=sender), escorted=True)
    assert transfer.sending_worker_id == sender.pk
    with pytest.raises(ActorNotAllowed):
        services.transfer_confirm_attendance(actor=earlier_colleague, transfer=transfer)
    booking = services.transfer_confirm_attendance(
        actor=type(sender).objects.get(pk=sender.pk), transfer=transfer
    )
    assert reload(booking).sender_confirmed_at is not None


def test_confirm_attendance__not_escorted_or_not_booked_is_refused(org):
    plain = _booked(org, escorted=False)
    with pytest.raises(Conflict):
        services.transfer_confirm_attendance(actor=org.caseworker, transfer=plain)
    waiting = _proposed(org, escorted=True)
    with pytest.raises(TransitionNotAllowed):
        services.transfer_confirm_attendance(actor=org.caseworker, transfer=waiting)


def test_confirm_attendance__a_rebooked_handover_asks_again(org):
    transfer = _booked(org, escorted=True)
    services.transfer_confirm_attendance(actor=org.caseworker, transfer=transfer)
    services.transfer_rebook(actor=org.front_desk, transfer=transfer, outcome="cancelled")
    relay_pending()
    services.transfer_confirm_booking(
        actor=org.front_desk,
        transfer=reload(transfer),
        starts_at=handover_slot(days=8),
        place="Malmi FrontDesk",
        interpreter="TIMMI 10",
    )
    live = reload(transfer).bookings.get(status=BookingStatus.CONFIRMED)
    assert live.sender_confirmed_at is None
    services.transfer_confirm_attendance(actor=org.caseworker, transfer=transfer)
    assert transfer.events.filter(action=TransferAction.CONFIRM_ATTENDANCE).count() == 2


def test_confirm_attendance__web_and_api(org, client):
    transfer = _booked(org, escorted=True)
    client.force_login(org.caseworker)
    page = client.get(reverse("web:transfer", args=[transfer.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert reverse("web:transfer-attend", args=[transfer.pk]) in page.content.decode()
    assert NOTE in page.content.decode()
    done = client.post(reverse("web:transfer-attend", args=[transfer.pk]))
    assert done.status_code == 302
    again = client.get(reverse("web:transfer", args=[transfer.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert reverse("web:transfer-attend", args=[transfer.pk]) not in again.content.decode()
    # The desk sees it was confirmed.
    client.force_login(org.front_desk)
    desk = client.get(reverse("web:desk"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Time confirmed by the sending worker" in desk
    # Through the API: a second confirmation is a conflict; the desk may not confirm.
    other = _booked(org, escorted=True)
    assert (
        as_user(org.front_desk)
        .post(f"/api/v1/transfers/{other.pk}/confirm-attendance/")
        .status_code
        == 403
    )
    answer = as_user(org.caseworker).post(f"/api/v1/transfers/{other.pk}/confirm-attendance/")
    assert answer.status_code == 200, answer.content
    assert answer.json()["sender_availability"] == NOTE
    conflict = as_user(org.caseworker).post(f"/api/v1/transfers/{other.pk}/confirm-attendance/")
    assert conflict.status_code == 409


def test_confirm_attendance__accepted_but_not_yet_booked_is_refused(org):
    transfer = _proposed(org, escorted=True)
    bring_transfer_to(org, transfer, TransferState.ACCEPTED)
    with pytest.raises(TransitionNotAllowed):
        services.transfer_confirm_attendance(actor=org.caseworker, transfer=reload(transfer))
    assert not reload(transfer).bookings.filter(sender_confirmed_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_confirm_attendance__in_autocommit_it_runs_in_a_transaction_of_its_own(org):
    transfer = _booked(org, escorted=True)
    booking = services.transfer_confirm_attendance(actor=org.caseworker, transfer=transfer)
    assert reload(booking).sender_confirmed_at is not None


def test_confirm_attendance__once_the_meeting_has_begun_it_is_refused_and_not_offered(org, client):
    transfer = _booked(org, escorted=True)
    starts_at = transfer.bookings.get(status=BookingStatus.CONFIRMED).starts_at
    attend = reverse("web:transfer-attend", args=[transfer.pk])
    with time_machine.travel(starts_at - dt.timedelta(minutes=1), tick=False):
        client.force_login(org.caseworker)
        page = client.get(reverse("web:transfer", args=[transfer.pk]), HTTP_ACCEPT_LANGUAGE="en")
        assert attend in page.content.decode()
    with time_machine.travel(starts_at, tick=False):
        with pytest.raises(Conflict):
            services.transfer_confirm_attendance(actor=org.caseworker, transfer=transfer)
        client.force_login(org.caseworker)
        page = client.get(reverse("web:transfer", args=[transfer.pk]), HTTP_ACCEPT_LANGUAGE="en")
        assert attend not in page.content.decode()
        answer = as_user(org.caseworker).post(
            f"/api/v1/transfers/{transfer.pk}/confirm-attendance/"
        )
        assert answer.status_code == 409
    booking = transfer.bookings.get(status=BookingStatus.CONFIRMED)
    assert booking.sender_confirmed_at is None
    assert not transfer.events.filter(action=TransferAction.CONFIRM_ATTENDANCE).exists()


@pytest.mark.parametrize("after", [dt.timedelta(minutes=30), dt.timedelta(days=1)], ids=str)
def test_confirm_attendance__after_the_meeting_has_begun_it_is_refused(org, after):
    """Not only at the start itself: during the meeting or the day after, the time can no
    longer be confirmed, and nothing is recorded."""
    transfer = _booked(org, escorted=True)
    starts_at = transfer.bookings.get(status=BookingStatus.CONFIRMED).starts_at
    with (
        time_machine.travel(starts_at + after, tick=False),
        translation.override("en"),
        pytest.raises(Conflict) as refused,
    ):
        services.transfer_confirm_attendance(actor=org.caseworker, transfer=transfer)
    assert "already begun" in refused.value.detail
    booking = transfer.bookings.get(status=BookingStatus.CONFIRMED)
    assert booking.sender_confirmed_at is None
    assert not transfer.events.filter(action=TransferAction.CONFIRM_ATTENDANCE).exists()
