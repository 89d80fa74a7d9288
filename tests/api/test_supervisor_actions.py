"""The supervisor's exceptions waiting, cases at the 5-year cap and the reassignment of a
worker's cases: for the supervisors of the team only, access-logged, the reassignment
idempotent."""

import datetime as dt

import pytest

from audit.models import AccessLog
from cases.enums import CaseAction, CaseState, Role
from cases.models import Event
from criteria import services as criteria_services
from criteria.enums import AssessmentStatus
from criteria.selectors import open_review_of
from tests.factories import as_user, case_in_state, make_org, member, open_case, reload
from tests.snapshot import snapshot
from transfers import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    return make_org()


def rows(user, url):
    response = as_user(user).get(url)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def denied(user, action):
    return AccessLog.objects.filter(actor=user, action=action, outcome="denied")


def test_exceptions_waiting__a_not_met_criterion_that_may_have_an_exception(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    case_in_state(org, CaseState.IN_REVIEW)  # nothing not met: not waiting
    review = open_review_of(case)
    housing = review.assessments.select_related("criterion").order_by("criterion__order")[0]
    assert housing.criterion.exception_allowed
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=housing,
        status=AssessmentStatus.NOT_MET,
        plan_action="Find a flat",
    )

    [row] = rows(org.koto_supervisor, "/api/v1/supervisor/exceptions-waiting/")
    assert row == {
        "review": review.pk,
        "case": case.pk,
        "reference": case.reference,
        "responsible_worker": org.caseworker.username,
        "team": "koto2",
        "criteria": [{"code": housing.criterion.code, "name": housing.criterion.name}],
        "started_at": row["started_at"],
    }
    assert dt.datetime.fromisoformat(row["started_at"]) == review.started_at
    assert AccessLog.objects.filter(
        actor=org.koto_supervisor, action="api_list", outcome="allowed", case=case
    ).exists()
    assert rows(org.koto_supervisor, "/api/v1/supervisor/exceptions-waiting/?team=koto2")
    assert rows(org.koto_supervisor, "/api/v1/supervisor/exceptions-waiting/?team=lansi-aiso") == []
    # Another team's supervisor sees none of it.
    assert rows(org.receiving_supervisor, "/api/v1/supervisor/exceptions-waiting/") == []

    # Approved, it no longer waits.
    criteria_services.assessment_approve_exception(
        actor=org.koto_supervisor, assessment=housing, justification="Housing secured."
    )
    assert rows(org.koto_supervisor, "/api/v1/supervisor/exceptions-waiting/") == []


def test_exceptions_waiting__a_caseworker_is_refused_and_logged(org):
    refused = as_user(org.caseworker).get("/api/v1/supervisor/exceptions-waiting/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert denied(org.caseworker, "api_list").count() == 1


def test_cases_at_cap__open_cases_of_five_years_or_more(org):
    at_cap = open_case(org, started_months_ago=61)
    open_case(org, started_months_ago=59)
    closed = open_case(org, started_months_ago=62)
    services.case_close(
        actor=org.koto_supervisor, case=closed, reason="moved_away", decision="Moved to Tampere."
    )

    [row] = rows(org.koto_supervisor, "/api/v1/supervisor/cases-at-cap/")
    assert row == {
        "id": at_cap.pk,
        "reference": at_cap.reference,
        "team": "koto2",
        "responsible_worker": org.caseworker.username,
        "integration_started_on": at_cap.integration_started_on.isoformat(),
        "cap_on": at_cap.cap_on.isoformat(),
        "state": CaseState.ACTIVE,
    }
    assert AccessLog.objects.filter(
        actor=org.koto_supervisor, action="api_list", outcome="allowed", case=at_cap
    ).exists()
    assert rows(org.koto_supervisor, "/api/v1/supervisor/cases-at-cap/?team=pohjoinen-aiso") == []
    assert rows(org.outsider, "/api/v1/supervisor/cases-at-cap/") == []

    refused = as_user(org.front_desk).get("/api/v1/supervisor/cases-at-cap/")
    assert refused.status_code == 403
    assert denied(org.front_desk, "api_list").count() == 1
    assert not AccessLog.objects.filter(actor=org.front_desk, outcome="allowed").exists()


@pytest.fixture
def new_worker(org):
    return member(org.koto, Role.CASEWORKER)


def reassign(user, body, **headers):
    return as_user(user).post("/api/v1/supervisor/reassign/", body, format="json", **headers)


def test_reassign__the_chosen_cases_move_and_are_logged(org, new_worker):
    first, second = open_case(org), open_case(org)
    body = {
        "team": "koto2",
        "from_worker": org.caseworker.username,
        "to_worker": new_worker.username,
        "cases": [first.pk],
    }
    response = reassign(org.koto_supervisor, body)
    assert response.status_code == 200, response.json()
    assert response.json() == [
        {"id": first.pk, "reference": first.reference, "responsible_worker": new_worker.username}
    ]
    assert reload(first).responsible_worker == new_worker
    assert reload(second).responsible_worker == org.caseworker
    assert list(
        AccessLog.objects.filter(actor=org.koto_supervisor, action="api_transition").values_list(
            "case_id", "client_id", "outcome"
        )
    ) == [(first.pk, first.client_id, "allowed")]

    # Without `cases`: all of the worker's open cases.
    response = reassign(org.koto_supervisor, {**body, "cases": [second.pk]})
    assert [row["id"] for row in response.json()] == [second.pk]
    back = {
        "team": "koto2",
        "from_worker": new_worker.username,
        "to_worker": org.caseworker.username,
    }
    response = reassign(org.koto_supervisor, back)
    assert sorted(row["id"] for row in response.json()) == sorted([first.pk, second.pk])


def test_reassign__idempotency_key_replays_the_first_answer_without_a_second_move(org, new_worker):
    case = open_case(org)
    body = {
        "team": "koto2",
        "from_worker": org.caseworker.username,
        "to_worker": new_worker.username,
    }
    first = reassign(org.koto_supervisor, body, HTTP_IDEMPOTENCY_KEY="move-1")
    replay = reassign(org.koto_supervisor, body, HTTP_IDEMPOTENCY_KEY="move-1")
    assert (first.status_code, replay.status_code) == (200, 200), replay.json()
    assert replay.json() == first.json()
    assert Event.objects.filter(case=case, action=CaseAction.REASSIGN).count() == 1
    assert AccessLog.objects.filter(action="api_transition", case=case).count() == 1
    # Without the key the same request is a second attempt: nothing left to move.
    again = reassign(org.koto_supervisor, body)
    assert again.status_code == 400
    assert "cases" in again.json()["errors"]
    other = reassign(
        org.koto_supervisor,
        {**body, "to_worker": org.caseworker.username},
        HTTP_IDEMPOTENCY_KEY="move-1",
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("key", [None, "refused-1"])
def test_reassign__another_teams_supervisor_is_refused_and_logged(org, new_worker, key):
    case = open_case(org)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    before = snapshot()
    body = {
        "team": "koto2",
        "from_worker": org.caseworker.username,
        "to_worker": new_worker.username,
    }
    refused = reassign(org.receiving_supervisor, body, **headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "actor_not_allowed"
    assert list(
        denied(org.receiving_supervisor, "api_transition").values_list("case_id", flat=True)
    ) == [case.pk]
    after = snapshot()
    assert {k: v for k, v in after.items() if k != "audit.AccessLog"} == {
        k: v for k, v in before.items() if k != "audit.AccessLog"
    }
    assert reload(case).responsible_worker == org.caseworker


def test_reassign__a_caseworker_is_refused_and_logged(org, new_worker):
    case = open_case(org)
    body = {
        "team": "koto2",
        "from_worker": org.caseworker.username,
        "to_worker": new_worker.username,
    }
    refused = reassign(org.caseworker, body)
    assert refused.status_code == 403
    assert denied(org.caseworker, "api_transition").count() == 1
    assert reload(case).responsible_worker == org.caseworker


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("team", "no-such-team"),
        ("team", "pohjoinen-aiso"),  # not an Immigration Unit team
        ("from_worker", "nobody"),
        ("to_worker", "nobody"),
        ("cases", []),
        ("cases", ["x"]),
    ],
)
def test_reassign__bad_input__400_names_the_field(org, new_worker, field, value):
    case = open_case(org)
    body = {
        "team": "koto2",
        "from_worker": org.caseworker.username,
        "to_worker": new_worker.username,
    }
    response = reassign(org.koto_supervisor, {**body, field: value})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == [field]
    assert reload(case).responsible_worker == org.caseworker


def test_reassign__the_new_worker_must_be_a_caseworker_of_the_team(org):
    open_case(org)
    body = {
        "team": "koto2",
        "from_worker": org.caseworker.username,
        "to_worker": org.receiving_worker.username,
    }
    response = reassign(org.koto_supervisor, body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["to_worker"]
