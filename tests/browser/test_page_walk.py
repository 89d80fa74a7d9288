"""Every page of the web app over the demo's busy week (every state, warning and list
present), in Finnish, Swedish and English, for each role: each page passes both
accessibility checkers, fits a 390 px and a 320 px wide screen without sideways
scrolling, and is in the page's language (Session.check in conftest). On the way: a
client's language is named in the page's language, dates and times are written as that
language writes them, and PPT reads as a client with high service needs."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from cases.enums import CaseState, Role
from cases.models import Case, ContactRequest, HouseholdMember, Membership
from criteria.selectors import open_review_of
from tests.browser.conftest import LANGUAGES
from transfers.enums import TransferState
from transfers.models import HandoverBooking, Transfer
from web.demo import UNIT_SUPERVISOR, load_demo

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.parametrize("language", LANGUAGES),
]
User = get_user_model()

# A date (and a time) as each language writes it: 1.12.2026 (klo 10.00), 1 December 2026, 10:00.
DATE = {
    "fi": r"\b\d{1,2}\.\d{1,2}\.20\d\d\b",
    "sv": r"\b\d{1,2}\.\d{1,2}\.20\d\d\b",
    "en": r"\b\d{1,2} (January|February|March|April|May|June|July|August|September|October|"
    r"November|December) 20\d\d\b",
}
MOMENT = {
    "fi": DATE["fi"] + r" klo \d{1,2}\.\d\d\b",
    "sv": DATE["sv"] + r" kl\. \d{1,2}\.\d\d\b",
    "en": DATE["en"] + r", \d\d:\d\d\b",
}
NOT_DATES = [r"\b20\d\d-\d\d-\d\d\b", r"\b\d\d/\d\d/20\d\d\b"]  # ISO or US dates in the UI
ARABIC = {"fi": "arabia", "sv": "arabiska", "en": "Arabic"}
PPT = {
    "fi": "Paljon palveluja tarvitseva (PPT)",
    "sv": "Klient med stort servicebehov (PPT)",
    "en": "High service needs (PPT)",
}


@pytest.fixture
def busy_week():
    load_demo(clients=40, password="pw")


def _user(team_code: str, role: str):
    return Membership.objects.get(team__code=team_code, role=role).user


def _dates_as_the_language_writes_them(page, language: str) -> None:
    text = page.inner_text("main")
    for wrong in NOT_DATES:
        assert not re.search(wrong, text), f"{wrong} in {language}: {text[:400]}"


def test_caseworker_pages(sign_in, language, busy_week):
    worker = _user("koto2", Role.CASEWORKER)
    me = sign_in(worker, language=language, role="walk-caseworker")
    page = me.page
    for group in ("overdue", "due", "soon", "in_review", "pending"):
        me.go(reverse("web:caseload") + f"?who=team&group={group}")
        me.check(f"caseload-{group}")
        _dates_as_the_language_writes_them(page, language)
    cases = Case.objects.filter(team__code="koto2")
    arabic = cases.filter(client__language="ara").first() or cases.first()
    arabic.client.language = "ara"
    arabic.client.save(update_fields=["language"])
    me.go(reverse("web:case", args=[arabic.pk]))
    me.check("case")
    assert ARABIC[language] in page.inner_text("main")
    assert re.search(DATE[language], page.inner_text("main"))
    assert re.search(MOMENT[language], page.inner_text("main"))  # the timeline
    _dates_as_the_language_writes_them(page, language)
    ppt = cases.filter(client__is_ppt=True).first() or cases.first()
    ppt.client.is_ppt = True
    ppt.client.save(update_fields=["is_ppt"])
    me.go(reverse("web:case", args=[ppt.pk]))
    assert PPT[language] in page.inner_text("main")
    assert "emporary protection" not in page.inner_text("main")
    me.check("case-ppt")
    review = next(
        (r for r in (open_review_of(c) for c in cases.filter(state=CaseState.IN_REVIEW)) if r),
        None,
    )
    assert review is not None
    me.go(reverse("web:review", args=[review.pk]))
    me.check("review")
    # The demo's household in the team: reviewed together, each member's readiness shown.
    spouse = HouseholdMember.objects.filter(client__cases__team__code="koto2").first()
    assert spouse is not None
    household_case = cases.filter(client=spouse.client_id).first()
    me.go(reverse("web:household-review", args=[household_case.pk]))
    assert page.locator(".household-review__member").count() == 2
    me.check("household-review")
    me.go(reverse("web:notifications"))
    me.check("notifications")
    _dates_as_the_language_writes_them(page, language)


def test_regional_pages(sign_in, language, busy_week):
    transfer = Transfer.objects.filter(state=TransferState.PROPOSED).first()
    receiver = _user(transfer.receiving_team.code, Role.RECEIVING_WORKER)
    me = sign_in(receiver, language=language, role="walk-receiving")
    page = me.page
    for tab in ("new", "open", "done"):
        me.go(reverse("web:inbox") + f"?tab={tab}")
        me.check(f"inbox-{tab}")
        _dates_as_the_language_writes_them(page, language)
    me.go(reverse("web:transfer", args=[transfer.pk]))
    me.check("transfer-proposed")
    booked = HandoverBooking.objects.filter(
        transfer__state=TransferState.BOOKED, starts_at__isnull=False
    ).first()
    desk = _user(booked.transfer.receiving_team.code, Role.FRONT_DESK)
    me = sign_in(desk, language=language, role="walk-desk")
    me.go(reverse("web:desk"))
    me.check("desk")
    assert re.search(MOMENT[language], me.page.inner_text("main"))
    _dates_as_the_language_writes_them(me.page, language)
    me.go(reverse("web:transfer", args=[booked.transfer_id]))
    me.check("transfer-booked")
    assert re.search(MOMENT[language], me.page.inner_text("main"))


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, other: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _sign_out_focus_ring(page) -> tuple[str, str]:
    """Tab to the sign-out button as a keyboard user does; its focus ring's colour and
    the header's."""
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.site-header__user') !== null"):
            break
    return page.evaluate(
        """() => {
            const ring = getComputedStyle(document.activeElement);
            if (ring.outlineStyle === 'none' || ring.outlineWidth === '0px') return ['none', ''];
            return [ring.outlineColor,
                    getComputedStyle(document.querySelector('.site-header')).backgroundColor];
        }"""
    )


def test_supervisor_pages(sign_in, language, busy_week):
    """The Immigration Unit's supervisor sees every Koto team's overdue reviews."""
    supervisor = User.objects.get(username=UNIT_SUPERVISOR)
    me = sign_in(supervisor, language=language, role="walk-supervisor")
    page = me.page
    assert page.url.endswith(reverse("web:supervisor"))
    me.check("supervisor")
    overdue_teams = set(
        Case.objects.filter(state=CaseState.REVIEW_DUE).values_list("team__name", flat=True)
    )
    shown = page.inner_text("main")
    assert all(name in shown for name in overdue_teams)
    _dates_as_the_language_writes_them(page, language)
    ring, header = _sign_out_focus_ring(page)
    assert ring != "none", "the sign-out button shows no focus ring"
    assert _contrast(ring, header) >= 3, f"focus ring {ring} on {header}"  # WCAG 1.4.11
    me.go(reverse("web:figures"))
    me.check("figures")
    me.go(reverse("web:reassign") + f"?team=koto2&from_worker={_user('koto2', Role.CASEWORKER).pk}")
    me.check("reassign")
    _dates_as_the_language_writes_them(page, language)
    me.go(reverse("web:intake"))  # the contact requests waiting, routed and linked
    me.check("intake")
    linked = ContactRequest.objects.filter(client__isnull=False).first()
    me.go(reverse("web:contact-request", args=[(linked or ContactRequest.objects.first()).pk]))
    me.check("contact-request")
    me.go("/no-such-page/")
    me.failed.clear()  # the 404 is the point here
    me.check("not-found")
