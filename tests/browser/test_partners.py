"""The partnership handbook, the home base and a referral in a real browser, in Finnish,
Swedish and English (each page checked with axe-core, HTML_CodeSniffer and for
translations): a caseworker searches the handbook by language and kind of service, sees
home-base suggestions on the review, records one, and closes a case as "no further need"
only once the home base is recorded; a referral goes from the client's consent to its
outcome through the partner's signed link, and an altered link shows nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.enums import CaseState
from criteria.selectors import open_review_of
from partners.enums import ReferralState
from partners.models import HomeBase, Referral
from partners.services import referral_token
from tests.browser.conftest import BUTTON, LANGUAGES, Session
from tests.factories import case_in_state, make_org, open_case, reload
from tests.partners.test_directory import partner

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.parametrize("language", LANGUAGES),
]


def _handbook():
    return {
        "kulmakivi": partner(
            "Asukastalo Kulmakivi",
            district="Koillinen",
            languages="ara,fin,som",
            service_kinds="residents_house,language",
            opening_hours="ma–pe 9–16",
        ),
        "tyopolku": partner("Työpolku ry", languages="fin,ukr", service_kinds="study_work"),
        "laituri": partner("Kallion asukastalo Laituri", region="etela", languages="ara"),
    }


def test_directory_search_and_home_base(sign_in, language):
    org = make_org()
    handbook = _handbook()
    case = case_in_state(org, CaseState.IN_REVIEW, language="ara", postal_code="00700")
    review = open_review_of(case)
    me = sign_in(org.caseworker, language=language, role="partners")
    page = me.page

    page.click(f"header a[href='{reverse('web:partners')}']")
    me.check("handbook")
    page.select_option("select[name=language]", "ara")
    page.select_option("select[name=kind]", "residents_house")
    page.click("form[role=search] button[type=submit]")
    results = page.locator(".partner-list")
    results.wait_for()
    assert "Asukastalo Kulmakivi" in results.inner_text()
    assert "Kallion asukastalo Laituri" in results.inner_text()
    assert "Työpolku ry" not in results.inner_text()
    me.check("handbook-search")

    me.go(reverse("web:review", args=[review.pk]))
    suggestions = page.locator(".home-base-suggestions")
    assert "Asukastalo Kulmakivi" in suggestions.inner_text()
    assert "Kallion asukastalo Laituri" not in suggestions.inner_text()  # another region
    me.check("review-home-base")
    form = page.locator(f"form[action='{reverse('web:case-home-base', args=[case.pk])}']")
    form.locator("button[type=submit]").click()
    page.locator("#id_homebase-organisation_error").wait_for()
    me.failed.clear()  # the page with the error is answered 400, as it should be
    me.check("review-home-base-error")
    form = page.locator(f"form[action='{reverse('web:case-home-base', args=[case.pk])}']")
    form.locator("select[name=homebase-organisation]").select_option(str(handbook["kulmakivi"].pk))
    form.locator("button[type=submit]").click()
    page.locator("#messages .hds-notification").wait_for()
    assert page.url.endswith(reverse("web:review", args=[review.pk]))
    assert HomeBase.objects.get(case=case).organisation == handbook["kulmakivi"]
    assert "Asukastalo Kulmakivi" in page.locator(".home-base-recorded").inner_text()
    me.check("review-home-base-recorded")


def test_closing_as_no_further_need_asks_for_the_home_base(sign_in, language):
    org = make_org()
    _handbook()
    case = open_case(org, language="ara", postal_code="00700")
    me = sign_in(org.caseworker, language=language, role="partners-close")
    page = me.page
    me.go(reverse("web:case", args=[case.pk]))
    page.locator("details:has(form[action$='/close/']) summary").click()
    close = page.locator(f"form[action='{reverse('web:case-close', args=[case.pk])}']")
    close.locator("select[name=close-reason]").select_option("no_further_need")
    close.locator("button[type=submit]").click()
    page.locator("#id_close-reason_error").wait_for()
    me.failed.clear()
    me.check("close-needs-home-base")
    assert reload(case).state == CaseState.ACTIVE

    form = page.locator(f"form[action='{reverse('web:case-home-base', args=[case.pk])}']")
    form.locator("textarea[name=homebase-reason]").fill("Asiakas ei halua kotipesää.")
    form.locator("button[type=submit]").click()
    page.locator("#messages .hds-notification").wait_for()
    page.locator("details:has(form[action$='/close/']) summary").click()
    close = page.locator(f"form[action='{reverse('web:case-close', args=[case.pk])}']")
    close.locator("select[name=close-reason]").select_option("no_further_need")
    close.locator("button[type=submit]").click()
    page.locator("#messages .hds-notification").wait_for()
    assert reload(case).state == CaseState.CLOSED
    assert "Asiakas ei halua kotipesää." in page.locator(".home-base-recorded").inner_text()
    me.check("closed-with-home-base")


def test_referral_from_consent_to_outcome_through_the_partners_link(
    sign_in, language, browser, live_server
):
    org = make_org()
    handbook = _handbook()
    case = open_case(
        org, first_name="Amina", last_name="Salaisuus", language="ara", postal_code="00700"
    )
    me = sign_in(org.caseworker, language=language, role="referral")
    page = me.page
    me.go(reverse("web:case", args=[case.pk]))
    page.locator("details:has(form[action$='/referrals/']) summary").click()
    form = page.locator(f"form[action='{reverse('web:case-referral', args=[case.pk])}']")
    form.locator("select[name=referral-organisation]").select_option(str(handbook["kulmakivi"].pk))
    form.locator("textarea[name=referral-purpose]").fill("Suomen kielen kerho")
    for value in ("language", "caseworker"):
        box = form.locator(f"input[name=referral-shared_fields][value={value}]")
        form.locator(f"label[for='{box.get_attribute('id')}']").click()
    me.check("referral-form")
    form.locator("button[type=submit]").click()  # no consent yet: refused beside the field
    page.locator("#id_referral-consent_error").wait_for()
    me.failed.clear()
    me.check("referral-no-consent")
    assert not Referral.objects.exists()
    form = page.locator(f"form[action='{reverse('web:case-referral', args=[case.pk])}']")
    form.locator("label[for=id_referral-consent]").click()
    form.locator("button[type=submit]").click()
    page.locator("#messages .hds-notification").wait_for()
    referral = Referral.objects.get()
    assert referral.shared == ["language", "caseworker"]
    me.check("referral-sent")

    # The partner's contact: no account, the link only.
    context = browser.new_context(locale=language)
    partner_page = context.new_page()
    partner_page.set_default_timeout(15_000)
    partner = Session(partner_page, live_server.url, language, "partner")
    path = reverse("web:partner-referral", args=[referral_token(referral)])
    partner.go(path)
    if language != "fi":
        partner_page.get_by_role("button", name=BUTTON[language]).click()
        partner_page.wait_for_load_state()
    text = partner_page.inner_text("main")
    assert "Suomen kielen kerho" in text
    assert "Amina" not in text and "Salaisuus" not in text  # the name was not shared
    partner.check("partner-referral")
    partner_page.locator("textarea[name=answer-note]").fill("Tervetuloa tiistaina")
    partner_page.click("button[name=action][value=accept]")
    partner_page.locator("#messages .hds-notification").wait_for()
    assert Referral.objects.get().state == ReferralState.ACCEPTED
    partner.check("partner-accepted")
    partner_page.locator("textarea[name=done-outcome]").fill("Aloitti kerhossa.")
    partner_page.click("button[name=action][value=done]")
    partner_page.locator("#messages .hds-notification").wait_for()
    assert Referral.objects.get().state == ReferralState.DONE
    partner.check("partner-done")

    partner.go(path[:-3] + "xx/")  # altered: a clear page, nothing of the referral
    partner.failed.clear()  # answered 404, as it should be
    assert "kerho" not in partner_page.inner_text("main")
    partner.check("partner-link-invalid")
    context.close()

    me.go(reverse("web:case", args=[case.pk]))
    assert "Aloitti kerhossa." in page.locator(".referral-list").inner_text()
    me.check("referral-done")
