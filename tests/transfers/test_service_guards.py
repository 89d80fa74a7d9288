"""Every guard of the transfer services, enforced by the service itself (not only by a
form or a serializer) and proved here by calling the service directly: each test fails if
its guard is removed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.enums import CaseState, HousingSituation, Role, TeamKind
from cases.models import BookingHours, Region, Team
from core import clock
from core.errors import ActorNotAllowed, CriteriaNotMet, InvalidInput
from criteria.selectors import open_review_of
from notifications.models import OutboxMessage, OutboxStatus
from tests.factories import (
    assess_all_met,
    case_in_state,
    member,
    reload,
    transfer_in_state,
)
from tests.snapshot import snapshot
from transfers import services
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db
HELSINKI = ZoneInfo("Europe/Helsinki")


def ready_review(org, **client):
    case = case_in_state(org, CaseState.IN_REVIEW, **client)
    assess_all_met(org, case)
    return open_review_of(case)


# Proposing: the receiving team ----------------------------------------------------------


def test_propose__to_an_immigration_unit_team__refused(org):
    review = ready_review(org)
    before = snapshot()
    with pytest.raises(InvalidInput) as raised:
        services.transfer_propose(
            consent_basis="consent",
            actor=org.caseworker,
            review=review,
            receiving_team=org.koto,
            override_reason="The unit keeps the case",
        )
    assert set(raised.value.errors) == {"receiving_team"}
    assert snapshot() == before


def test_propose__to_an_inactive_regional_team__refused(org):
    review = ready_review(org)
    org.other_adult.is_active = False
    org.other_adult.save()
    before = snapshot()
    with pytest.raises(InvalidInput) as raised:
        services.transfer_propose(
            consent_basis="consent",
            actor=org.caseworker,
            review=review,
            receiving_team=org.other_adult,
            override_reason="Client moves to Haaga",
        )
    assert set(raised.value.errors) == {"receiving_team"}
    assert snapshot() == before


def test_propose__active_youth_team_other_than_routed__allowed_with_a_reason(org):
    review = ready_review(org)  # 46 years old: routed to the adult team
    transfer = services.transfer_propose(
        consent_basis="consent",
        actor=org.caseworker,
        review=review,
        receiving_team=org.youth,
        override_reason="Lives with the family in the youth team's care",
    )
    assert (transfer.receiving_team, transfer.routed_team) == (org.youth, org.adult)


@pytest.mark.parametrize("reason", ["", "   "])
def test_propose__team_other_than_routed_without_a_reason__refused(org, reason):
    review = ready_review(org)
    before = snapshot()
    with pytest.raises(InvalidInput) as raised:
        services.transfer_propose(
            consent_basis="consent",
            actor=org.caseworker,
            review=review,
            receiving_team=org.other_adult,
            override_reason=reason,
        )
    assert set(raised.value.errors) == {"override_reason"}
    assert snapshot() == before


def test_propose__the_routed_team_named_explicitly__needs_no_reason(org):
    transfer = services.transfer_propose(
        consent_basis="consent",
        actor=org.caseworker,
        review=ready_review(org),
        receiving_team=org.adult,
    )
    assert (transfer.receiving_team, transfer.override_reason) == (org.adult, "")


def test_propose__criteria_not_met__the_blockers_stay_in_the_reasons(org):
    case = case_in_state(org, CaseState.IN_REVIEW, housing_situation=HousingSituation.HOMELESS)
    with pytest.raises(CriteriaNotMet) as raised:
        services.transfer_propose(
            consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
        )
    reasons = raised.value.extra["reasons"]
    assert reasons[0] == "homeless_or_crisis_accommodation"  # the blocker, then the unmet
    assert "finances" in reasons
    assert "homeless_or_crisis_accommodation" in raised.value.detail


# Requesting a booking: who may ----------------------------------------------------------


@pytest.mark.parametrize("who", ["front_desk", "receiving_worker", "receiving_supervisor", None])
def test_request_booking__the_receiving_teams_booking_roles_and_silta_itself(org, who):
    transfer = transfer_in_state(org, TransferState.ACCEPTED)
    actor = getattr(org, who) if who else None
    booking = services.transfer_request_booking(transfer=transfer, actor=actor)
    assert reload(transfer).state == TransferState.BOOKING_REQUESTED
    assert booking.transfer_id == transfer.pk


@pytest.mark.parametrize(
    "who",
    [
        "caseworker",
        "koto_supervisor",
        "outsider",  # a supervisor of another regional team
        "other_desk",  # another team's front desk
        "receiving_caseworker",  # the receiving team, but not in a booking role
    ],
)
def test_request_booking__anyone_else__refused(org, who):
    transfer = transfer_in_state(org, TransferState.ACCEPTED)
    actor = {
        "other_desk": lambda: member(org.other_adult, Role.FRONT_DESK),
        "receiving_caseworker": lambda: member(org.adult, Role.CASEWORKER),
    }.get(who, lambda: getattr(org, who))()
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        services.transfer_request_booking(transfer=transfer, actor=actor)
    assert snapshot() == before


# Sending a failed booking request again: the team concerned --------------------------------


def failed_opening(org):
    """An accepted transfer whose booking request could not be opened, for good."""
    transfer = transfer_in_state(org, TransferState.ACCEPTED)
    OutboxMessage.objects.filter(key=f"booking:open:{transfer.pk}").update(
        status=OutboxStatus.FAILED, attempts=6, last_error="HTTP 503"
    )
    return transfer


@pytest.mark.parametrize(
    "who", ["front_desk", "receiving_worker", "receiving_supervisor", "caseworker"]
)
def test_retry_booking__the_receiving_booking_roles_or_the_sender(org, who):
    transfer = failed_opening(org)
    assert services.transfer_retry_booking_request(actor=getattr(org, who), transfer=transfer) == 1
    row = OutboxMessage.objects.get(key=f"booking:open:{transfer.pk}")
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)


@pytest.mark.parametrize(
    "who",
    [
        "outsider",  # a supervisor of another regional team
        "other_desk",  # another team's front desk: a booking role, but not of this team
        "receiving_caseworker",  # the receiving team, but not in a booking role
        "sending_desk",  # the sending team, but not in a sending role
        "other_unit_caseworker",  # another Immigration Unit team's caseworker
    ],
)
def test_retry_booking__anyone_else__refused(org, who):
    transfer = failed_opening(org)
    other_unit = Team.objects.create(
        code="koto3",
        name="Koto-tiimi 3",
        kind=TeamKind.IMMIGRATION_UNIT,
        region=Region.objects.get(code="lansi"),
    )
    actor = {
        "outsider": lambda: org.outsider,
        "other_desk": lambda: member(org.other_adult, Role.FRONT_DESK),
        "receiving_caseworker": lambda: member(org.adult, Role.CASEWORKER),
        "sending_desk": lambda: member(org.koto, Role.FRONT_DESK),
        "other_unit_caseworker": lambda: member(other_unit, Role.CASEWORKER),
    }[who]()
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        services.transfer_retry_booking_request(actor=actor, transfer=transfer)
    assert snapshot() == before


# Accepting: the named receiving worker ----------------------------------------------------


@pytest.mark.parametrize("named", ["other_team_worker", "front_desk", "inactive_worker"])
def test_accept__receiving_worker_not_an_active_receiving_worker_of_the_team__refused(org, named):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    worker = {
        "other_team_worker": lambda: member(org.other_adult, Role.RECEIVING_WORKER),
        "front_desk": lambda: org.front_desk,
        "inactive_worker": lambda: member(org.adult, Role.RECEIVING_WORKER, is_active=False),
    }[named]()
    before = snapshot()
    with pytest.raises(InvalidInput) as raised:
        services.transfer_accept(
            actor=org.receiving_supervisor, transfer=transfer, receiving_worker=worker
        )
    assert set(raised.value.errors) == {"receiving_worker"}
    assert snapshot() == before


def test_accept__an_active_receiving_worker_of_the_team__accepted(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    colleague = member(org.adult, Role.RECEIVING_WORKER)
    services.transfer_accept(
        actor=org.receiving_supervisor, transfer=transfer, receiving_worker=colleague
    )
    assert reload(transfer).receiving_worker == colleague


# Cancelling: a reason ---------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "  \n "])
def test_cancel__without_a_reason__refused_by_the_service(org, reason):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    before = snapshot()
    with pytest.raises(InvalidInput) as raised:
        services.transfer_cancel(actor=org.caseworker, transfer=transfer, reason=reason)
    assert set(raised.value.errors) == {"reason"}
    assert snapshot() == before


# Booking hours: the closing instant is not offered ----------------------------------------


@pytest.fixture
def hours(org):
    """Mon-Fri 9.00-11.30, Helsinki time."""
    BookingHours.objects.bulk_create(
        BookingHours(team=org.adult, weekday=day, opens_at=dt.time(9), closes_at=dt.time(11, 30))
        for day in range(5)
    )


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # A second before closing: at once.
        (dt.datetime(2026, 11, 24, 11, 29, 59), dt.datetime(2026, 11, 24, 11, 29, 59)),
        # Exactly at closing: the desk is closed, so the next morning.
        (dt.datetime(2026, 11, 24, 11, 30), dt.datetime(2026, 11, 25, 9, 0)),
        # Exactly at opening: at once.
        (dt.datetime(2026, 11, 24, 9, 0), dt.datetime(2026, 11, 24, 9, 0)),
    ],
)
def test_booking_request__at_the_closing_instant__waits_for_the_next_opening(
    org, hours, at, expected
):
    at, expected = at.replace(tzinfo=HELSINKI), expected.replace(tzinfo=HELSINKI)
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    with time_machine.travel(at, tick=False):
        services.transfer_accept(
            actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
        )
        booking = services.transfer_request_booking(transfer=transfer, actor=org.front_desk)
    opening = OutboxMessage.objects.get(key=f"booking:open:{transfer.pk}")
    sending = OutboxMessage.objects.get(key=f"booking:send:{booking.pk}")
    assert opening.available_at == expected
    assert sending.available_at == expected


# An inactive member ----------------------------------------------------------------------


def test_inactive_member__cannot_act_through_a_service_called_directly(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    org.front_desk.is_active = False
    org.front_desk.save()
    org.caseworker.is_active = False
    org.caseworker.save()
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        services.transfer_confirm_booking(
            actor=org.front_desk,
            transfer=transfer,
            starts_at=clock.now() + dt.timedelta(days=3),
            place="Malmi front desk",
            interpreter="Interpreter booking 7",
        )
    with pytest.raises(ActorNotAllowed):
        services.transfer_cancel(actor=org.caseworker, transfer=transfer, reason="Moved away")
    assert snapshot() == before
