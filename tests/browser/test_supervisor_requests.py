"""The supervisor page's exception requests in a busy week, in a real browser, in Finnish,
Swedish and English, at 1366 and 390 px: 27 requests wait, the page shows 25 and the
count; the newest request's notice opens the page that holds it; a decision sent without
its reason comes back beside the field, on that page, with the choice kept, and its pager
still leads to the page's first page. Each step is
checked with axe-core, HTML_CodeSniffer and for sideways scrolling (Session.check)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.enums import CaseState
from criteria import services as criteria_services
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from notifications.models import Notification, NotificationKind
from tests.browser.conftest import LANGUAGES
from tests.factories import case_in_state, make_org, reload

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.parametrize("language", LANGUAGES),
]
WAITING = 27


def _requested(org) -> list:
    made = []
    for n in range(WAITING):
        case = case_in_state(org, CaseState.IN_REVIEW, last_name=f"Asiakas {n:02}")
        housing = open_review_of(case).assessments.get(criterion__code="housing")
        criteria_services.assessment_update(
            actor=org.caseworker,
            assessment=housing,
            status=AssessmentStatus.NOT_MET,
            plan_action="Asunnon haku",
        )
        made.append(
            criteria_services.assessment_request_exception(
                actor=org.caseworker, assessment=housing, justification=f"Perustelu {n:02}"
            )
        )
    return made


@pytest.mark.parametrize("width", [1366, 390])
def test_a_busy_week_of_exception_requests(sign_in, language, width):
    org = make_org()
    made = _requested(org)
    boss = sign_in(org.koto_supervisor, language=language, role=f"requests-{width}")
    page = boss.page
    page.set_viewport_size({"width": width, "height": 900})
    boss.go(reverse("web:supervisor"))
    items = page.locator("#h-requests ~ ul > li")
    assert items.count() == 25
    assert f"({WAITING})" in page.locator("#h-requests").inner_text()
    boss.check("supervisor-requests")

    newest = made[-1]
    note = Notification.objects.filter(
        kind=NotificationKind.EXCEPTION_REQUESTED, recipient=org.koto_supervisor
    ).latest("pk")
    boss.go(note.link)
    item = page.locator(f"#exception-{newest.pk}")
    assert item.is_visible()
    assert items.count() == WAITING - 25
    boss.check("supervisor-requests-page-2")

    radio = item.locator("input[type=radio][value=refuse]")
    item.locator(f"label[for='{radio.get_attribute('id')}']").click()
    item.locator("button[type=submit]").click()
    page.wait_for_load_state()
    item = page.locator(f"#exception-{newest.pk}")
    assert item.locator(".hds-text-input__error-text, [id$='-text_error']").first.is_visible()
    assert item.locator("input[type=radio][value=refuse]").is_checked()
    assert reload(newest).exception_requested
    boss.failed.clear()  # the form's 400 is the point here
    boss.check("supervisor-requests-refused-without-reason")
    # From the page sent back, the pager still leads to the supervisor page's first page.
    page.locator("#h-requests ~ nav a").first.click()
    page.wait_for_load_state()
    assert page.url.startswith(boss.base_url + reverse("web:supervisor") + "?requests_page=1")
    assert items.count() == 25
    assert not boss.failed
