"""Reviews through the API: start, assess, the live readiness, not ready with a plan, the
supervisor's exception, and the proposal with the routed team (or a manual choice)."""

import datetime as dt

import pytest

from audit.models import AccessLog
from cases.enums import CaseState
from cases.models import Event
from core import clock
from tests.factories import as_user, case_in_state, make_org, reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    return make_org()


def start(org, case):
    response = as_user(org.caseworker).post("/api/v1/reviews/", {"case": case.pk}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def assess(user, assessment_id, **body):
    return as_user(user).post(f"/api/v1/assessments/{assessment_id}/assess/", body, format="json")


def assess_all_met(org, review):
    for row in review["assessments"]:
        if row["status"] != "not_applicable":
            response = assess(org.caseworker, row["id"], status="met")
            assert response.status_code == 200, response.json()


def test_review__start_assess_and_propose_to_the_routed_team(org):
    case = case_in_state(org, CaseState.REVIEW_DUE)
    review = start(org, case)
    assert reload(case).state == CaseState.IN_REVIEW
    assert [a["criterion"] for a in review["assessments"]] == [
        "housing",
        "authorities",
        "finances",
        "health",
        "family",
        "study_work",
        "children",
    ]
    # The report's Finnish wording by default.
    assert review["assessments"][0]["name"] == "Vakiintunut asumistilanne"
    assert review["readiness"]["ready"] is False
    assert review["routing"] == {
        "routed_team": "pohjoinen-aiso",
        "needs_manual_choice": False,
        "detail": "",
    }

    assess_all_met(org, review)
    detail = as_user(org.caseworker).get(f"/api/v1/reviews/{review['id']}/").json()
    assert detail["readiness"]["ready"] is True

    response = as_user(org.caseworker).post(
        f"/api/v1/reviews/{review['id']}/propose-transfer/",
        {"consent_basis": "consent"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    transfer = response.json()
    assert (transfer["state"], transfer["receiving_team"], transfer["routed_team"]) == (
        "proposed",
        "pohjoinen-aiso",
        "pohjoinen-aiso",
    )
    assert reload(case).state == CaseState.TRANSFER_PENDING
    assert AccessLog.objects.filter(action="api_transition", case=case).count() == 8


def test_assess__not_met_without_a_plan__400_names_the_field_in_finnish(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = as_user(org.caseworker).get(f"/api/v1/reviews/?case={case.pk}").json()["results"][0]
    housing = (
        as_user(org.caseworker).get(f"/api/v1/reviews/{review['id']}/").json()["assessments"][0]
    )
    response = as_user(org.caseworker).post(
        f"/api/v1/assessments/{housing['id']}/assess/",
        {"status": "not_met", "note": "Lives in temporary housing"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fi",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "plan_action" in body["errors"]
    assert "suunnitelma" in str(body["errors"]["plan_action"]).lower()
    # Nothing half-written.
    assert (
        as_user(org.caseworker).get(f"/api/v1/assessments/{housing['id']}/").json()["status"]
        == "unassessed"
    )


def test_complete_not_ready__with_plans_and_next_date(org):
    case = case_in_state(org, CaseState.REVIEW_DUE)
    review = start(org, case)
    assess_all_met(org, review)
    housing = review["assessments"][0]
    response = assess(
        org.caseworker,
        housing["id"],
        status="not_met",
        plan_action="Apply for a rental flat",
        plan_owner="Caseworker",
        plan_target_on=(clock.today() + dt.timedelta(days=60)).isoformat(),
    )
    assert response.status_code == 200, response.json()
    next_on = (clock.today() + dt.timedelta(days=90)).isoformat()
    response = as_user(org.caseworker).post(
        f"/api/v1/reviews/{review['id']}/complete-not-ready/",
        {"next_review_on": next_on},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["outcome"] == "not_ready"
    case = reload(case)
    assert (case.state, case.review_due_on.isoformat()) == (CaseState.ACTIVE, next_on)
    # Proposing from the completed review is refused and changes nothing.
    again = as_user(org.caseworker).post(
        f"/api/v1/reviews/{review['id']}/propose-transfer/",
        {"consent_basis": "consent"},
        format="json",
    )
    assert again.status_code == 409
    assert reload(case).state == CaseState.ACTIVE


def test_assess__names_keeps_and_clears_the_plans_owner(org):
    case = case_in_state(org, CaseState.REVIEW_DUE)
    review = start(org, case)
    housing = review["assessments"][0]
    target = (clock.today() + dt.timedelta(days=60)).isoformat()
    plan = {"status": "not_met", "plan_action": "Find a flat", "plan_target_on": target}

    named = assess(
        org.caseworker, housing["id"], **plan, plan_owner_user=org.koto_supervisor.username
    )
    assert named.status_code == 200, named.json()
    assert named.json()["plan_owner_user"] == org.koto_supervisor.username
    assert Event.objects.filter(action="plan_owner", case=case).count() == 1

    # Left out, the owner stays; the review's detail shows it too.
    kept = assess(org.caseworker, housing["id"], **plan, note="Still looking")
    assert kept.json()["plan_owner_user"] == org.koto_supervisor.username
    detail = as_user(org.caseworker).get(f"/api/v1/reviews/{review['id']}/").json()
    assert detail["assessments"][0]["plan_owner_user"] == org.koto_supervisor.username

    # A worker of another team cannot own the plan: 400 naming the field, nothing changed.
    refused = assess(org.caseworker, housing["id"], **plan, plan_owner_user=org.outsider.username)
    assert refused.status_code == 400
    assert "plan_owner_user" in refused.json()["errors"]
    unknown = assess(org.caseworker, housing["id"], **plan, plan_owner_user="nobody\x00")
    assert unknown.status_code == 400
    assert "plan_owner_user" in unknown.json()["errors"]
    assert reload(case).reviews.get().assessments.get(pk=housing["id"]).plan_owner_user == (
        org.koto_supervisor
    )

    # Null hands the plan back to the responsible worker.
    cleared = assess(org.caseworker, housing["id"], **plan, plan_owner_user=None)
    assert cleared.json()["plan_owner_user"] is None


def test_approve_exception__supervisor_only_and_the_refusal_is_logged(org):
    case = case_in_state(org, CaseState.REVIEW_DUE)
    review = start(org, case)
    housing = review["assessments"][0]
    assess(org.caseworker, housing["id"], status="not_met", plan_action="Find a flat")
    body = {"justification": "Temporary housing is secured for two years."}
    url = f"/api/v1/assessments/{housing['id']}/approve-exception/"

    refused = as_user(org.caseworker).post(url, body, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "actor_not_allowed"
    assert AccessLog.objects.filter(
        actor=org.caseworker, action="api_transition", outcome="denied", case=case
    ).exists()

    approved = as_user(org.koto_supervisor).post(url, body, format="json")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["exception_approved_by"] == org.koto_supervisor.username
    assert Event.objects.filter(action="approve_exception", case=case).count() == 1


def test_propose__outside_the_routing_table_asks_for_a_manual_choice(org):
    case = case_in_state(org, CaseState.REVIEW_DUE, postal_code="99999")
    review = start(org, case)
    assert review["routing"]["needs_manual_choice"] is True
    assess_all_met(org, review)
    url = f"/api/v1/reviews/{review['id']}/propose-transfer/"

    response = as_user(org.caseworker).post(url, {"consent_basis": "consent"}, format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "routing_needs_manual_choice"
    assert reload(case).state == CaseState.IN_REVIEW

    no_reason = as_user(org.caseworker).post(
        url, {"receiving_team": "lansi-aiso", "consent_basis": "consent"}, format="json"
    )
    assert no_reason.status_code == 400
    assert "override_reason" in no_reason.json()["errors"]

    chosen = as_user(org.caseworker).post(
        url,
        {
            "receiving_team": "lansi-aiso",
            "override_reason": "Moved to Länsi last week",
            "consent_basis": "consent",
        },
        format="json",
    )
    assert chosen.status_code == 201, chosen.json()
    assert (chosen.json()["receiving_team"], chosen.json()["routed_team"]) == ("lansi-aiso", None)


def test_propose__overriding_the_routed_team_needs_a_reason(org):
    case = case_in_state(org, CaseState.REVIEW_DUE)
    review = start(org, case)
    assess_all_met(org, review)
    url = f"/api/v1/reviews/{review['id']}/propose-transfer/"
    response = as_user(org.caseworker).post(
        url,
        {
            "receiving_team": "lansi-aiso",
            "override_reason": "Family lives in Länsi",
            "consent_basis": "same_controller",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["receiving_team"], body["routed_team"], body["override_reason"]) == (
        "lansi-aiso",
        "pohjoinen-aiso",
        "Family lives in Länsi",
    )


def test_close__an_action_with_a_coded_reason(org):
    case = case_in_state(org, CaseState.ACTIVE)
    url = f"/api/v1/cases/{case.pk}/close/"
    bad = as_user(org.caseworker).post(url, {"reason": "bored"}, format="json")
    assert bad.status_code == 400
    assert "reason" in bad.json()["errors"]
    assert reload(case).state == CaseState.ACTIVE
    response = as_user(org.caseworker).post(url, {"reason": "moved_away"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "closed"
