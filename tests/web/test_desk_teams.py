"""The front desk's queue across the teams it serves (Malmi's desk books the North's adult
teams and its youth team), with the escorting sending worker as an attendee."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from audit.models import AccessLog, AccessOutcome
from cases.enums import CaseState, Role, TeamKind
from cases.models import BookingHours, PostalArea, Team
from criteria.selectors import open_review_of
from notifications.services import relay_pending
from tests.factories import case_in_state, handover_slot, member, reload
from transfers import services
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def signed_in(user):
        client.force_login(user)
        return client

    return signed_in


@pytest.fixture
def second_adult(org):
    team = Team.objects.create(
        code="pohjoinen-aiso-2",
        name="Pohjoinen: aikuissosiaalityö 2",
        kind=TeamKind.ADULT,
        region=org.adult.region,
        front_desk_team=org.adult,
    )
    org.youth.front_desk_team = org.adult
    org.youth.save()
    PostalArea.objects.filter(postal_code="00640").update(adult_team=team)
    PostalArea.objects.filter(postal_code="00700").update(adult_team=org.adult)
    return team


def _desk_hours(org):
    """Malmi's desk books on Wednesdays 9.00-11.30 (set once the requests are in)."""
    BookingHours.objects.create(
        team=org.adult, weekday=2, opens_at=dt.time(9), closes_at=dt.time(11, 30)
    )


def _requested(org, team, *, escorted=False, **client):
    """A transfer to `team` with its booking requested; escorted if asked."""
    case = case_in_state(org, CaseState.IN_REVIEW, **client)
    review = open_review_of(case)
    for assessment in review.assessments.select_related("criterion"):
        from criteria import services as criteria_services
        from criteria.models import AssessmentStatus

        if assessment.status != AssessmentStatus.NOT_APPLICABLE:
            criteria_services.assessment_update(
                actor=org.caseworker,
                assessment=assessment,
                status=AssessmentStatus.MET,
                multi_problem=escorted and assessment.criterion.has_multi_problem_marker,
            )
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=review
    )
    assert transfer.receiving_team == team
    assert transfer.escorted is escorted
    receiver = member(team, Role.RECEIVING_WORKER) if team != org.adult else org.receiving_worker
    services.transfer_accept(actor=receiver, transfer=transfer, receiving_worker=receiver)
    relay_pending()
    return reload(transfer)


def test_desk__one_queue_for_every_team_the_desk_serves(web, org, second_adult):
    own = _requested(org, org.adult, postal_code="00700")
    second = _requested(org, second_adult, postal_code="00640", escorted=True)
    young = _requested(org, org.youth, postal_code="00700", date_of_birth=dt.date(2002, 2, 2))
    lansi = case_in_state(org, CaseState.IN_REVIEW, postal_code="00440")
    assert lansi  # another region's case never shows at Malmi
    org.caseworker.first_name, org.caseworker.last_name = "Saara", "Saattaja"
    org.caseworker.save()
    _desk_hours(org)

    page = web(org.front_desk).get(reverse("web:desk"), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    for transfer in (own, second, young):
        assert transfer.case.reference in html
    assert "3 bookings to confirm" in html
    assert "Pohjoinen: aikuissosiaalityö 2" in html and "Pohjoinen nuorten tiimi" in html
    # One set of booking hours: the desk's.
    assert html.count("09:00–11:30") == 1
    # The escorted one names its sending worker as an attendee; the others none.
    assert "Saara Saattaja (sending worker)" in html
    assert html.count("(sending worker)") == 1
    # Every transfer shown has its access-log row.
    logged = set(
        AccessLog.objects.filter(actor=org.front_desk, action="web_list").values_list(
            "case_id", flat=True
        )
    )
    assert {own.case_id, second.case_id, young.case_id} <= logged


def test_desk__the_desk_opens_and_books_a_served_team_s_transfer(web, org, second_adult):
    transfer = _requested(org, second_adult, postal_code="00640")
    desk = web(org.front_desk)
    assert desk.get(reverse("web:transfer", args=[transfer.pk])).status_code == 200
    future = handover_slot(days=3).strftime("%Y-%m-%dT%H:%M")
    page = desk.post(
        reverse("web:transfer-confirm", args=[transfer.pk]),
        {"confirm-starts_at": future, "confirm-place": "Malmi", "confirm-interpreter": "T 1"},
    )
    assert page.status_code == 302
    assert reload(transfer).state == TransferState.BOOKED


def test_desk__another_region_s_desk_sees_nothing_of_it(web, org, second_adult):
    transfer = _requested(org, second_adult, postal_code="00640")
    lansi_desk = member(org.other_adult, Role.FRONT_DESK)
    client = web(lansi_desk)
    assert transfer.case.reference not in client.get(reverse("web:desk")).content.decode()
    assert client.get(reverse("web:transfer", args=[transfer.pk])).status_code == 404
    assert AccessLog.objects.filter(
        actor=lansi_desk, outcome=AccessOutcome.DENIED, case_id=transfer.case_id
    ).exists()


def test_desk__the_booking_queue_api_serves_every_team_of_the_desk(org, second_adult):
    from tests.factories import as_user

    second = _requested(org, second_adult, postal_code="00640")
    answer = as_user(org.front_desk).get("/api/v1/booking-queue/")
    assert answer.status_code == 200
    assert second.pk in [row["transfer"] for row in answer.json()["results"]]
    _desk_hours(org)
    hours = as_user(org.front_desk).get("/api/v1/booking-queue/booking-hours/").json()
    assert len(hours) == 1
