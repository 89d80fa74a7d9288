"""The web side of follow-up between reviews: extension requests and the supervisor's
decision, bringing a review forward, and overdue plans on the caseload and the supervisor's
page."""

import datetime as dt
import re

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse

from audit.models import AccessLog
from cases.enums import CaseState
from cases.models import Event
from core import clock
from criteria import services as criteria_services
from criteria.enums import ExtensionStatus
from criteria.models import AssessmentStatus, ExtensionRequest
from criteria.selectors import open_review_of
from tests.factories import case_in_state, open_case, reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def signed_in(user):
        client.force_login(user)
        return client

    return signed_in


def review_with_a_plan(org, *, target):
    case = case_in_state(org, CaseState.IN_REVIEW, last_name="Plantest")
    review = open_review_of(case)
    for assessment in review.assessments.select_related("criterion"):
        if assessment.status == AssessmentStatus.NOT_APPLICABLE:
            continue
        not_met = assessment.criterion.code == "finances"
        criteria_services.assessment_update(
            actor=org.caseworker,
            assessment=assessment,
            status=AssessmentStatus.NOT_MET if not_met else AssessmentStatus.MET,
            plan_action="Kela-hakemus" if not_met else "",
            plan_target_on=target if not_met else None,
        )
    return case, review


def test_extension__asked_on_the_review_page_and_approved_on_the_supervisors(web, org):
    case, review = review_with_a_plan(org, target=None)
    wanted = case.integration_started_on + relativedelta(months=42)
    worker = web(org.caseworker)
    page = worker.post(
        reverse("web:review-not-ready", args=[review.pk]),
        {"notready-next_review_on": wanted.isoformat()},
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "esihenkilön on ensin hyväksyttävä jatkaminen" in html
    # The request form below is open with the date typed, ready to ask.
    asked = re.search(r'<input[^>]*name="extension-next_review_on"[^>]*>', html).group(0)
    assert f'value="{wanted.isoformat()}"' in asked
    page = worker.post(
        reverse("web:review-extension", args=[review.pk]),
        {"extension-next_review_on": wanted.isoformat(), "extension-reason": ""},
    )
    assert page.status_code == 400
    assert "Kirjoita, miksi kotoutumisaikaa jatketaan." in page.content.decode()
    assert wanted.isoformat() in page.content.decode()  # what was typed is kept
    assert not ExtensionRequest.objects.exists()
    page = worker.post(
        reverse("web:review-extension", args=[review.pk]),
        {"extension-next_review_on": wanted.isoformat(), "extension-reason": "Terapia kesken"},
    )
    assert page.status_code == 302
    [request] = ExtensionRequest.objects.all()

    boss = web(org.koto_supervisor)
    html = boss.get(reverse("web:supervisor")).content.decode()
    assert f'id="e-{request.pk}"' in html and "Terapia kesken" in html
    assert AccessLog.objects.filter(
        actor=org.koto_supervisor, action="web_list", case=case
    ).exists()
    prefix = f"e{request.pk}"
    page = boss.post(
        reverse("web:extension-decide", args=[request.pk]), {f"{prefix}-decision": "approve"}
    )
    assert page.status_code == 400
    assert "Kirjoita päätöksen perustelu." in page.content.decode()
    assert reload(request).status == ExtensionStatus.PENDING
    page = boss.post(
        reverse("web:extension-decide", args=[request.pk]),
        {f"{prefix}-decision": "approve", f"{prefix}-reason": "Hoito jatkuu"},
    )
    assert page.status_code == 302
    assert reload(request).status == ExtensionStatus.APPROVED
    # Decided once: a second decision is a conflict, said, nothing changed.
    page = boss.post(
        reverse("web:extension-decide", args=[request.pk]),
        {f"{prefix}-decision": "refuse", f"{prefix}-reason": "Myöhään"},
        follow=True,
    )
    assert "Tästä jatkamispyynnöstä on jo päätetty." in page.content.decode()
    assert reload(request).status == ExtensionStatus.APPROVED

    page = worker.post(
        reverse("web:review-not-ready", args=[review.pk]),
        {"notready-next_review_on": wanted.isoformat()},
    )
    assert page.status_code == 302
    assert reload(case).review_due_on == wanted
    timeline = worker.get(reverse("web:case", args=[case.pk])).content.decode()
    for words in ("Jatkamista pyydetty", "Jatkaminen hyväksytty", "Kotoutumisaikaa jatkettu"):
        assert words in timeline


def test_extension_decision__only_a_supervisor_of_the_team(web, org):
    case, review = review_with_a_plan(org, target=None)
    request = criteria_services.extension_request(
        actor=org.caseworker,
        review=review,
        next_review_on=case.integration_started_on + relativedelta(months=42),
        reason="x",
    )
    data = {f"e{request.pk}-decision": "approve", f"e{request.pk}-reason": "ok"}
    assert web(org.caseworker).post(
        reverse("web:extension-decide", args=[request.pk]), data
    ).status_code in (403, 404)
    assert (
        web(org.receiving_supervisor)
        .post(reverse("web:extension-decide", args=[request.pk]), data)
        .status_code
        == 404
    )
    assert reload(request).status == ExtensionStatus.PENDING


def test_bring_forward__from_the_case_page_with_a_reason(web, org):
    case = open_case(org, started_months_ago=6)
    worker = web(org.caseworker)
    html = worker.get(reverse("web:case", args=[case.pk])).content.decode()
    assert reverse("web:review-bring-forward", args=[case.pk]) in html
    url = reverse("web:review-bring-forward", args=[case.pk])
    yesterday = (clock.today() - dt.timedelta(days=1)).isoformat()
    page = worker.post(url, {"forward-review_on": yesterday, "forward-reason": "Muutto"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "Arvioinnin päivämäärä ei voi olla menneisyydessä." in html
    assert "Muutto" in html and 'aria-invalid="true"' in html
    page = worker.post(
        url, {"forward-review_on": clock.today().isoformat(), "forward-reason": "Muutto"}
    )
    assert page.status_code == 302
    case = reload(case)
    assert case.state == CaseState.REVIEW_DUE and case.review_due_on == clock.today()
    assert Event.objects.filter(case=case, action="bring_forward", reason="Muutto").exists()


def test_overdue_plans__on_the_caseload_and_the_supervisors_page(web, org):
    case, review = review_with_a_plan(org, target=clock.today() + dt.timedelta(days=5))
    criteria_services.review_complete_not_ready(
        actor=org.caseworker,
        review=review,
        next_review_on=case.integration_started_on + relativedelta(months=30),
    )
    review.assessments.filter(status=AssessmentStatus.NOT_MET).update(
        plan_target_on=clock.today() - dt.timedelta(days=2)  # time has passed
    )
    html = web(org.caseworker).get(reverse("web:caseload")).content.decode()
    assert 'id="overdue-plans"' in html and "Plantest" in html
    assert "1 suunnitelma myöhässä tavoitepäivästä" in html
    html = web(org.koto_supervisor).get(reverse("web:supervisor")).content.decode()
    assert 'id="overdue-plans"' in html and case.reference in html
    # Someone else's caseload does not show it.
    html = web(org.receiving_worker).get(reverse("web:inbox")).content.decode()
    assert "Plantest" not in html


def test_exception__requested_on_the_review_page_and_approved_by_the_supervisor(web, org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    housing = review.assessments.get(criterion__code="housing")
    worker = web(org.caseworker)
    # Not assessed yet: no exception is offered.
    html = worker.get(reverse("web:review", args=[review.pk])).content.decode()
    assert reverse("web:request-exception", args=[housing.pk]) not in html
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=housing,
        status=AssessmentStatus.NOT_MET,
        plan_action="Asunnon haku",
    )
    html = worker.get(reverse("web:review", args=[review.pk])).content.decode()
    url = reverse("web:request-exception", args=[housing.pk])
    assert f'action="{url}"' in html
    page = worker.post(url, {f"r{housing.pk}-justification": "  "})
    assert page.status_code == 400
    assert "Kirjoita poikkeuksen perustelu." in page.content.decode()
    assert reload(housing).exception_requested_at is None
    page = worker.post(url, {f"r{housing.pk}-justification": "Asuu tuetusti sukulaisten luona"})
    assert page.status_code == 302
    housing = reload(housing)
    assert housing.exception_requested and housing.exception_requested_by == org.caseworker
    html = worker.get(reverse("web:review", args=[review.pk])).content.decode()
    assert "Poikkeusta pyydetty: odottaa esihenkilön päätöstä" in html
    assert f'action="{url}"' not in html  # one request at a time

    boss = web(org.koto_supervisor)
    html = boss.get(reverse("web:review", args=[review.pk])).content.decode()
    assert "Asuu tuetusti sukulaisten luona" in html  # the request's words, to approve
    page = boss.post(
        reverse("web:approve-exception", args=[housing.pk]),
        {f"x{housing.pk}-justification": "Asuu tuetusti sukulaisten luona"},
    )
    assert page.status_code == 302
    assert reload(housing).exception_approved_by == org.koto_supervisor
    actions = list(
        Event.objects.filter(review=review, action__endswith="_exception").values_list(
            "action", flat=True
        )
    )
    assert actions == ["request_exception", "approve_exception"]


def test_extensions__a_busy_week__a_page_of_25_and_a_form_sent_back_shows_on_its_page(web, org):
    """27 extension requests wait: the page shows the oldest 25, the count and a pager; a
    decision for the 27th sent without its reason comes back on page 2, beside the field,
    with the decision kept."""
    requests = []
    for n in range(27):
        case = case_in_state(org, CaseState.IN_REVIEW, last_name=f"Jatko {n:02}")
        requests.append(
            criteria_services.extension_request(
                actor=org.caseworker,
                review=open_review_of(case),
                next_review_on=case.integration_started_on + relativedelta(months=42),
                reason=f"Syy {n:02}",
            )
        )
    boss = web(org.koto_supervisor)
    html = boss.get(reverse("web:supervisor")).content.decode()
    assert [r for r in requests if f'id="e-{r.pk}"' in html] == requests[:25]
    assert "/supervisor/?extensions_page=2#h-extensions" in html
    second = boss.get(reverse("web:supervisor") + "?extensions_page=2").content.decode()
    assert [r for r in requests if f'id="e-{r.pk}"' in second] == requests[25:]

    last = requests[-1]
    prefix = f"e{last.pk}"
    page = boss.post(
        reverse("web:extension-decide", args=[last.pk]), {f"{prefix}-decision": "refuse"}
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert f'id="e-{last.pk}"' in html
    assert "Kirjoita päätöksen perustelu." in html
    assert re.search(rf'name="{prefix}-decision" value="refuse"[^>]*checked', html)
    assert reload(last).status == ExtensionStatus.PENDING


def test_not_ready_sent_twice__the_second_says_the_cases_state_in_words(web, org):
    """A double submit: the second finds the case moved on and says so in words, not in
    the state machine's codes (found by a review for codes shown to users)."""
    _case, review = review_with_a_plan(org, target=None)
    worker = web(org.caseworker)
    sent = {"notready-next_review_on": (clock.today() + dt.timedelta(days=180)).isoformat()}
    url = reverse("web:review-not-ready", args=[review.pk])
    assert worker.post(url, sent).status_code == 302
    events = Event.objects.count()
    html = worker.post(url, sent, follow=True).content.decode()
    assert Event.objects.count() == events
    assert "Joku muu ehti ensin: asiakkuuden tila on nyt ”Aktiivinen”" in html, html[-3000:]
    for code in ("complete_not_ready", "”active”", "mark_due"):
        assert code not in html, code


def test_a_role_refused__says_which_roles_in_words_without_the_actions_code():
    """The 403 page shows this message: the roles by their names, no action or role code;
    the API keeps the action's code beside it."""
    from django.utils import translation

    from cases.roles import SENDING_ROLES
    from core.errors import ActorNotAllowed

    with translation.override("fi"):
        refused = ActorNotAllowed(action="cancel", roles=SENDING_ROLES, team="Koto-tiimi 3")
        alone = ActorNotAllowed(action="export", roles=SENDING_ROLES[1:], team="")
    assert refused.detail == (
        "Roolisi ei salli tätä: tähän tarvitaan rooli Vastuutyöntekijä / "
        "Esihenkilö (johtava sosiaalityöntekijä) tiimissä Koto-tiimi 3."
    )
    assert alone.detail == (
        "Roolisi ei salli tätä: tähän tarvitaan rooli Esihenkilö (johtava sosiaalityöntekijä)."
    )
    assert refused.extra == {"action": "cancel"}
