"""Teams as they are, through the services: a proposal goes to the team the routing table
names for the client's postal code and kind; a front desk that serves several teams books
every one of their handovers, in its own booking hours, and hears of every request."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.enums import Role, TeamKind
from cases.models import BookingHours, PostalArea, Team
from core import clock
from core.errors import ActorNotAllowed, RoutingNeedsManualChoice
from criteria.selectors import open_review_of
from notifications.models import Notification, OutboxMessage
from notifications.services import relay_pending
from tests.factories import (
    assess_all_met,
    case_in_state,
    handover_slot,
    member,
    open_case,
    reload,
)
from transfers import handoff, services
from transfers.enums import TransferAction, TransferState

pytestmark = pytest.mark.django_db
HELSINKI = ZoneInfo("Europe/Helsinki")


@pytest.fixture
def second_adult(org):
    """Pohjoinen's second adult team (Oulunkylä's postal codes), booked by Malmi's desk."""
    team = Team.objects.create(
        code="pohjoinen-aiso-2",
        name="Pohjoinen: aikuissosiaalityö 2",
        kind=TeamKind.ADULT,
        region=org.adult.region,
        front_desk_team=org.adult,
    )
    PostalArea.objects.filter(postal_code__in=["00700", "00710"]).update(adult_team=org.adult)
    PostalArea.objects.filter(postal_code__in=["00640", "00650"]).update(adult_team=team)
    return team


def _ready_review(org, **client):
    case = open_case(org, **client)
    from cases import services as case_services
    from criteria import services as criteria_services

    case_services.case_mark_due(case=case)
    criteria_services.review_start(actor=org.caseworker, case=case)
    assess_all_met(org, case)
    return open_review_of(case)


def test_propose__each_postal_code_to_the_adult_team_the_table_names(org, second_adult):
    oulunkyla = services.transfer_propose(
        consent_basis="consent",
        actor=org.caseworker,
        review=_ready_review(org, postal_code="00640"),
    )
    malmi = services.transfer_propose(
        consent_basis="consent",
        actor=org.caseworker,
        review=_ready_review(org, postal_code="00710"),
    )
    assert (oulunkyla.receiving_team, oulunkyla.routed_team) == (second_adult, second_adult)
    assert (malmi.receiving_team, malmi.routed_team) == (org.adult, org.adult)
    event = oulunkyla.events.get(action=TransferAction.PROPOSE)
    assert event.params["receiving_team"] == "pohjoinen-aiso-2"
    assert event.params["overridden"] is False


def test_propose__young_client_to_the_youth_team_whatever_the_adult_split(org, second_adult):
    review = _ready_review(org, postal_code="00640", date_of_birth=dt.date(2001, 3, 3))
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=review
    )
    assert transfer.receiving_team == org.youth


def test_propose__several_adult_teams_and_none_named__the_caseworker_must_choose(org, second_adult):
    review = _ready_review(org, postal_code="00720")  # Pukinmäki: the table names none
    with pytest.raises(RoutingNeedsManualChoice):
        services.transfer_propose(consent_basis="consent", actor=org.caseworker, review=review)
    assert reload(review.case).state == "in_review"  # nothing written

    transfer = services.transfer_propose(
        consent_basis="consent",
        actor=org.caseworker,
        review=review,
        receiving_team=second_adult,
        override_reason="Asuu Oulunkylän rajalla",
    )
    assert transfer.receiving_team == second_adult
    assert transfer.routed_team is None
    assert transfer.override_reason == "Asuu Oulunkylän rajalla"
    assert reload(transfer.case).state == "transfer_pending"


def test_propose__choosing_the_other_adult_team_needs_a_reason(org, second_adult):
    from core.errors import InvalidInput

    review = _ready_review(org, postal_code="00640")
    with pytest.raises(InvalidInput) as raised:
        services.transfer_propose(
            consent_basis="consent", actor=org.caseworker, review=review, receiving_team=org.adult
        )
    assert "override_reason" in raised.value.errors


# A front desk serving several teams ---------------------------------------------------------


def _booking_requested_at(org, team, **client):
    """A transfer to `team`, accepted by its receiving worker, its booking requested."""
    receiver = member(team, Role.RECEIVING_WORKER)
    review = _ready_review(org, **client)
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=review
    )
    assert transfer.receiving_team == team
    services.transfer_accept(actor=receiver, transfer=transfer, receiving_worker=receiver)
    relay_pending()
    return reload(transfer), receiver


def test_shared_desk__malmi_s_front_desk_books_the_second_team_s_handover(org, second_adult):
    transfer, _receiver = _booking_requested_at(org, second_adult, postal_code="00640")
    assert transfer.state == TransferState.BOOKING_REQUESTED
    # The request reached Malmi's front desk (a member of the first team only).
    assert Notification.objects.filter(
        kind="booking_requested", recipient=org.front_desk, transfer_id=transfer.pk
    ).exists()
    services.transfer_confirm_booking(
        actor=org.front_desk,
        transfer=transfer,
        starts_at=handover_slot(days=3),
        place="Malmi FrontDesk",
        interpreter="TIMMI 1",
    )
    assert reload(transfer).state == TransferState.BOOKED
    event = transfer.events.get(action=TransferAction.CONFIRM_BOOKING)
    assert event.actor_role == Role.FRONT_DESK


def test_shared_desk__another_team_s_front_desk_may_not_book(org, second_adult):
    transfer, _receiver = _booking_requested_at(org, second_adult, postal_code="00640")
    lansi_desk = member(org.other_adult, Role.FRONT_DESK)
    with pytest.raises(ActorNotAllowed):
        services.transfer_confirm_booking(
            actor=lansi_desk,
            transfer=transfer,
            starts_at=handover_slot(days=3),
            place="Haaga",
            interpreter="",
        )
    assert reload(transfer).state == TransferState.BOOKING_REQUESTED


def test_shared_desk__a_served_team_s_supervisor_does_not_book_the_other_teams(org, second_adult):
    """Sharing the desk shares the front desk's work, not a supervisor's rights."""
    transfer = case_in_state(org, "transfer_pending").transfers.get()
    services.transfer_accept(
        actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
    )
    relay_pending()
    supervisor_2 = member(second_adult, Role.SUPERVISOR)
    with pytest.raises(ActorNotAllowed):
        services.transfer_confirm_booking(
            actor=supervisor_2,
            transfer=reload(transfer),
            starts_at=handover_slot(days=3),
            place="Malmi",
            interpreter="",
        )


def test_shared_desk__requests_wait_for_the_desk_s_booking_hours(org, second_adult):
    BookingHours.objects.bulk_create(
        BookingHours(team=org.adult, weekday=day, opens_at=dt.time(9), closes_at=dt.time(11, 30))
        for day in range(5)
    )
    # Tuesday 24 Nov 2026 at 14.00 in Helsinki: Malmi's desk opens on Wednesday at nine.
    with time_machine.travel(dt.datetime(2026, 11, 24, 14, tzinfo=HELSINKI), tick=False):
        assert handoff.request_time(second_adult) == dt.datetime(2026, 11, 25, 9, tzinfo=HELSINKI)
        assert handoff.request_time(org.other_adult) == clock.now()  # no hours: at once


def test_shared_desk__the_desk_s_address_and_booking_system(org, second_adult):
    org.adult.front_desk_location = "Malmi FrontDesk, Ala-Malmin tori 1"
    org.adult.booking_webhook_url = "https://booking.example.invalid/malmi"
    org.adult.save()
    second_adult.front_desk_location = "ignored"
    second_adult.save()
    assert reload(second_adult).desk.front_desk_location == "Malmi FrontDesk, Ala-Malmin tori 1"
    assert reload(second_adult).desk.booking_webhook_url.endswith("/malmi")


def test_shared_desk__the_booking_request_is_one_outbox_row_at_the_desk_s_hours(org, second_adult):
    transfer, _receiver = _booking_requested_at(org, second_adult, postal_code="00650")
    rows = OutboxMessage.objects.filter(channel="booking", key__startswith="booking:")
    assert rows.filter(payload__transfer=transfer.pk).count() == 1


def test_shared_desk__an_unconfirmed_booking_reminds_the_desk_that_serves_the_team(
    org, second_adult
):
    from transfers.reminders import reminder_sweep

    with time_machine.travel(dt.datetime(2026, 11, 2, 10, tzinfo=HELSINKI), tick=False):
        transfer, _receiver = _booking_requested_at(org, second_adult, postal_code="00640")
    own_desk = member(org.other_adult, Role.FRONT_DESK)  # another desk: not told
    with time_machine.travel(dt.datetime(2026, 11, 9, 10, tzinfo=HELSINKI), tick=False):
        reminder_sweep()
    told = Notification.objects.filter(kind="booking_unconfirmed", transfer_id=transfer.pk)
    assert {n.recipient for n in told} == {org.front_desk, org.caseworker}
    assert own_desk not in {n.recipient for n in told}


def test_shared_desk__a_cancelled_requested_booking_is_told_to_the_desk(org, second_adult):
    transfer, _receiver = _booking_requested_at(org, second_adult, postal_code="00640")
    services.transfer_cancel(actor=org.caseworker, transfer=transfer, reason="Muuttaa pois")
    told = Notification.objects.filter(kind="transfer_cancelled", transfer_id=transfer.pk)
    assert org.front_desk in {n.recipient for n in told}
