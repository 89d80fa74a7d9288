"""One full path per role in a real browser, in Finnish, Swedish and English: the
caseworker reviews and proposes; the receiving team accepts; the front desk books; the
receiving caseworker records the handover; the supervisor sees an overdue review appear
after the due sweep; the caseworker cancels a transfer; the front desk sends a failed
booking request again (the transfer page also at 390 px wide, without sideways scroll).
Each step is photographed and checked (axe-core, translations)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from cases.enums import CaseState
from cases.models import Case
from core import clock
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from notifications.models import OutboxMessage
from notifications.services import MAX_ATTEMPTS, relay_pending
from tests.browser.conftest import LANGUAGES
from tests.factories import case_in_state, handover_slot, make_org, reload, transfer_in_state
from transfers import reminders as sweeps
from transfers.enums import DeliveryStatus, TransferState

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.parametrize("language", LANGUAGES),
]


def _choose(scope, value: str) -> None:
    """Click a radio button's label, as a user does (HDS draws the button over the input)."""
    radio = scope.locator(f"input[type=radio][value={value}]")
    scope.locator(f"label[for='{radio.get_attribute('id')}']").click()
    assert radio.is_checked()


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(clock.tz()).strftime("%Y-%m-%dT%H:%M")


def test_caseworker_reviews_and_proposes(sign_in, language):
    org = make_org()
    case = case_in_state(org, CaseState.REVIEW_DUE)
    me = sign_in(org.caseworker, language=language, role="caseworker", check_login=True)
    page = me.page
    assert page.url.endswith(reverse("web:caseload"))
    assert page.locator(f"a[href='{reverse('web:case', args=[case.pk])}']").count() == 1
    me.check("caseload")

    page.click(f"a[href='{reverse('web:case', args=[case.pk])}']")
    me.check("case")
    page.click(f"form[action='{reverse('web:review-start', args=[case.pk])}'] button")
    review = open_review_of(case)
    assert page.url.endswith(reverse("web:review", args=[review.pk]))
    me.check("review")

    assessments = list(review.assessments.exclude(status=AssessmentStatus.NOT_APPLICABLE))
    first = assessments[0]
    form = page.locator(f"form[action='{reverse('web:review-assess', args=[review.pk])}']")
    _choose(form.locator(f"#c-{first.pk}"), "not_met")
    form.locator(f"#c-{first.pk} textarea[name$=note]").fill("Asunto haussa")
    form.locator(".checklist-save button[type=submit]").click()
    error = page.locator(f"#id_a{first.pk}-plan_action_error")
    error.wait_for()
    me.failed.clear()  # the page with the errors is answered 400, as it should be
    # The message sits beside the field, and what was typed is still there.
    assert page.locator(f"#c-{first.pk} textarea[name$=note]").input_value() == "Asunto haussa"
    me.check("review-error")
    assert reload(first).status == AssessmentStatus.UNASSESSED

    form = page.locator(f"form[action='{reverse('web:review-assess', args=[review.pk])}']")
    for assessment in assessments:
        _choose(form.locator(f"#c-{assessment.pk}"), "met")
    form.locator(".checklist-save button[type=submit]").click()
    page.locator("#messages .hds-notification").wait_for()
    # The readiness summary: ready, and the proposal offers the routed team.
    page.locator(f"form[action='{reverse('web:review-propose', args=[review.pk])}']").wait_for()
    assert org.adult.name in page.locator("#decide").inner_text()
    me.check("review-ready")
    page.locator("label[for=id_propose-consent_basis_0]").click()  # consent is required
    page.click(f"form[action='{reverse('web:review-propose', args=[review.pk])}'] button")
    assert page.url.endswith(reverse("web:case", args=[case.pk]))
    assert reload(case).state == CaseState.TRANSFER_PENDING
    assert case.transfers.get().receiving_team == org.adult
    me.check("proposed")


def test_receiving_team_accepts(sign_in, language):
    org = make_org()
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    me = sign_in(org.receiving_worker, language=language, role="receiving")
    page = me.page
    assert page.url.endswith(reverse("web:inbox"))
    me.check("inbox")
    page.click(f"a[href='{reverse('web:transfer', args=[transfer.pk])}']")
    # Before acceptance, the minimal summary: no name, no address.
    assert transfer.case.client.last_name not in page.inner_text("body")
    me.check("transfer-proposed")
    page.select_option("select[name=accept-receiving_worker]", str(org.receiving_worker.pk))
    page.click(f"form[action='{reverse('web:transfer-accept', args=[transfer.pk])}'] button")
    page.locator(".hds-notification--success").wait_for()
    assert reload(transfer).state == TransferState.ACCEPTED
    assert transfer.case.client.last_name in page.inner_text("body")
    me.check("accepted")


def test_front_desk_books(sign_in, language):
    org = make_org()
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    me = sign_in(org.front_desk, language=language, role="front-desk")
    page = me.page
    assert page.url.endswith(reverse("web:desk"))
    me.check("queue")
    page.click(f"a[href='{reverse('web:transfer', args=[transfer.pk])}']")
    me.check("transfer-to-book")
    when = handover_slot(days=6)  # a working day within the meeting hours
    page.fill("input[name=confirm-starts_at]", _local(when))
    page.fill("input[name=confirm-place]", "Malmin palvelutori")
    page.fill("input[name=confirm-interpreter]", "Tulkkikeskus 4711")
    page.click(f"form[action='{reverse('web:transfer-confirm', args=[transfer.pk])}'] button")
    page.locator(".hds-notification--success").wait_for()
    transfer = reload(transfer)
    assert transfer.state == TransferState.BOOKED
    booking = transfer.bookings.get(status="confirmed")
    assert booking.place == "Malmin palvelutori"
    assert booking.interpreter_name == "Tulkkikeskus 4711"
    me.check("booked")


def test_receiving_caseworker_records_the_handover(sign_in, language):
    org = make_org()
    transfer = transfer_in_state(org, TransferState.BOOKED)
    me = sign_in(org.receiving_worker, language=language, role="handover")
    page = me.page
    me.go(reverse("web:transfer", args=[transfer.pk]))
    me.check("booked")
    page.click(f"form[action='{reverse('web:transfer-complete', args=[transfer.pk])}'] button")
    page.locator(".hds-notification--success").wait_for()
    assert reload(transfer).state == TransferState.COMPLETED
    assert reload(transfer.case).state == CaseState.TRANSFERRED
    me.check("held")
    me.go(reverse("web:case", args=[transfer.case_id]))
    me.check("case-transferred")


def test_supervisor_sees_an_overdue_review_after_the_due_sweep(sign_in, language):
    org = make_org()
    case = case_in_state(org, CaseState.ACTIVE)
    Case.objects.filter(pk=case.pk).update(review_due_on=clock.today() - dt.timedelta(days=3))
    me = sign_in(org.koto_supervisor, language=language, role="supervisor")
    page = me.page
    assert page.url.endswith(reverse("web:supervisor"))
    assert page.locator("#overdue").count() == 0
    sweeps.due_sweep()
    assert reload(case).state == CaseState.REVIEW_DUE
    page.reload()
    row = page.locator("#overdue tbody tr", has_text=case.reference)
    assert row.count() == 1
    assert row.locator("td").nth(4).inner_text() == "3"
    me.check("overdue")
    me.go(reverse("web:figures"))
    me.check("figures")
    me.go(reverse("web:reassign") + f"?from_worker={org.caseworker.pk}")
    me.check("reassign")
    me.go(reverse("web:notifications"))
    me.check("notifications")


def _fits(page, width: int) -> None:
    """At `width` pixels the page scrolls only down, never sideways."""
    page.set_viewport_size({"width": width, "height": 900})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow} px wider than the window at {width} px"


def test_caseworker_cancels_a_transfer(sign_in, language):
    org = make_org()
    transfer = transfer_in_state(org, TransferState.BOOKED)
    me = sign_in(org.caseworker, language=language, role="caseworker")
    page = me.page
    me.go(reverse("web:transfer", args=[transfer.pk]))
    form = page.locator(f"form[action='{reverse('web:transfer-cancel', args=[transfer.pk])}']")
    for width in (1366, 390):
        _fits(page, width)
        me.shoot(f"transfer-cancel-{width}")
    page.set_viewport_size({"width": 1366, "height": 900})
    me.check("transfer-cancel")
    form.locator("button[type=submit]").click()
    page.locator("#id_cancel-reason_error").wait_for()
    # The refusal is the page again with the error beside the field, answered 400.
    assert [f.split()[0] for f in me.failed] == ["400"]
    me.failed.clear()
    me.check("transfer-cancel-error")
    assert reload(transfer).state == TransferState.BOOKED
    form.locator("textarea[name=cancel-reason]").fill("Asiakas muuttaa toiselle paikkakunnalle")
    form.locator("button[type=submit]").click()
    page.locator(".hds-notification--success").wait_for()
    assert reload(transfer).state == TransferState.CANCELLED
    assert reload(transfer.case).state == CaseState.IN_REVIEW
    me.check("transfer-cancelled")


def test_front_desk_sends_a_failed_booking_request_again(
    sign_in, language, booking_system, settings
):
    org = make_org()
    settings.SILTA_BOOKING_WEBHOOK_SECRET = "test-webhook-secret"
    org.adult.booking_webhook_url = booking_system.url
    org.adult.save()
    booking_system.answers.extend([(503, {"error": "down"})] * MAX_ATTEMPTS)
    transfer = transfer_in_state(org, TransferState.ACCEPTED)
    relay_pending()
    message = OutboxMessage.objects.get(channel="booking", key__startswith="booking:send:")
    for _ in range(MAX_ATTEMPTS - 1):
        message.refresh_from_db()
        with time_machine.travel(message.available_at + dt.timedelta(seconds=1), tick=False):
            relay_pending()
    assert reload(transfer).bookings.get().delivery == DeliveryStatus.FAILED
    me = sign_in(org.front_desk, language=language, role="front-desk")
    page = me.page
    me.go(reverse("web:transfer", args=[transfer.pk]))
    for width in (1366, 390):
        _fits(page, width)
        me.shoot(f"transfer-booking-failed-{width}")
    page.set_viewport_size({"width": 1366, "height": 900})
    me.check("transfer-booking-failed")
    page.click(f"form[action='{reverse('web:transfer-retry', args=[transfer.pk])}'] button")
    page.locator(".hds-notification--success").wait_for()
    assert page.locator("#delivery-failed").count() == 0
    assert reload(transfer).bookings.get().delivery == DeliveryStatus.WAITING
    me.check("booking-request-sent-again")
