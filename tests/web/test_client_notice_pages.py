"""The client's notice on the pages: the letter downloaded from the transfer page by the
sending team and the receiving team (access-logged; no one else), the caseworker told when
the client's language has no template, and the consent to text messages on the client's
edit page (bad input beside its field, nothing written)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AccessLog, AccessOutcome
from cases.enums import ClientAction
from cases.models import Event
from tests.factories import reload, transfer_in_state
from transfers.enums import NoticeKind, TransferState
from transfers.models import ClientNoticeTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def signed_in(user):
        client.force_login(user)
        return client

    return signed_in


ROLES = (
    "caseworker",
    "koto_supervisor",
    "receiving_worker",
    "front_desk",
    "receiving_supervisor",
    "outsider",
)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix__the_letter(web, org, role):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    answer = web(getattr(org, role)).get(reverse("web:transfer-letter", args=[transfer.pk]))
    if role == "outsider":
        assert answer.status_code == 404
        assert AccessLog.objects.filter(
            actor=org.outsider, client=transfer.case.client, outcome=AccessOutcome.DENIED
        ).exists()
        return
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    assert AccessLog.objects.filter(
        actor=getattr(org, role),
        client=transfer.case.client,
        action="web_client_letter",
        outcome=AccessOutcome.ALLOWED,
    ).exists()


def test_the_letter__none_before_a_time_is_booked(web, org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    page = web(org.caseworker).get(reverse("web:transfer-letter", args=[transfer.pk]))
    assert page.status_code == 404


@pytest.mark.parametrize(
    ("language", "told"), [("prs", True), ("swe", False)], ids=["dari", "swedish"]
)
def test_transfer_page__says_when_the_notice_falls_back_to_plain_finnish(web, org, language, told):
    transfer = transfer_in_state(org, TransferState.BOOKED, language=language)
    html = web(org.caseworker).get(reverse("web:transfer", args=[transfer.pk])).content.decode()
    assert reverse("web:transfer-letter", args=[transfer.pk]) in html
    assert ("asiakkaan kielellä (dari)" in html) is told
    assert "ei ole antanut suostumusta" in html or "eivät ole käytössä" in html


def test_transfer_page__says_when_the_letter_cannot_write_the_script(web, org):
    ClientNoticeTemplate.objects.create(
        kind=NoticeKind.LETTER, language="ara", subject="دعوة", body="$date $time $place"
    )
    transfer = transfer_in_state(org, TransferState.BOOKED, language="ara")
    html = web(org.caseworker).get(reverse("web:transfer", args=[transfer.pk])).content.decode()
    assert (
        "Kirjettä ei vielä voi kirjoittaa asiakkaan kielen (arabia) kirjoitusjärjestelmällä" in html
    )
    assert reverse("web:transfer-letter", args=[transfer.pk]) in html


def test_client_edit__records_the_consent_to_text_messages(web, org):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    client = transfer.case.client
    browser = web(org.caseworker)
    url = reverse("web:client-sms", args=[client.pk])
    bad = browser.post(url, {"sms-phone_number": "", "sms-sms_consent": "on"})
    assert bad.status_code == 400
    assert 'id="id_sms-phone_number_error"' in bad.content.decode()
    assert not reload(client).sms_consent
    good = browser.post(url, {"sms-phone_number": "040 123 4567", "sms-sms_consent": "on"})
    assert good.status_code == 302
    client = reload(client)
    assert (client.phone_number, client.sms_consent) == ("+358401234567", True)
    assert Event.objects.filter(client=client, action=ClientAction.SMS_CONSENT).count() == 1
    page = browser.get(reverse("web:client-edit", args=[client.pk])).content.decode()
    assert "+358401234567" in page


def test_client_edit__a_regional_worker_may_not_record_the_consent(web, org):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    page = web(org.receiving_worker).post(
        reverse("web:client-sms", args=[transfer.case.client_id]),
        {"sms-phone_number": "0401234567", "sms-sms_consent": "on"},
    )
    assert page.status_code in (403, 404)
    assert not reload(transfer.case.client).sms_consent
