"""Transfer transitions through the API: one POST action each, Idempotency-Key, 409 with
the state and the allowed actions, and the receiving team's minimal summary."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AccessLog
from cases.models import Event
from core import clock
from tests.factories import as_user, make_org, reload, transfer_in_state
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    return make_org()


def test_accept__moves_the_transfer_and_logs(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    response = as_user(org.receiving_worker).post(
        f"/api/v1/transfers/{transfer.pk}/accept/",
        {"receiving_worker": org.receiving_worker.username},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "accepted"
    assert reload(transfer).state == TransferState.ACCEPTED
    assert AccessLog.objects.filter(action="api_transition", case=transfer.case).exists()


def test_accept__the_service_joins_the_transaction_of_its_access_log_row(org):
    """The service runs in the transaction `perform_and_log` opens for it and its
    access-log row (retried whole after a deadlock), not in a savepoint of its own."""
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    api = as_user(org.receiving_worker)
    with CaptureQueriesContext(connection) as queries:
        response = api.post(
            f"/api/v1/transfers/{transfer.pk}/accept/",
            {"receiving_worker": org.receiving_worker.username},
            format="json",
        )
    assert response.status_code == 200, response.json()
    savepoints = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    # The test's own transaction is around the request: one savepoint stands for the
    # transaction perform_and_log opens; the service opens none.
    assert len(savepoints) == 1, savepoints
    assert AccessLog.objects.filter(action="api_transition", case=transfer.case).count() == 1


def test_idempotency_key__replay_returns_first_answer_without_second_transition(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    api = as_user(org.receiving_worker)
    body = {"receiving_worker": org.receiving_worker.username}
    first = api.post(
        f"/api/v1/transfers/{transfer.pk}/accept/",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY="accept-123",
    )
    replay = api.post(
        f"/api/v1/transfers/{transfer.pk}/accept/",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY="accept-123",
    )
    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.json() == first.json()
    assert Event.objects.filter(transfer=transfer, action="accept").count() == 1
    # Without the key the same request is a second attempt, refused by the state machine.
    again = api.post(f"/api/v1/transfers/{transfer.pk}/accept/", body, format="json")
    assert again.status_code == 409


def test_idempotency_key__same_key_other_body__422(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    api = as_user(org.receiving_worker)
    api.post(
        f"/api/v1/transfers/{transfer.pk}/accept/",
        {"receiving_worker": org.receiving_worker.username},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    other = api.post(
        f"/api/v1/transfers/{transfer.pk}/return/",
        {"reason": "other", "text": "x"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_illegal_transition__409_names_state_and_allowed_actions(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    response = as_user(org.receiving_worker).post(
        f"/api/v1/transfers/{transfer.pk}/complete/", format="json"
    )
    assert response.status_code == 409
    problem = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert (problem["code"], problem["state"]) == ("transition_not_allowed", "proposed")
    assert problem["allowed"] == ["accept", "cancel", "request_information", "return"]


def test_bad_input__400_names_the_field(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    response = as_user(org.front_desk).post(
        f"/api/v1/transfers/{transfer.pk}/confirm-booking/",
        {"starts_at": "tomorrow", "place": ""},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fi",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"starts_at", "place"}
    past = (clock.now() - dt.timedelta(days=1)).isoformat()
    response = as_user(org.front_desk).post(
        f"/api/v1/transfers/{transfer.pk}/confirm-booking/",
        {"starts_at": past, "place": "Malmi", "interpreter": "TIMMI"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "future" in str(response.json()["errors"]["starts_at"])
    assert reload(transfer).state == TransferState.BOOKING_REQUESTED


def test_receiving_team__minimal_summary_before_acceptance(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    summary = as_user(org.receiving_worker).get(f"/api/v1/transfers/{transfer.pk}/").json()
    assert set(summary) == {
        "disclosure",
        "id",
        "reference",
        "state",
        "sending_team",
        "receiving_team",
        "escorted",
        "language",
        "interpreter_needed",
        "ppt_coordinator",
        "proposed_at",
        "allowed_actions",
        # Issue 12: the least-disclosure part of the handover summary, and the questions
        # the receiving team may ask before it decides (with the paused clock).
        "handover_summary",
        "messages",
        "information_requested_at",
        "paused_working_days",
    }
    assert summary["disclosure"] == "summary"
    assert set(summary["handover_summary"]) == {
        "ready",
        "exceptions",
        "escorted",
        "language",
        "interpreter_needed",
        "note_to_team",
    }
    full = as_user(org.caseworker).get(f"/api/v1/transfers/{transfer.pk}/").json()
    assert "override_reason" in full and "case" in full
    assert full["disclosure"] == "full"


def test_other_team__transfer_ids_answer_404(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    api = as_user(org.outsider)
    assert api.get(f"/api/v1/transfers/{transfer.pk}/").status_code == 404
    response = api.post(
        f"/api/v1/transfers/{transfer.pk}/accept/",
        {"receiving_worker": org.receiving_worker.username},
        format="json",
    )
    assert response.status_code == 404
    assert reload(transfer).state == TransferState.PROPOSED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_accepts__one_200_the_rest_409():
    org = make_org()
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    statuses = []
    barrier = threading.Barrier(6)

    def accept():
        try:
            barrier.wait(timeout=10)
            statuses.append(
                as_user(org.receiving_worker)
                .post(
                    f"/api/v1/transfers/{transfer.pk}/accept/",
                    {"receiving_worker": org.receiving_worker.username},
                    format="json",
                )
                .status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409, 409, 409, 409, 409]


def test_accept__answers_the_transfer_as_a_read_after_it_would():
    """Accept answers from the service's own copy (no second read in scope): the answer is
    the transfer as reading it afterwards shows it, in full."""
    org = make_org()
    transfer = transfer_in_state(org, "proposed")
    api = as_user(org.receiving_worker)
    answer = api.post(
        f"/api/v1/transfers/{transfer.pk}/accept/",
        {"receiving_worker": org.receiving_worker.username},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    read = api.get(f"/api/v1/transfers/{transfer.pk}/").json()
    assert answer.json() == read
    assert (read["state"], read["disclosure"]) == ("accepted", "full")
    assert read["receiving_worker"] == org.receiving_worker.username
