"""The supervisor's views, the front desk's booking queue, and the access-log report."""

import datetime as dt

import pytest
import time_machine

from audit.models import AccessLog
from cases import services as case_services
from cases.enums import CaseState
from core import clock
from tests.factories import (
    as_user,
    case_in_state,
    handover_slot,
    make_org,
    open_case,
    reload,
    transfer_in_state,
)
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    return make_org()


def rows(user, url):
    response = as_user(user).get(url)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_overdue_reviews__days_overdue_for_the_supervisor_only(org):
    case = case_in_state(org, CaseState.REVIEW_DUE)
    with time_machine.travel(clock.now() + dt.timedelta(days=5)):
        [row] = rows(org.koto_supervisor, "/api/v1/supervisor/overdue-reviews/")
        assert (row["reference"], row["days_overdue"], row["responsible_worker"]) == (
            case.reference,
            (clock.today() - case.review_due_on).days,
            org.caseworker.username,
        )
        assert AccessLog.objects.filter(
            actor=org.koto_supervisor, action="api_list", case=case
        ).exists()
        # Another team's supervisor sees none of it; a caseworker may not ask.
        assert rows(org.receiving_supervisor, "/api/v1/supervisor/overdue-reviews/") == []
        refused = as_user(org.caseworker).get("/api/v1/supervisor/overdue-reviews/")
        assert refused.status_code == 403
        filtered = rows(org.koto_supervisor, "/api/v1/supervisor/overdue-reviews/?worker=nobody")
        assert filtered == []


def test_overdue_reviews__a_review_due_today_is_not_overdue(org):
    case = open_case(org, started_months_ago=24)
    case_services.case_mark_due(case=case)
    assert reload(case).review_due_on == clock.today()
    assert rows(org.koto_supervisor, "/api/v1/supervisor/overdue-reviews/") == []


def test_stalled_transfers__after_the_reminder_threshold_in_working_days(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    assert rows(org.receiving_supervisor, "/api/v1/supervisor/stalled-transfers/") == []
    waiting = rows(org.receiving_supervisor, "/api/v1/supervisor/stalled-transfers/?all=1")
    assert [(r["transfer"], r["stage"], r["stalled"]) for r in waiting] == [
        (transfer.pk, "acceptance", False)
    ]
    with time_machine.travel(clock.now() + dt.timedelta(days=14)):
        for supervisor in (org.receiving_supervisor, org.koto_supervisor):
            [row] = rows(supervisor, "/api/v1/supervisor/stalled-transfers/")
            assert row["stalled"] is True
            assert row["working_days_waiting"] >= row["threshold_working_days"]
        assert rows(org.outsider, "/api/v1/supervisor/stalled-transfers/") == []


def test_figures__counts_without_client_data(org):
    transfer = transfer_in_state(org, TransferState.COMPLETED, last_name="Secretname")
    case_in_state(org, CaseState.IN_REVIEW)
    response = as_user(org.koto_supervisor).get("/api/v1/supervisor/figures/")
    assert response.status_code == 200
    body = response.json()
    assert b"Secretname" not in response.content
    assert body["cases_by_state"]["transferred"] == 1
    assert body["cases_by_state"]["in_review"] == 1
    month = clock.today().isoformat()[:7]
    assert body["transfers_per_month"] == [{"month": month, "region": "pohjoinen", "transfers": 1}]
    assert (
        body["median_days_due_to_transferred"] == (clock.today() - transfer.case.review_due_on).days
    )
    bad = as_user(org.koto_supervisor).get("/api/v1/supervisor/figures/?since=yesterday")
    assert bad.status_code == 400
    assert "since" in bad.json()["errors"]


def test_booking_queue__the_front_desk_sees_requested_bookings_of_its_team(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    [row] = rows(org.front_desk, "/api/v1/booking-queue/")
    assert (row["transfer"], row["reference"], row["status"]) == (
        transfer.pk,
        transfer.case.reference,
        "requested",
    )
    assert AccessLog.objects.filter(actor=org.front_desk, case=transfer.case).exists()
    assert rows(org.receiving_worker, "/api/v1/booking-queue/") == []
    assert rows(org.outsider, "/api/v1/booking-queue/") == []
    assert rows(org.caseworker, "/api/v1/booking-queue/") == []
    # Confirmed, it leaves the queue.
    response = as_user(org.front_desk).post(
        f"/api/v1/transfers/{transfer.pk}/confirm-booking/",
        {
            "starts_at": handover_slot(days=3).isoformat(),
            "place": "Malmin toimipiste",
            "interpreter": "Tulkki 42",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert rows(org.front_desk, "/api/v1/booking-queue/") == []


def test_access_log_report__who_when_why_with_the_request_id(org):
    case = case_in_state(org, CaseState.ACTIVE)
    as_user(org.caseworker).get(f"/api/v1/clients/{case.client_id}/", HTTP_X_REQUEST_ID="req-42")
    url = f"/api/v1/clients/{case.client_id}/access-log/"

    report = rows(org.koto_supervisor, url)
    read = next(r for r in report if r["action"] == "api_read")
    assert (read["actor"], read["actor_role"], read["actor_team"]) == (
        org.caseworker.username,
        "caseworker",
        "koto2",
    )
    assert (read["purpose"], read["outcome"], read["request_id"]) == (
        "case_management",
        "allowed",
        "req-42",
    )
    # Reading the report is itself logged.
    assert AccessLog.objects.filter(
        actor=org.koto_supervisor, action="api_access_report", client=case.client
    ).exists()

    refused = as_user(org.caseworker).get(url)
    assert refused.status_code == 403
    assert AccessLog.objects.filter(
        actor=org.caseworker, action="api_access_report", outcome="denied"
    ).exists()
    assert as_user(org.outsider).get(url).status_code == 404
