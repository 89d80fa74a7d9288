"""The client's notice of the handover appointment in their own language: the templates
(data, with the plain-language Finnish fallback), the letter (PDF), and the text messages
through the outbox to a real HTTP SMS gateway standing in on loopback (started here, not
mocked): exactly one message per notice, a failure retried with the same key, never the
identity code; the reminder the day before, once per booking; the consent recorded
through the cases service with an event row."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AccessLog
from cases import services as case_services
from cases.enums import CaseState, ClientAction
from cases.models import Event
from core import clock
from core.errors import ActorNotAllowed, InvalidInput
from notifications.models import OutboxMessage, OutboxStatus
from notifications.services import relay_pending
from tests.factories import (
    assess_all_met,
    case_in_state,
    handover_slot,
    make_client,
    reload,
    transfer_in_state,
)
from transfers import client_notice, services
from transfers.enums import NoticeKind, TransferState
from transfers.models import ClientNoticeTemplate
from transfers.reminders import reminder_sweep

pytestmark = pytest.mark.django_db

IDENTITY_CODE = "170580-123L"  # born 17.5.1980, as the factories' clients are


class Gateway:
    """A loopback HTTP SMS gateway: records every request; answers with the next status
    of `answers` (200 when none are left)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.answers: list[int] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                gateway.received.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "raw": body.decode(),
                        "json": json.loads(body),
                    }
                )
                status = gateway.answers.pop(0) if gateway.answers else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(settings):
    found = Gateway()
    settings.SILTA_SMS_GATEWAY_URL = found.url
    settings.SILTA_SMS_GATEWAY_TOKEN = "test-token"
    settings.SILTA_SMS_GATEWAY_TIMEOUT = 5.0
    yield found
    found.close()


def requested(org, *, language="ara", consent=True):
    """A transfer waiting for its booking, its client with an identity code and (by
    default) a number and consent to text messages."""
    org.adult.front_desk_location = "Malminkaari 12, 00700 Helsinki"
    org.adult.save(update_fields=["front_desk_location"])
    transfer = transfer_in_state(
        org,
        TransferState.BOOKING_REQUESTED,
        language=language,
        personal_identity_code=IDENTITY_CODE,
    )
    if consent:
        case_services.client_set_sms_consent(
            actor=org.caseworker,
            client=transfer.case.client,
            phone_number="040 123 4567",
            sms_consent=True,
        )
    return transfer


def confirm(org, transfer, *, days=7):
    return services.transfer_confirm_booking(
        actor=org.front_desk,
        transfer=transfer,
        starts_at=handover_slot(days=days),
        place="Malmin FrontDesk, huone 3",
        interpreter="Tulkkivaraus 42",
    )


def assert_never_the_identity_code(gateway):
    for request in gateway.received:
        assert IDENTITY_CODE not in request["raw"]
        assert IDENTITY_CODE.replace("-", "") not in request["raw"]


# The text message on booking --------------------------------------------------------------


def test_client_sms__the_gateway_receives_exactly_one_message_per_notice(org, gateway):
    transfer = requested(org, language="swe")
    confirm(org, transfer)
    booking = transfer.bookings.get()
    relay_pending()
    relay_pending()  # a second relay finds nothing to send
    assert len(gateway.received) == 1
    [request] = gateway.received
    key = f"client_sms:sms:{booking.pk}:{transfer.pk}"
    assert request["headers"]["Idempotency-Key"] == key
    assert request["headers"]["Authorization"] == "Bearer test-token"
    assert request["json"]["to"] == "+358401234567"
    assert request["json"]["id"] == key
    text = request["json"]["text"]
    assert "Malmin FrontDesk, huone 3" in text and "överföringsmöte" in text  # Swedish
    assert "Malminkaari 12" in text
    assert "En tolk på svenska" in text  # the interpreter's language, named in Swedish
    assert_never_the_identity_code(gateway)
    assert OutboxMessage.objects.get(key=key).status == OutboxStatus.SENT
    assert AccessLog.objects.filter(
        client=transfer.case.client, action="task_client_sms", purpose="client_notice"
    ).exists()


def test_client_sms__a_gateway_failure_is_retried_with_the_same_key(org, gateway):
    gateway.answers = [500]
    transfer = requested(org)
    confirm(org, transfer)
    relay_pending()
    message = OutboxMessage.objects.get(channel="client_sms")
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    with time_machine.travel(clock.now() + dt.timedelta(minutes=2), tick=False):
        relay_pending()
    assert len(gateway.received) == 2
    first, second = gateway.received
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]
    assert first["json"] == second["json"]
    assert_never_the_identity_code(gateway)
    message = reload(message)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)


def test_client_sms__a_text_that_would_carry_the_identity_code_never_leaves(org, gateway):
    ClientNoticeTemplate.objects.filter(kind=NoticeKind.SMS).update(
        body=f"Tapaaminen $date klo $time. Tunnus {IDENTITY_CODE}"
    )
    transfer = requested(org, language="fin")
    confirm(org, transfer)
    relay_pending()
    assert gateway.received == []
    message = OutboxMessage.objects.get(channel="client_sms")
    assert "identity code" in message.last_error


def test_client_sms__none_without_consent(org, gateway):
    transfer = requested(org, consent=False)
    confirm(org, transfer)
    relay_pending()
    assert gateway.received == []
    assert not OutboxMessage.objects.filter(channel="client_sms").exists()


def test_client_sms__none_when_no_gateway_is_configured(org, settings):
    settings.SILTA_SMS_GATEWAY_URL = ""
    transfer = requested(org)
    confirm(org, transfer)
    assert not OutboxMessage.objects.filter(channel="client_sms").exists()


def test_client_sms__a_booking_cancelled_before_sending_sends_nothing(org, gateway):
    transfer = requested(org)
    confirm(org, transfer)
    services.transfer_cancel(actor=org.caseworker, transfer=transfer, reason="Moved abroad")
    relay_pending()
    assert gateway.received == []


# A household on one booking ---------------------------------------------------------------


def household_booked(org, *, spouse_consents=True):
    """A parent (Swedish) and a spouse (English) moving together on one booking, each
    with their own number; a child without a case of their own."""
    org.adult.front_desk_location = "Malminkaari 12, 00700 Helsinki"
    org.adult.save(update_fields=["front_desk_location"])
    cases = []
    for first_name, language in (("Amina", "swe"), ("Omar", "eng")):
        case = case_in_state(
            org, CaseState.IN_REVIEW, first_name=first_name, last_name="Mäkinen", language=language
        )
        assess_all_met(org, case)
        cases.append(case)
    parent, spouse = (case.client for case in cases)
    household = case_services.household_link(
        actor=org.caseworker, client=parent, member=spouse, relation="spouse"
    )
    for client, number, consent in (
        (parent, "040 111 2222", True),
        (spouse, "040 333 4444", spouse_consents),
    ):
        case_services.client_set_sms_consent(
            actor=org.caseworker, client=client, phone_number=number, sms_consent=consent
        )
    first, second = services.household_transfer_propose(
        consent_basis="consent", actor=org.caseworker, household=household
    )
    services.transfer_accept_together(
        actor=org.receiving_worker, transfer=first, receiving_worker=org.receiving_worker
    )
    booking = services.transfer_request_booking(transfer=first)
    confirm(org, second)
    return reload(booking), reload(first), reload(second)


def test_client_sms__each_household_member_gets_their_own_in_their_language(org, gateway):
    booking, first, second = household_booked(org)
    relay_pending()
    relay_pending()
    by_number = {r["json"]["to"]: r for r in gateway.received}
    assert set(by_number) == {"+358401112222", "+358403334444"}
    assert len(gateway.received) == 2
    assert "överföringsmöte" in by_number["+358401112222"]["json"]["text"]
    assert "handover meeting" in by_number["+358403334444"]["json"]["text"]
    keys = {r["headers"]["Idempotency-Key"] for r in gateway.received}
    assert keys == {
        f"client_sms:sms:{booking.pk}:{first.pk}",
        f"client_sms:sms:{booking.pk}:{second.pk}",
    }
    for transfer in (first, second):
        assert AccessLog.objects.filter(
            client=transfer.case.client,
            case_id=transfer.case_id,
            action="task_client_sms",
            purpose="client_notice",
        ).exists()
    assert_never_the_identity_code(gateway)
    # The reminder the day before: one for each of them, once.
    day_before = booking.starts_at.astimezone(clock.tz()).date() - dt.timedelta(days=1)
    with time_machine.travel(
        dt.datetime.combine(day_before, dt.time(7), tzinfo=clock.tz()), tick=False
    ):
        reminder_sweep()
        reminder_sweep()
        relay_pending()
    reminders = [r for r in gateway.received if "sms_reminder" in r["headers"]["Idempotency-Key"]]
    assert sorted(r["json"]["to"] for r in reminders) == ["+358401112222", "+358403334444"]


def test_client_sms__a_household_member_without_consent_gets_none(org, gateway):
    household_booked(org, spouse_consents=False)
    relay_pending()
    assert [r["json"]["to"] for r in gateway.received] == ["+358401112222"]
    assert OutboxMessage.objects.filter(channel="client_sms").count() == 1


def test_letter__each_household_member_has_their_own(org):
    booking, first, second = household_booked(org)
    assert client_notice.booking_for(second) == booking  # the household's one booking
    own = pdf_text(client_notice.letter_pdf(booking, first))
    theirs = pdf_text(client_notice.letter_pdf(booking, second))
    assert "Amina Mäkinen" in own and "Omar" not in own
    assert "Omar Mäkinen" in theirs and "Amina" not in theirs
    assert "Malmin FrontDesk, huone 3" in own and "Malmin FrontDesk, huone 3" in theirs
    assert client_notice.render(booking, NoticeKind.LETTER, transfer=first).template.language == (
        "swe"
    )
    assert client_notice.render(booking, NoticeKind.LETTER, transfer=second).template.language == (
        "eng"
    )


def test_letter__a_household_members_transfer_page_offers_their_own(org, client):
    _booking, _first, second = household_booked(org)
    client.force_login(org.caseworker)
    page = client.get(
        reverse("web:transfer", args=[second.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert reverse("web:transfer-letter", args=[second.pk]) in page
    # The member's page shows the household's one meeting, not "no booking yet".
    assert "No booking yet" not in page
    assert "Malmin FrontDesk, huone 3" in page
    letter = client.get(reverse("web:transfer-letter", args=[second.pk]))
    assert letter.status_code == 200
    assert "Omar Mäkinen" in pdf_text(letter.content)
    assert AccessLog.objects.filter(
        actor=org.caseworker, client=second.case.client, action="web_client_letter"
    ).exists()


# The reminder the day before --------------------------------------------------------------


def test_client_sms_reminder__the_day_before_once_per_booking(org, gateway):
    transfer = requested(org, language="eng")
    confirm(org, transfer, days=7)
    booking = transfer.bookings.get()
    relay_pending()  # the notice itself
    day_before = booking.starts_at.astimezone(clock.tz()).date() - dt.timedelta(days=1)
    two_days_before = day_before - dt.timedelta(days=1)
    with time_machine.travel(
        dt.datetime.combine(two_days_before, dt.time(7), tzinfo=clock.tz()), tick=False
    ):
        reminder_sweep()
    assert not OutboxMessage.objects.filter(key__startswith="client_sms:sms_reminder").exists()
    with time_machine.travel(
        dt.datetime.combine(day_before, dt.time(7), tzinfo=clock.tz()), tick=False
    ):
        reminder_sweep()
        reminder_sweep()  # the sweep runs again: nothing new
        relay_pending()
    reminders = [r for r in gateway.received if "sms_reminder" in r["headers"]["Idempotency-Key"]]
    assert len(reminders) == 1
    assert reminders[0]["json"]["text"].startswith("Reminder: your handover meeting is tomorrow")
    assert len(gateway.received) == 2
    assert_never_the_identity_code(gateway)


# Templates and the letter -----------------------------------------------------------------


def test_templates__shipped_in_four_versions_each_marked_for_review():
    shipped = ClientNoticeTemplate.objects.all()
    assert {(t.kind, t.language, t.plain_language) for t in shipped} == {
        (kind, language, plain)
        for kind in NoticeKind.values
        for language, plain in (("fin", False), ("fin", True), ("swe", False), ("eng", False))
    }
    assert all(t.needs_translator_review for t in shipped)
    assert all(client_notice.template_errors(t) == {} for t in shipped)


def test_templates__a_language_without_one_gets_plain_finnish_and_says_so():
    chosen = client_notice.chosen_template(NoticeKind.LETTER, "prs")
    assert chosen.fallback and chosen.template.plain_language
    assert chosen.template.language == "fin"
    own = client_notice.chosen_template(NoticeKind.LETTER, "swe")
    assert not own.fallback and own.template.language == "swe"


def test_templates__an_unknown_placeholder_is_named():
    template = ClientNoticeTemplate(
        kind=NoticeKind.SMS, language="ara", body="$time $identity_code", interpreter_line=""
    )
    errors = client_notice.template_errors(template)
    assert "identity_code" in errors["body"]


def test_letter__a_pdf_in_plain_finnish_for_a_dari_speaker(org):
    transfer = requested(org, language="prs", consent=False)
    confirm(org, transfer)
    booking = transfer.bookings.get()
    rendered = client_notice.render(booking, NoticeKind.LETTER)
    assert rendered.fallback and rendered.template.plain_language
    assert "Malmin FrontDesk, huone 3" in rendered.body
    assert org.receiving_worker.get_full_name() in rendered.body
    assert "Ota mukaan" in rendered.body
    assert "dari" in rendered.body  # the interpreter's language, named in Finnish
    assert IDENTITY_CODE not in rendered.body
    pdf = client_notice.letter_pdf(booking)
    assert pdf.startswith(b"%PDF")


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def template_in(language: str, subject: str, body: str, interpreter_line: str = "") -> None:
    ClientNoticeTemplate.objects.create(
        kind=NoticeKind.LETTER,
        language=language,
        subject=subject,
        body=body,
        interpreter_line=interpreter_line,
    )


@pytest.mark.parametrize(
    ("language", "subject", "body"),
    [
        ("rus", "Приглашение на встречу", "Время: $date в $time\nМесто: $place"),
        ("ukr", "Запрошення на зустріч", "Час: $date о $time\nМісце: $place. Їжа, ґанок, є."),
        ("fin", "Kutsu siirtotapaamiseen", None),
    ],
)
def test_letter__cyrillic_and_finnish_characters_are_in_the_pdf(org, language, subject, body):
    if body is not None:
        template_in(language, subject, body)
    transfer = requested(org, language=language, consent=False)
    confirm(org, transfer)
    booking = transfer.bookings.get()
    choice = client_notice.letter_template(language)
    assert not choice.fallback and not choice.script
    text = pdf_text(client_notice.letter_pdf(booking))
    assert subject in text
    assert "Malmin FrontDesk, huone 3" in text
    if body is not None:
        first_line = body.split("$")[0]
        assert first_line in text  # e.g. "Время: "
    else:
        assert "henkilöllisyystodistus" in text
    # The letter's font is embedded (DejaVu Sans), not the Latin-only Helvetica.
    reader = PdfReader(io.BytesIO(client_notice.letter_pdf(booking)))
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].get_object().values()
    }
    assert fonts and all("DejaVuSans" in name for name in fonts), fonts


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("ara", "دعوة إلى اجتماع التسليم"),  # right to left: ReportLab cannot shape it
        ("fas", "دعوت به جلسه"),
        ("tir", "ዕድመ ናብ ርክብ"),  # Ge'ez script: no glyphs in the font
    ],
)
def test_letter__a_script_it_cannot_write_is_plain_finnish_and_the_caseworker_told(
    org, language, subject
):
    template_in(language, subject, "$date $time $place")
    transfer = requested(org, language=language, consent=False)
    confirm(org, transfer)
    booking = transfer.bookings.get()
    choice = client_notice.letter_template(language)
    assert choice.fallback and choice.script
    assert choice.template.plain_language and choice.template.language == "fin"
    text = pdf_text(client_notice.letter_pdf(booking))
    assert "Sinulla on tapaaminen" in text
    assert subject not in text
    # A text message keeps the client's own template: the phone draws the script.
    ClientNoticeTemplate.objects.create(
        kind=NoticeKind.SMS, language=language, body=f"{subject} $date $time"
    )
    sms = client_notice.render(booking, NoticeKind.SMS)
    assert not sms.fallback and sms.body.startswith(subject)


# The consent ------------------------------------------------------------------------------


def test_sms_consent__recorded_with_an_event_without_the_number(org):
    transfer = requested(org, consent=False)
    client = transfer.case.client
    case_services.client_set_sms_consent(
        actor=org.caseworker, client=client, phone_number="+358 50 765 4321", sms_consent=True
    )
    client = reload(client)
    assert (client.phone_number, client.sms_consent) == ("+358507654321", True)
    assert client.sms_consent_at is not None
    event = Event.objects.filter(client=client, action=ClientAction.SMS_CONSENT).get()
    assert event.params == {"consent": True, "number_changed": True}
    assert "507654321" not in json.dumps(event.params)


def test_sms_consent__the_same_number_and_consent_again__nothing_changes_no_event(org):
    """Saving the form again as it was (the number typed as before, in any spacing)
    changes nothing: the consent keeps its time and no second event is written."""
    transfer = requested(org, consent=False)
    client = transfer.case.client
    case_services.client_set_sms_consent(
        actor=org.caseworker, client=client, phone_number="+358 50 765 4321", sms_consent=True
    )
    given_at = reload(client).sms_consent_at
    case_services.client_set_sms_consent(
        actor=org.caseworker, client=client, phone_number="050 765 4321", sms_consent=True
    )
    client = reload(client)
    assert (client.phone_number, client.sms_consent) == ("+358507654321", True)
    assert client.sms_consent_at == given_at
    assert Event.objects.filter(client=client, action=ClientAction.SMS_CONSENT).count() == 1


def test_sms_consent__withdrawn_with_the_same_number__recorded_with_an_event(org):
    transfer = requested(org, consent=False)
    client = transfer.case.client
    case_services.client_set_sms_consent(
        actor=org.caseworker, client=client, phone_number="+358 50 765 4321", sms_consent=True
    )
    case_services.client_set_sms_consent(
        actor=org.caseworker, client=client, phone_number="+358 50 765 4321", sms_consent=False
    )
    client = reload(client)
    assert (client.phone_number, client.sms_consent, client.sms_consent_at) == (
        "+358507654321",
        False,
        None,
    )
    # Given again for the number kept on record: recorded as well.
    case_services.client_set_sms_consent(
        actor=org.caseworker, client=client, phone_number="+358507654321", sms_consent=True
    )
    client = reload(client)
    assert (client.sms_consent, client.sms_consent_at is not None) == (True, True)
    events = Event.objects.filter(client=client, action=ClientAction.SMS_CONSENT).order_by("id")
    assert [e.params for e in events] == [
        {"consent": True, "number_changed": True},
        {"consent": False, "number_changed": False},
        {"consent": True, "number_changed": False},
    ]


def test_sms_consent__a_client_not_yet_in_a_case__recorded_by_the_immigration_unit(org):
    """Consent can be recorded at registration, before any case is opened: any sending
    worker of the Immigration Unit records it."""
    client = make_client(org)
    assert not client.cases.exists()
    case_services.client_set_sms_consent(
        actor=org.caseworker, client=client, phone_number="040 123 4567", sms_consent=True
    )
    client = reload(client)
    assert (client.phone_number, client.sms_consent) == ("+358401234567", True)
    event = Event.objects.get(client=client, action=ClientAction.SMS_CONSENT)
    assert (event.actor, event.params) == (
        org.caseworker,
        {"consent": True, "number_changed": True},
    )


@pytest.mark.parametrize(
    ("number", "consent"), [("", True), ("12", False), ("040 abc", True)], ids=str
)
def test_sms_consent__bad_number_named_and_nothing_written(org, number, consent):
    transfer = requested(org, consent=False)
    with pytest.raises(InvalidInput) as caught:
        case_services.client_set_sms_consent(
            actor=org.caseworker,
            client=transfer.case.client,
            phone_number=number,
            sms_consent=consent,
        )
    assert "phone_number" in caught.value.errors
    assert not reload(transfer.case.client).sms_consent
    assert not Event.objects.filter(action=ClientAction.SMS_CONSENT).exists()


def test_sms_consent__a_regional_worker_may_not_record_it(org):
    transfer = requested(org, consent=False)
    with pytest.raises(ActorNotAllowed):
        case_services.client_set_sms_consent(
            actor=org.receiving_worker,
            client=transfer.case.client,
            phone_number="0401234567",
            sms_consent=True,
        )
