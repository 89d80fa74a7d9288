"""The supervisor decides a requested exception on the supervisor page, where the notice of
the request points: approve or refuse with a reason, errors beside the field."""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from cases.enums import CaseState, TeamKind
from cases.models import Case, Event, Team
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
    assert page.url == f"/supervisor/?exception={requested.pk}#exception-{requested.pk}"
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


def _many_requested(org, count):
    """`count` exception requests waiting, one per client, oldest first."""
    made = []
    for n in range(count):
        case = case_in_state(org, CaseState.IN_REVIEW, last_name=f"Pyyntö {n:02}")
        housing = open_review_of(case).assessments.get(criterion__code="housing")
        criteria_services.assessment_update(
            actor=org.caseworker,
            assessment=housing,
            status=AssessmentStatus.NOT_MET,
            plan_action="Apply for a rental flat",
        )
        made.append(
            criteria_services.assessment_request_exception(
                actor=org.caseworker, assessment=housing, justification=f"Reason {n:02}"
            )
        )
    return made


def test_a_busy_week__a_page_of_requests__the_notice_opens_the_page_holding_its_own(web, org):
    """27 requests wait: the page shows the oldest 25 with the count and a pager, one
    access-log row per client shown; the newest request's notice opens page 2, where it
    stands; a form sent back with errors shows its own request whatever its page."""
    made = _many_requested(org, 27)
    supervisor = web(org.koto_supervisor)
    first = supervisor.get("/supervisor/").content.decode()
    shown = [a for a in made if f'id="exception-{a.pk}"' in first]
    assert shown == made[:25]
    assert "Exception requests (27)" in first
    assert "/supervisor/?requests_page=2#h-requests" in first
    requests_read = AccessLog.objects.filter(
        actor=org.koto_supervisor, action="web_list", case_id__in=[a.review.case_id for a in made]
    )
    assert sorted(requests_read.values_list("case_id", flat=True)) == sorted(
        a.review.case_id for a in made[:25]
    )

    newest = made[-1]
    note = Notification.objects.filter(
        kind=NotificationKind.EXCEPTION_REQUESTED, recipient=org.koto_supervisor
    ).latest("pk")
    assert note.link == f"/supervisor/?exception={newest.pk}#exception-{newest.pk}"
    opened = supervisor.get(note.link.split("#")[0]).content.decode()
    assert [a for a in made if f'id="exception-{a.pk}"' in opened] == made[25:]
    # A page asked for wins over the request named (the pager's links keep both).
    assert (
        f'id="exception-{made[0].pk}"'
        in supervisor.get(f"/supervisor/?exception={newest.pk}&requests_page=1").content.decode()
    )

    prefix = f"x{newest.pk}"
    back = supervisor.post(_url(newest), {f"{prefix}-decision": "refuse", f"{prefix}-text": ""})
    assert back.status_code == 400
    text = back.content.decode()
    assert f'id="id_{prefix}-text_error">Write the reason for refusing the exception.' in text
    # Sent back at the decision's URL: the page's links and filter still lead to the page.
    assert 'href="/supervisor/?requests_page=1#h-requests"' in text
    assert 'action="/supervisor/" class="filters"' in text


@pytest.mark.parametrize("given", ["abc", "0", "-1", "1\x00", "9" * 40, "²", "other team's"])
def test_a_request_named_badly_or_out_of_reach_shows_the_first_page(web, org, given):
    """Whatever `?exception=` names (not an id, or another team's request) the page answers
    with the first page of the team's own requests, and says nothing of the other."""
    own, other = _many_requested(org, 2)
    koto3 = Team.objects.create(
        code="koto3", name="Koto-tiimi 3", kind=TeamKind.IMMIGRATION_UNIT, region=org.koto.region
    )
    Case.objects.filter(pk=other.review.case_id).update(team=koto3)
    page = web(org.koto_supervisor).get(
        "/supervisor/", {"exception": other.pk if given == "other team's" else given}
    )
    if "\x00" in given:  # a NUL anywhere is refused before any view (web/middleware.py)
        assert page.status_code == 400
        return
    assert page.status_code == 200
    text = page.content.decode()
    assert f'id="exception-{own.pk}"' in text
    assert f'id="exception-{other.pk}"' not in text
