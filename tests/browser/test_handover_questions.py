"""Asking before returning, in a real browser in Finnish, Swedish and English: the
receiving worker sees the minimal part of the handover summary and asks the sender a
question; the sender answers from the transfer page; the receiving worker accepts with the
summary in view, and then sees all of it. Each step is photographed and checked (axe-core,
translations)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.enums import CaseState
from criteria.selectors import open_review_of
from tests.browser.conftest import LANGUAGES
from tests.factories import assess_all_met, case_in_state, make_org, reload
from transfers import services
from transfers.enums import TransferState

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.parametrize("language", LANGUAGES),
]

NOTE = "Asiakas toivoo aamupäiväaikaa."
PLAN = "Velkaneuvonta: maksusuunnitelma 15.12. mennessä, Amina hoitaa"


def _button(page, url_name: str, pk: int):
    return page.locator(f"form[action='{reverse(url_name, args=[pk])}'] button")


def test_receiving_worker_asks_sender_answers_and_the_transfer_is_accepted(sign_in, language):
    org = make_org()
    case = case_in_state(org, CaseState.IN_REVIEW)
    assess_all_met(org, case)
    transfer = services.transfer_propose(
        actor=org.caseworker,
        review=open_review_of(case),
        consent_basis="consent",
        note_to_team=NOTE,
        settled="Asunto ja Kela-asiat kunnossa.",
        open_items=PLAN,
        risks="Vuokravelka voi kasvaa.",
    )
    url = reverse("web:transfer", args=[transfer.pk])

    receiving = sign_in(org.receiving_worker, language=language, role="questions-receiving")
    page = receiving.go(url)
    summary = page.locator("#handover-summary")
    assert NOTE in summary.inner_text()
    assert PLAN not in page.inner_text("body")  # the rest waits for acceptance
    receiving.check("before-question")
    page.fill("textarea[name=ask-text]", "Onko vuokravelan maksusuunnitelma jo tehty?")
    _button(page, "web:transfer-ask", transfer.pk).click()
    page.locator(".hds-notification--success").wait_for()
    assert reload(transfer).state == TransferState.INFORMATION_REQUESTED
    assert page.locator(".waiting-answer").is_visible()
    receiving.check("question-sent")

    sender = sign_in(org.caseworker, language=language, role="questions-sender")
    sender_page = sender.go(url)
    assert "Onko vuokravelan maksusuunnitelma jo tehty?" in sender_page.inner_text("#questions")
    sender.check("question-to-answer")
    sender_page.fill("textarea[name=answer-text]", "Kyllä, se tehtiin toukokuussa.")
    _button(sender_page, "web:transfer-answer", transfer.pk).click()
    sender_page.locator(".hds-notification--success").wait_for()
    assert reload(transfer).state == TransferState.PROPOSED
    sender.check("answered")

    page = receiving.go(url)
    assert "Kyllä, se tehtiin toukokuussa." in page.inner_text("#questions")
    assert NOTE in page.inner_text("#handover-summary")  # the summary in view when accepting
    page.select_option("select[name=accept-receiving_worker]", str(org.receiving_worker.pk))
    _button(page, "web:transfer-accept", transfer.pk).click()
    page.locator(".hds-notification--success").wait_for()
    assert reload(transfer).state == TransferState.ACCEPTED
    assert PLAN in page.inner_text("#handover-summary")
    receiving.check("accepted-with-summary")
