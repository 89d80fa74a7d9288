"""The review page in a real browser, in Finnish, Swedish and English, at 1366 and 390 px:
the whole checklist assessed in one go with a mistake corrected and nothing lost; the
review completed with the keyboard only; a caseworker requests an exception and the
supervisor approves it from the notice. Each step is checked with axe-core and for
sideways scrolling."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cases.enums import CaseState
from core import clock
from criteria import services as criteria_services
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from tests.browser.conftest import LANGUAGES
from tests.factories import case_in_state, make_org, reload

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.parametrize("language", LANGUAGES),
]
WIDTHS = (1366, 390)


def _fits(page) -> None:
    """Nothing wider than the screen: the page does not scroll sideways."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px"


def _choose(scope, value: str) -> None:
    radio = scope.locator(f"input[type=radio][value={value}]")
    scope.locator(f"label[for='{radio.get_attribute('id')}']").click()
    assert radio.is_checked()


def _save(page, review) -> None:
    page.locator(
        f"form[action='{reverse('web:review-assess', args=[review.pk])}'] "
        ".checklist-save button[type=submit]"
    ).click()
    page.wait_for_load_state()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_whole_checklist_in_one_go_with_a_mistake_corrected(sign_in, language, width):
    org = make_org()
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    me = sign_in(org.caseworker, language=language, role=f"caseworker-{width}")
    page = me.page
    page.set_viewport_size({"width": width, "height": 900})
    me.go(reverse("web:review", args=[review.pk]))
    assessments = list(
        review.assessments.exclude(status=AssessmentStatus.NOT_APPLICABLE)
        .select_related("criterion")
        .order_by("criterion__order")
    )
    first, second, *rest = assessments
    yesterday = (clock.today() - dt.timedelta(days=1)).isoformat()
    item = page.locator(f"#c-{first.pk}")
    _choose(item, "not_met")
    item.locator("textarea[name$=note]").fill("Asunto haussa")
    item.locator("textarea[name$=plan_action]").fill("Asuntohakemus")
    item.locator("input[name$=plan_owner]").fill("Asiakas")
    item.locator("input[name$=plan_target_on]").fill(yesterday)  # the mistake
    _choose(page.locator(f"#c-{second.pk}"), "not_met")  # a second one: its plan forgotten
    for assessment in rest:
        _choose(page.locator(f"#c-{assessment.pk}"), "met")
    _save(page, review)
    me.failed.clear()  # the page with the errors is answered 400, as it should be

    # The summary of errors has focus and names both mistakes; each sits beside its field.
    summary = page.locator("#checklist-errors")
    summary.wait_for()
    assert page.evaluate("() => document.activeElement.id") == "checklist-errors"
    assert page.locator(f"#id_a{first.pk}-plan_target_on_error").is_visible()
    assert page.locator(f"#id_a{second.pk}-plan_action_error").is_visible()
    assert summary.locator("a").count() == 2
    # Nothing is lost: every answer and every word typed is still there...
    assert item.locator("textarea[name$=note]").input_value() == "Asunto haussa"
    assert item.locator("input[name$=plan_target_on]").input_value() == yesterday
    assert page.locator(f"#c-{first.pk} input[value=not_met]").is_checked()
    for assessment in rest:
        assert page.locator(f"#c-{assessment.pk} input[value=met]").is_checked()
    # ...and nothing is saved.
    assert all(reload(a).status == AssessmentStatus.UNASSESSED for a in assessments)
    me.check(f"checklist-error-{width}")
    _fits(page)

    # Corrected, through the summary's link to the field.
    summary.locator(f"a[href='#id_a{first.pk}-plan_target_on']").click()
    target = (clock.today() + dt.timedelta(days=30)).isoformat()
    page.locator(f"#id_a{first.pk}-plan_target_on").fill(target)
    page.locator(f"#c-{second.pk} textarea[name$=plan_action]").fill("Kela-hakemus")
    _save(page, review)
    page.locator("#messages .hds-notification").wait_for()
    assert reload(first).status == AssessmentStatus.NOT_MET
    assert reload(first).note == "Asunto haussa"
    assert reload(first).plan_target_on.isoformat() == target
    assert reload(second).plan_action == "Kela-hakemus"
    assert all(reload(a).status == AssessmentStatus.MET for a in rest)
    me.check(f"checklist-saved-{width}")
    _fits(page)


def _tab_to(page, selector: str, limit: int = 200) -> None:
    """Press Tab until the element matching `selector` has focus."""
    for _ in range(limit):
        if page.evaluate(f"() => document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_the_review_completed_with_the_keyboard_only(sign_in, language):
    org = make_org()
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    me = sign_in(org.caseworker, language=language, role="keyboard")
    page = me.page
    me.go(reverse("web:review", args=[review.pk]))
    assessments = list(
        review.assessments.exclude(status=AssessmentStatus.NOT_APPLICABLE).order_by(
            "criterion__order"
        )
    )
    for assessment in assessments:
        # Tab reaches the radio group; Space chooses the focused "met" (the first choice).
        _tab_to(page, f"#id_a{assessment.pk}-status_0")
        page.keyboard.press("Space")
        assert page.locator(f"#id_a{assessment.pk}-status_0").is_checked()
    _tab_to(page, ".checklist-save button")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    page.locator("#messages .hds-notification").wait_for()
    assert all(reload(a).status == AssessmentStatus.MET for a in assessments)
    propose = f"form[action='{reverse('web:review-propose', args=[review.pk])}'] button"
    page.locator(propose).wait_for()
    me.check("keyboard-ready")
    page.locator("label[for=id_propose-consent_basis_0]").click()  # consent is required
    _tab_to(page, propose)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{reverse('web:case', args=[case.pk])}")
    assert reload(case).state == CaseState.TRANSFER_PENDING


def test_an_exception_requested_and_approved_from_the_notice(sign_in, language):
    org = make_org()
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    housing = review.assessments.get(criterion__code="housing")
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=housing,
        status=AssessmentStatus.NOT_MET,
        plan_action="Asunnon haku",
    )
    me = sign_in(org.caseworker, language=language, role="exception-caseworker")
    page = me.page
    me.go(reverse("web:review", args=[review.pk]))
    request = page.locator(f"#c-{housing.pk} .exception-request")
    request.locator("textarea").fill("Asuu tuetusti sukulaisten luona")
    request.locator("button[type=submit]").click()
    page.locator("#messages .hds-notification").wait_for()
    assert reload(housing).exception_requested
    me.check("exception-requested")

    boss = sign_in(org.koto_supervisor, language=language, role="exception-supervisor")
    page = boss.page
    boss.go(reverse("web:notifications"))
    boss.check("exception-notice")
    page.locator(f"a:has-text('{case.reference}')").first.click()
    page.wait_for_load_state()
    if reverse("web:review", args=[review.pk]) not in page.url:
        page.locator(f"a[href='{reverse('web:review', args=[review.pk])}']").first.click()
        page.wait_for_load_state()
    approve = page.locator(f"#c-{housing.pk} button[form='x{housing.pk}']")
    # The request's justification is there to approve as written.
    assert (
        page.locator(f"#c-{housing.pk} textarea[form='x{housing.pk}']").input_value()
        == "Asuu tuetusti sukulaisten luona"
    )
    boss.check("exception-to-approve")
    approve.click()
    page.locator("#messages .hds-notification").wait_for()
    housing = reload(housing)
    assert housing.exception_approved_by == org.koto_supervisor
