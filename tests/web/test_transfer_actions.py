"""The sending team cancels a transfer from its page, and a booking request that failed for
good is sent again from there; the case page's timeline speaks the action enums' words."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine
from django.conf import settings as django_settings
from django.urls import reverse

from audit.models import AccessLog, AccessOutcome
from cases.enums import CaseAction, CaseState, ClientAction, EventSubject
from cases.models import Event
from core import clock
from criteria.enums import ReviewAction
from notifications.models import OutboxMessage, OutboxStatus
from notifications.services import MAX_ATTEMPTS, relay_pending
from tests.factories import reload, transfer_in_state
from transfers import services
from transfers.enums import DeliveryStatus, TransferAction, TransferState
from web import labels

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def signed_in(user, language: str | None = None):
        client.force_login(user)
        if language:
            client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
        return client

    return signed_in


def _transitions(user, outcome=AccessOutcome.ALLOWED):
    return AccessLog.objects.filter(actor=user, action="web_transition", outcome=outcome)


# Cancelling --------------------------------------------------------------------------------


def test_caseworker_cancels_a_booked_transfer_and_the_case_is_back_in_review(web, org):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    worker = web(org.caseworker)
    url = reverse("web:transfer", args=[transfer.pk])
    assert 'id="id_cancel-reason"' in worker.get(url).content.decode()

    page = worker.post(
        reverse("web:transfer-cancel", args=[transfer.pk]),
        {"cancel-reason": "Asiakas muuttaa toiselle paikkakunnalle"},
        follow=True,
    )
    assert page.redirect_chain[-1][0] == url
    html = page.content.decode()
    assert "Siirto peruttu. Asiakkuus on palannut arviointiin." in html
    assert 'id="id_cancel-reason"' not in html  # a cancelled transfer has nothing to cancel
    transfer = reload(transfer)
    assert transfer.state == TransferState.CANCELLED
    assert transfer.cancel_reason == "Asiakas muuttaa toiselle paikkakunnalle"
    assert reload(transfer.case).state == CaseState.IN_REVIEW
    assert transfer.bookings.get().status == "cancelled"
    event = Event.objects.get(transfer=transfer, action=TransferAction.CANCEL)
    assert (event.actor, event.reason) == (org.caseworker, transfer.cancel_reason)
    row = _transitions(org.caseworker).get()
    assert (row.case_id, row.client_id) == (transfer.case_id, transfer.case.client_id)


@pytest.mark.parametrize(
    ("language", "message"),
    [("fi", "Kirjaa siirron perumisen syy."), ("sv", "Ange orsaken till att överföringen")],
)
def test_cancel_without_a_reason_is_refused_beside_the_field(web, org, language, message):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    events = Event.objects.count()
    page = web(org.caseworker, language).post(
        reverse("web:transfer-cancel", args=[transfer.pk]), {"cancel-reason": "   "}
    )
    assert page.status_code == 400
    html = page.content.decode()
    error = html.split('id="id_cancel-reason_error"', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert 'aria-describedby="id_cancel-reason_error"' in html
    assert reload(transfer).state == TransferState.PROPOSED
    assert reload(transfer.case).state == CaseState.TRANSFER_PENDING
    assert Event.objects.count() == events
    assert not _transitions(org.caseworker).exists()


def test_the_receiving_team_may_not_cancel_403_and_a_denied_row(web, org):
    transfer = transfer_in_state(org, TransferState.ACCEPTED)
    receiver = web(org.receiving_worker)
    page = receiver.get(reverse("web:transfer", args=[transfer.pk]))
    assert 'id="id_cancel-reason"' not in page.content.decode()
    page = receiver.post(
        reverse("web:transfer-cancel", args=[transfer.pk]), {"cancel-reason": "Ei meille"}
    )
    assert page.status_code == 403
    assert reload(transfer).state == TransferState.ACCEPTED
    denied = _transitions(org.receiving_worker, AccessOutcome.DENIED).get()
    assert denied.case_id == transfer.case_id
    assert not _transitions(org.receiving_worker).exists()


def test_cancel_after_someone_else_acted_says_the_state_now(web, org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    services.transfer_return(
        actor=org.receiving_worker, transfer=transfer, reason="other", text="Väärä tiimi"
    )
    events = Event.objects.count()
    page = web(org.caseworker).post(
        reverse("web:transfer-cancel", args=[transfer.pk]),
        {"cancel-reason": "Asiakas muuttaa"},
        follow=True,
    )
    html = page.content.decode()
    assert "Joku muu ehti ensin: siirron tila on nyt ”Palautettu”" in html
    assert reload(transfer).state == TransferState.RETURNED
    assert Event.objects.count() == events


# A booking request that failed for good ----------------------------------------------------


@pytest.fixture
def failed_booking(org, booking_system, settings):
    """A transfer whose booking request the receiving team's booking system refused until
    the outbox gave up (only the external system is stood in for, on loopback)."""
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
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert reload(transfer).bookings.get().delivery == DeliveryStatus.FAILED
    return SimpleNamespace(transfer=reload(transfer), message=message, system=booking_system)


def test_a_failed_booking_request_shows_and_is_sent_again_from_the_page(web, org, failed_booking):
    transfer = failed_booking.transfer
    desk = web(org.front_desk)
    url = reverse("web:transfer", args=[transfer.pk])
    html = desk.get(url).content.decode()
    notice = html.split('id="delivery-failed"', 1)[1].split("</form>", 1)[0]
    assert "Ajanvarauspyynnön lähetys epäonnistui" in notice
    assert reverse("web:transfer-retry", args=[transfer.pk]) in notice
    assert "Lähetä ajanvarauspyyntö uudelleen" in notice

    page = desk.post(reverse("web:transfer-retry", args=[transfer.pk]), follow=True)
    html = page.content.decode()
    assert "Ajanvarauspyyntö lähetetty uudelleen." in html
    assert 'id="delivery-failed"' not in html
    failed_booking.message.refresh_from_db()
    assert failed_booking.message.status == OutboxStatus.PENDING
    assert reload(transfer).bookings.get().delivery == DeliveryStatus.WAITING
    event = Event.objects.get(transfer=transfer, action=TransferAction.RETRY_BOOKING)
    assert event.actor == org.front_desk
    assert _transitions(org.front_desk).get().case_id == transfer.case_id

    # Sent again a second time, by someone who saw the old page: nothing failed any more.
    page = web(org.caseworker).post(reverse("web:transfer-retry", args=[transfer.pk]), follow=True)
    assert "Joku muu ehti ensin: ajanvarauspyyntö on jo lähetetty uudelleen." in (
        page.content.decode()
    )
    assert Event.objects.filter(action=TransferAction.RETRY_BOOKING).count() == 1

    failed_booking.system.answers.append((202, {"reference": "EXT-9"}))
    with time_machine.travel(clock.now() + dt.timedelta(hours=2), tick=False):
        relay_pending()
    booking = reload(transfer).bookings.get()
    assert (booking.delivery, booking.external_ref) == (DeliveryStatus.DELIVERED, "EXT-9")


def test_the_sending_caseworker_may_also_send_the_request_again(web, org, failed_booking):
    transfer = failed_booking.transfer
    worker = web(org.caseworker)
    html = worker.get(reverse("web:transfer", args=[transfer.pk])).content.decode()
    assert reverse("web:transfer-retry", args=[transfer.pk]) in html
    page = worker.post(reverse("web:transfer-retry", args=[transfer.pk]))
    assert page.status_code == 302
    assert Event.objects.get(action=TransferAction.RETRY_BOOKING).actor == org.caseworker


def test_a_failed_opening_of_the_request_is_also_sent_again_from_the_page(web, org):
    """The request that follows acceptance can fail before any booking exists (the relay
    gave up on the "open" row): the page still offers to send it again."""
    transfer = transfer_in_state(org, TransferState.ACCEPTED)
    opening = OutboxMessage.objects.get(key=f"booking:open:{transfer.pk}")
    OutboxMessage.objects.filter(pk=opening.pk).update(
        status=OutboxStatus.FAILED, attempts=MAX_ATTEMPTS, last_error="OperationalError"
    )
    desk = web(org.front_desk)
    html = desk.get(reverse("web:transfer", args=[transfer.pk])).content.decode()
    assert 'id="delivery-failed"' in html
    assert reverse("web:transfer-retry", args=[transfer.pk]) in html

    desk.post(reverse("web:transfer-retry", args=[transfer.pk]))
    opening.refresh_from_db()
    assert opening.status == OutboxStatus.PENDING
    with time_machine.travel(clock.now() + dt.timedelta(days=3), tick=False):
        relay_pending()
    assert reload(transfer).state == TransferState.BOOKING_REQUESTED


# The timeline's words ----------------------------------------------------------------------


def test_the_case_timeline_shows_the_action_enums_words(web, org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    services.transfer_cancel(actor=org.caseworker, transfer=transfer, reason="Muuttaa")
    html = web(org.caseworker).get(reverse("web:case", args=[transfer.case_id])).content.decode()
    timeline = html.split('id="h-timeline"', 1)[1]
    for words in (
        "Siirto peruttu",  # TransferAction.CANCEL
        "Arviointi avattu uudelleen",  # CaseAction.REOPEN_REVIEW
        "Kriteeri arvioitu",  # ReviewAction.ASSESS
    ):
        assert words in timeline, words
    for code in ("cancel", "reopen_review", "assess"):
        assert f"<strong>{code}</strong>" not in timeline


def test_every_action_of_every_enum_has_its_words_by_subject():
    enums = {
        EventSubject.CLIENT: ClientAction,
        EventSubject.CASE: CaseAction,
        EventSubject.REVIEW: ReviewAction,
        EventSubject.TRANSFER: TransferAction,
    }
    for subject, enum in enums.items():
        for member in enum:
            event = SimpleNamespace(subject=subject.value, action=member.value)
            assert labels.event_label(event) == member.label, (subject, member)
    # Similar values of different enums keep their own words.
    transfer_complete = SimpleNamespace(subject="transfer", action="complete")
    case_complete = SimpleNamespace(subject="case", action="complete_transfer")
    assert labels.event_label(transfer_complete) == TransferAction.COMPLETE.label
    assert labels.event_label(case_complete) == CaseAction.COMPLETE_TRANSFER.label
    assert labels.event_label(SimpleNamespace(subject="case", action="unknown")) == "unknown"


def test_a_cancelled_transfer_offers_no_retry_and_refuses_one(web, org):
    """A failure from before the cancellation is history: nothing to send again."""
    transfer = transfer_in_state(org, TransferState.ACCEPTED)
    opening = OutboxMessage.objects.get(key=f"booking:open:{transfer.pk}")
    OutboxMessage.objects.filter(pk=opening.pk).update(
        status=OutboxStatus.FAILED, attempts=MAX_ATTEMPTS, last_error="OperationalError"
    )
    services.transfer_cancel(actor=org.caseworker, transfer=transfer, reason="Muutti pois")
    worker = web(org.caseworker)
    html = worker.get(reverse("web:transfer", args=[transfer.pk])).content.decode()
    assert reverse("web:transfer-retry", args=[transfer.pk]) not in html
    page = worker.post(reverse("web:transfer-retry", args=[transfer.pk]), follow=True)
    assert page.status_code == 200
    opening.refresh_from_db()
    assert opening.status == OutboxStatus.FAILED
    assert not Event.objects.filter(action=TransferAction.RETRY_BOOKING).exists()


@pytest.mark.parametrize(
    "path", ["/transfers/?team=%00", "/cases/?team=%00", "/supervisor/?worker=%00"]
)
def test_a_nul_character_in_a_filter_is_a_400_page_not_a_server_error(web, org, path):
    page = web(org.koto_supervisor, "fi").get(path)
    assert page.status_code == 400
    assert "Osoite ei kelpaa" in page.content.decode()
