"""How many clicks it takes a caseworker, from the sign-in page to a proposed transfer, for
a client whose review is due and whose every criterion is met (the issue counted 15):
every click and every submit a user makes is counted, typing into a field apart. The path
is the shortest the pages offer: sign in, start the review from the caseload's row,
answer each criterion, save the checklist once, record consent, propose."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.enums import CaseState
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from tests.factories import case_in_state, make_org, reload

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MOST_CLICKS = 11


class Counted:
    """The page, with every click and every typed field counted."""

    def __init__(self, page):
        self.page = page
        self.clicks: list[str] = []
        self.typed: list[str] = []

    def click(self, selector: str, why: str) -> None:
        self.page.locator(selector).click()
        self.clicks.append(why)

    def type(self, selector: str, text: str) -> None:
        self.page.locator(selector).fill(text)
        self.typed.append(selector)


def test_caseworker__sign_in_to_proposed_transfer__at_most_11_clicks(browser, live_server):
    org = make_org()
    case = case_in_state(org, CaseState.REVIEW_DUE)
    context = browser.new_context(locale="fi")
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        me = Counted(page)
        page.goto(live_server.url + reverse("login"))

        me.type("input[name=username]", org.caseworker.username)
        me.type("input[name=password]", "pw")
        me.click("form[action='/login/'] button[type=submit]", "sign in")
        assert page.url.endswith(reverse("web:caseload"))

        me.click(f"form[action='{reverse('web:review-start', args=[case.pk])}'] button", "start")
        review = open_review_of(case)
        page.wait_for_url(f"**{reverse('web:review', args=[review.pk])}")

        applicable = review.assessments.exclude(status=AssessmentStatus.NOT_APPLICABLE)
        for assessment in applicable:
            radio = page.locator(f"#c-{assessment.pk} input[type=radio][value=met]")
            me.click(f"label[for='{radio.get_attribute('id')}']", "met")
        me.click(".checklist-save button[type=submit]", "save the checklist")
        propose = f"form[action='{reverse('web:review-propose', args=[review.pk])}']"
        page.locator(propose).wait_for()
        me.click("label[for=id_propose-consent_basis_0]", "consent")
        me.click(f"{propose} button[type=submit]", "propose")
        page.wait_for_url(f"**{reverse('web:case', args=[case.pk])}")
    finally:
        context.close()

    assert reload(case).state == CaseState.TRANSFER_PENDING
    assert len(me.typed) == 2  # the user name and the password
    assert len(me.clicks) <= MOST_CLICKS, me.clicks
    print(f"\nclicks from sign-in to a proposed transfer: {len(me.clicks)}: {me.clicks}")
