"""In a real browser in Finnish, Swedish and English: an advice point sends a contact
request through the public form (no sign-in, the privacy notice in view); a supervisor
routes it from the intake queue to a caseworker, who links it to the client's case. And the
client's letter of the handover appointment, downloaded from the transfer page, with the
caseworker told that the client's language (Dari) has no template of its own. Each page is
photographed and checked (axe-core, HTML_CodeSniffer, translations)."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.urls import reverse

from cases.enums import ContactRequestState
from cases.models import ContactRequest
from tests.browser.conftest import BUTTON, LANGUAGES, Session
from tests.factories import make_org, open_case, transfer_in_state
from transfers.enums import TransferState

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.parametrize("language", LANGUAGES),
]


@pytest.fixture
def anonymous(browser, live_server):
    contexts = []

    def open_as(*, language: str, role: str) -> Session:
        context = browser.new_context(locale=language)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        session = Session(page, live_server.url, language, role)
        page.goto(live_server.url + "/login/")
        if language != "fi":
            page.get_by_role("button", name=BUTTON[language]).click()
        return session

    yield open_as
    for context in contexts:
        context.close()


def test_contact_request_from_the_public_form_to_a_linked_case(anonymous, sign_in, language):
    caches["ratelimit"].clear()
    org = make_org()
    case = open_case(org)

    public = anonymous(language=language, role="contact-public")
    page = public.go(reverse("web:contact"))
    assert page.locator("#h-privacy").is_visible()
    public.check("contact-form")
    page.fill("input[name=organisation]", "Monikulttuurinen neuvontapiste")
    page.fill("input[name=sender_name]", "Neuvoja Nieminen")
    page.fill("input[name=sender_email]", "neuvoja@example.org")
    page.fill("input[name=client_name]", "Amina Testinen")
    page.fill("textarea[name=message]", "Asiakas pyytää yhteydenottoa asumisasiassa.")
    page.check("input[name=consent]")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"**{reverse('web:contact-sent')}")
    public.check("contact-sent")
    contact = ContactRequest.objects.get()
    assert "Amina" not in page.inner_text("body")

    supervisor = sign_in(org.koto_supervisor, language=language, role="contact-supervisor")
    page = supervisor.go(reverse("web:intake"))
    assert contact.reference in page.inner_text("#requests")
    supervisor.check("intake-queue")
    page.click(f"a[href='{reverse('web:contact-request', args=[contact.pk])}']")
    page.wait_for_load_state()
    supervisor.check("contact-request")
    page.select_option("select[name=route-worker]", str(org.caseworker.pk))
    page.locator(
        f"form[action='{reverse('web:contact-request-route', args=[contact.pk])}'] button"
    ).click()
    page.locator(".hds-notification--success").wait_for()
    supervisor.check("contact-routed")

    worker = sign_in(org.caseworker, language=language, role="contact-worker")
    page = worker.go(reverse("web:intake"))
    worker.check("intake-mine")
    page = worker.go(reverse("web:contact-request", args=[contact.pk]))
    page.fill("input[name=link-client]", case.reference)
    page.locator(
        f"form[action='{reverse('web:contact-request-link', args=[contact.pk])}'] button"
    ).click()
    page.locator(".hds-notification--success").wait_for()
    worker.check("contact-linked")
    contact.refresh_from_db()
    assert (contact.state, contact.case_id) == (ContactRequestState.LINKED, case.pk)


def test_the_letter_to_a_dari_speaker_in_plain_finnish(sign_in, language):
    org = make_org()
    transfer = transfer_in_state(org, TransferState.BOOKED, language="prs")
    worker = sign_in(org.caseworker, language=language, role="notice-caseworker")
    page = worker.go(reverse("web:transfer", args=[transfer.pk]))
    notice = page.locator("#client-notice")
    assert notice.locator(".hds-notification--alert").is_visible()  # no Dari template
    worker.check("client-notice")
    with page.expect_download() as download:
        notice.locator(f"a[href='{reverse('web:transfer-letter', args=[transfer.pk])}']").click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"
