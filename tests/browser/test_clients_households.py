"""A caseworker's day with a family, in a real browser, in Finnish, Swedish and English:
register a client (a mistake in the date of birth refused beside the field, what was typed
kept), open the case, register the spouse into the household and open theirs, change a
fact that moves the review date (the page says so, the history has both dates), search by
name typed without dots, and propose the household's transfer together. Every page is
checked (axe-core, translations) at 1366 px and 390 px wide without sideways scroll."""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse

from cases import services as case_services
from cases.enums import CaseAction, CaseState
from cases.models import Case, Client, Event, HouseholdMember
from core import clock
from criteria import services as criteria_services
from tests.browser.conftest import LANGUAGES
from tests.factories import assess_all_met, make_org, reload

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.parametrize("language", LANGUAGES),
]


def _fits(me, name: str) -> None:
    """At 1366 and 390 px the page scrolls only down, never sideways; checked at 1366."""
    page = me.page
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: {overflow} px wider than the window at {width} px"
        me.shoot(f"{name}-{width}")
    me.check(name)


def _tick(page, name: str) -> None:
    """Tick a checkbox by its label, as a user does (HDS draws the box over the input)."""
    page.locator(f"label[for='id_{name}']").click()
    assert page.locator(f"#id_{name}").is_checked()


def _fill_client(page, *, first: str, last: str, born: dt.date, code: str = "") -> None:
    page.fill("input[name=first_name]", first)
    page.fill("input[name=last_name]", last)
    page.fill("input[name=date_of_birth]", born.isoformat())
    page.fill("input[name=personal_identity_code]", code)
    page.select_option("select[name=language]", "ara")
    page.fill("input[name=street_address]", "Malminkaari 1")
    page.fill("input[name=postal_code]", "00700")
    page.fill("input[name=post_office]", "Helsinki")


def _open_case(me, client: Client, started: dt.date) -> Case:
    page = me.page
    form = page.locator(f"form[action='{reverse('web:client-open-case', args=[client.pk])}']")
    form.locator("input[name=open-integration_started_on]").fill(started.isoformat())
    form.locator("button[type=submit]").click()
    page.locator(".hds-notification--success").wait_for()
    case = Case.objects.get(client=client)
    assert page.url.endswith(reverse("web:case", args=[case.pk]))
    return case


def test_caseworker_registers_a_family_and_proposes_its_transfer(sign_in, language):
    org = make_org()
    me = sign_in(org.caseworker, language=language, role="caseworker")
    page = me.page

    # Register: a date of birth in the future is refused beside the field, nothing kept.
    page.click(f"a[href='{reverse('web:client-new')}']")
    _fill_client(page, first="Päivi", last="Mäkinen", born=clock.today() + dt.timedelta(days=3))
    _tick(page, "reunited_family")
    page.fill(
        "input[name=sponsor_in_finland_since]",
        (clock.today() - relativedelta(years=10)).isoformat(),
    )
    page.locator("form.client-form button[type=submit]").click()
    page.locator("#id_date_of_birth_error").wait_for()
    assert page.input_value("input[name=first_name]") == "Päivi"
    assert not Client.objects.exists()
    assert [f.split()[0] for f in me.failed] == ["400"]
    me.failed.clear()
    _fits(me, "client-register-error")
    page.fill("input[name=date_of_birth]", "1994-05-01")
    page.fill("input[name=personal_identity_code]", "010594y123w")
    page.locator("form.client-form button[type=submit]").click()
    page.locator(".hds-notification--success").wait_for()
    parent = Client.objects.get()
    assert parent.personal_identity_code == "010594Y123W"
    _fits(me, "client")

    # Open the case: reviewed after two years, the family's situation not yet stable.
    started = clock.today() - relativedelta(months=5)
    parent_case = _open_case(me, parent, started)
    assert parent_case.review_due_on == started + relativedelta(months=24)

    # The spouse, registered into the household from the client's page.
    me.go(reverse("web:client", args=[parent.pk]))
    page.locator("details:has(a[href*='household_of']) > summary").click()
    page.click(f"a[href='{reverse('web:client-new')}?household_of={parent.pk}']")
    _fill_client(page, first="Omar", last="Mäkinen", born=dt.date(1990, 2, 3))
    page.select_option("select[name=relation]", "spouse")
    page.select_option("select[name=client_relation]", "parent")
    page.locator("form.client-form button[type=submit]").click()
    page.locator(".hds-notification--success").wait_for()
    spouse = Client.objects.get(first_name="Omar")
    assert HouseholdMember.objects.get(client=spouse).relation == "spouse"
    spouse_case = _open_case(me, spouse, started)
    _fits(me, "case-household")
    assert "Päivi Mäkinen" in page.locator("section.household").inner_text()

    # The family's situation stabilises: the review comes a year earlier, and says so.
    me.go(reverse("web:client-edit", args=[parent.pk]))
    _tick(page, "family_situation_stable")
    page.locator("form.client-form button[type=submit]").click()
    page.locator(".hds-notification--info").wait_for()
    assert reload(parent_case).review_due_on == started + relativedelta(months=12)
    event = Event.objects.get(case=parent_case, action=CaseAction.REVIEW_DATE_CHANGED)
    new = started + relativedelta(months=12)
    assert event.params["to"] == new.isoformat()
    assert page.url.endswith(reverse("web:case", args=[parent_case.pk]))
    _fits(me, "case-review-date-moved")

    # Search by name typed without the dots.
    me.go(reverse("web:caseload"))
    page.fill("input[name=q]", "paivi makinen")
    page.locator("form.filters button[type=submit]").click()
    page.locator(f"a[href='{reverse('web:case', args=[parent_case.pk])}']").wait_for()
    assert page.locator(f"a[href='{reverse('web:case', args=[spouse_case.pk])}']").count() == 0
    _fits(me, "search")

    # Both reviews done, every criterion met (the review page has its own test): the
    # household's transfer is proposed together from the household's review, reached
    # from the case page.
    for case in (parent_case, spouse_case):
        case_services.case_mark_due(case=case)
        criteria_services.review_start(actor=org.caseworker, case=case)
        assess_all_met(org, case)
    me.go(reverse("web:case", args=[parent_case.pk]))
    page.click(f"a[href='{reverse('web:household-review', args=[parent_case.pk])}']")
    for case in (parent_case, spouse_case):
        review = case.reviews.get()
        page.locator(f"a[href='{reverse('web:review', args=[review.pk])}']").wait_for()
    _fits(me, "household-review")
    page.locator("label[for=id_household-consent_basis_0]").click()  # consent is required
    page.locator("form[action$='/household-transfer/'] button[type=submit]").click()
    page.locator(".hds-notification--success").wait_for()
    for case in (parent_case, spouse_case):
        case = reload(case)
        assert case.state == CaseState.TRANSFER_PENDING
        assert (
            case.transfers.get().household_id
            == HouseholdMember.objects.get(client=parent).household_id
        )
    _fits(me, "household-proposed")
