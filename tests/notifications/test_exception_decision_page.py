"""The supervisor decides a requested exception on the supervisor page, where the notice of
the request points: approve or refuse with a reason, errors beside the field."""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from cases.enums import CaseState
from cases.models import Event
from criteria import services as criteria_services
from criteria.enums import AssessmentStatus
from criteria.selectors import open_review_of
from notifications.models import Notification, NotificationKind
from tests.factories import case_in_state, reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def signed_in(user, language="en"):
        client.force_login(user)
        client.cookies["django_language"] = language
        return client

    return signed_in


@pytest.fixture
def requested(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    housing = open_review_of(case).assessments.get(criterion__code="housing")
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=housing,
        status=AssessmentStatus.NOT_MET,
        plan_action="Apply for a rental flat",
    )
    return criteria_services.assessment_request_exception(
        actor=org.caseworker, assessment=housing, justification="A flat is promised"
    )


def _url(assessment):
    return f"/assessments/{assessment.pk}/exception-decision/"


def test_the_notice_leads_to_the_request_on_the_supervisor_page(web, org, requested):
    note = Notification.objects.get(
        kind=NotificationKind.EXCEPTION_REQUESTED, recipient=org.koto_supervisor
    )
    page = web(org.koto_supervisor).get(note.link.split("#")[0])
    text = page.content.decode()
    assert page.status_code == 200
    assert f'id="exception-{requested.pk}"' in text
    assert "A flat is promised" in text
    assert f'action="{_url(requested)}"' in text
    assert AccessLog.objects.filter(
        actor=org.koto_supervisor, case_id=requested.review.case_id, action="web_list"
    ).exists()


def test_refuse_without_a_reason_is_named_beside_the_field_and_nothing_written(web, org, requested):
    prefix = f"x{requested.pk}"
    page = web(org.koto_supervisor).post(
        _url(requested), {f"{prefix}-decision": "refuse", f"{prefix}-text": " "}
    )
    assert page.status_code == 400
    text = page.content.decode()
    assert f'id="id_{prefix}-text_error">Write the reason for refusing the exception.' in text
    assert 'value="refuse" class="hds-radio-button__input"' in text
    assert not Event.objects.filter(action="refuse_exception").exists()
    assert reload(requested).exception_requested


def test_refuse_with_a_reason_records_it_and_tells_the_caseworker(web, org, requested):
    prefix = f"x{requested.pk}"
    page = web(org.koto_supervisor, "fi").post(
        _url(requested), {f"{prefix}-decision": "refuse", f"{prefix}-text": "Not signed yet"}
    )
    assert page.status_code == 302
    assert page.url == f"/supervisor/#exception-{requested.pk}"
    assert Event.objects.get(action="refuse_exception").reason == "Not signed yet"
    assert Notification.objects.get(kind=NotificationKind.EXCEPTION_REFUSED).recipient == (
        org.caseworker
    )
    # Decided: no longer waiting on the page.
    after = web(org.koto_supervisor).get("/supervisor/").content.decode()
    assert f'id="exception-{requested.pk}"' not in after


def test_approve_keeps_the_request_justification(web, org, requested):
    prefix = f"x{requested.pk}"
    page = web(org.koto_supervisor).post(_url(requested), {f"{prefix}-decision": "approve"})
    assert page.status_code == 302
    requested = reload(requested)
    assert requested.exception_approved
    assert requested.exception_justification == "A flat is promised"
    # Decided twice (a second supervisor at the same time): told, nothing more written.
    again = web(org.koto_supervisor).post(
        _url(requested), {f"{prefix}-decision": "refuse", f"{prefix}-text": "x"}, follow=True
    )
    assert again.status_code == 200
    assert "No exception request waits for a decision." in again.content.decode()
    assert Event.objects.filter(action="refuse_exception").count() == 0


@pytest.mark.parametrize(
    ("who", "status"),
    # Not a supervisor: refused; a supervisor of another team: the request is not theirs
    # to see (404, and the attempt is logged as denied).
    [("caseworker", 403), ("receiving_supervisor", 404), ("outsider", 404)],
)
def test_only_a_supervisor_of_the_team_decides(web, org, requested, who, status):
    prefix = f"x{requested.pk}"
    page = web(getattr(org, who)).post(
        _url(requested), {f"{prefix}-decision": "refuse", f"{prefix}-text": "No"}
    )
    assert page.status_code == status
    if status == 404:
        assert AccessLog.objects.filter(actor=getattr(org, who), outcome="denied").exists()
    assert not Event.objects.filter(action="refuse_exception").exists()
