"""The contact-request pages: the public form (no sign-in, a privacy notice in the page's
language, bad input beside its field, a flood refused after the set rate with a page and
a log line), the intake queue (25 a page with the count), and a request's page (its
content shown after an access-log row; route, link and close), in the role matrix."""

from __future__ import annotations

import logging
import re

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import translation

from audit.models import AccessLog, AccessOutcome
from cases import intake
from cases.enums import ContactRequestState, Role, TeamKind
from cases.models import ContactRequest, Region, Team
from tests.factories import member, open_case, reload

pytestmark = pytest.mark.django_db

CANARY = "Qzcontactcanary"


@pytest.fixture(autouse=True)
def _fresh_rate(settings):
    settings.SILTA_CONTACT_REQUEST_RATE = "3/h"
    caches["ratelimit"].clear()
    yield
    caches["ratelimit"].clear()


@pytest.fixture
def web(client):
    def signed_in(user):
        client.force_login(user)
        return client

    return signed_in


def form_data(**overrides):
    data = {
        "organisation": "Neuvontapiste",
        "sender_name": "Neuvoja",
        "sender_phone": "040 123 4567",
        "client_name": f"{CANARY} Asiakas",
        "client_date_of_birth": "1990-03-04",
        "message": "Asiakas pyytää yhteydenottoa.",
        "consent": "on",
    }
    data.update(overrides)
    return data


def received(**overrides):
    return intake.contact_request_receive(
        organisation="Neuvontapiste",
        sender_name="Neuvoja",
        sender_phone="040 123 4567",
        client_name=f"{CANARY} Asiakas",
        message="Asiakas pyytää yhteydenottoa.",
        consent=True,
        **overrides,
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fi", "Miten tietoja käsitellään"),
        ("sv", "Hur uppgifterna behandlas"),
        ("en", "How the details are handled"),
    ],
)
def test_contact_form__public_with_a_privacy_notice_in_the_language(client, language, words):
    client.cookies["django_language"] = language
    page = client.get(reverse("web:contact"))
    assert page.status_code == 200
    assert words in page.content.decode()


def test_contact_form__sends_a_request_into_the_queue(client):
    page = client.post(reverse("web:contact"), form_data())
    assert page.status_code == 302
    assert page.url == reverse("web:contact-sent")
    contact = ContactRequest.objects.get()
    assert contact.state == ContactRequestState.NEW
    assert contact.client_name == f"{CANARY} Asiakas"
    sent = client.get(page.url)
    assert CANARY not in sent.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"consent": ""}, "consent"),
        ({"message": "x" * 5000}, "message"),
        ({"sender_phone": "", "sender_email": ""}, "sender_phone"),
        ({"client_date_of_birth": "2999-01-01"}, "client_date_of_birth"),
        ({"sender_email": "not an address"}, "sender_email"),
    ],
    ids=["no-consent", "huge-text", "no-way-to-reach", "future-birth", "bad-email"],
)
def test_contact_form__bad_input_beside_its_field_typed_kept(client, data, field):
    page = client.post(reverse("web:contact"), form_data(**data))
    html = page.content.decode()
    assert page.status_code == 400
    assert f'id="id_{field}_error"' in html
    assert "Neuvontapiste" in html  # what was typed stays
    assert not ContactRequest.objects.exists()


NUL_NAMED = {
    "fi": "Tekstissä oli merkki, jota Silta ei voi tallentaa",
    "sv": "Texten innehöll ett tecken som Silta inte kan spara",
    "en": "The text had a character that Silta cannot store",
}


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("organisation", "Neuvonta\x00piste"),
        ("sender_name", "\x00"),
        ("sender_email", "neuvoja@exa\x00mple.org"),
        ("client_date_of_birth", "1990-03-04\x00"),
        ("client_language", "prs\x00"),
        ("message", "a\x00b"),
        ("consent", "on\x00"),
    ],
)
def test_contact_form__a_nul_is_named_beside_its_field_the_rest_kept(
    client, language, field, typed
):
    client.cookies["django_language"] = language
    page = client.post(reverse("web:contact"), form_data(**{field: typed}))
    html = page.content.decode()
    assert page.status_code == 400
    error = re.search(rf'id="id_{field}_error">([^<]*)<', html)
    assert error is not None, f"no error beside {field}"
    assert NUL_NAMED[language] in error[1]
    # Only that field is in error, and what was typed stays, without the NUL.
    assert html.count('class="hds-text-input__error-text"') == 1
    assert "Asiakas pyytää yhteydenottoa." in html or field == "message"
    assert "\x00" not in html
    if field in ("organisation", "message"):
        assert typed.replace("\x00", "") in html
    assert not ContactRequest.objects.exists()


def test_contact_form__a_nul_in_a_field_name_sends_nothing(client):
    page = client.post(reverse("web:contact"), {**form_data(), "extra\x00": "x"})
    assert page.status_code == 400
    assert NUL_NAMED["fi"] in page.content.decode()
    assert not ContactRequest.objects.exists()


def test_contact_form__a_nul_in_the_address_is_still_the_400_page(client):
    page = client.post(reverse("web:contact") + "?a=%00", form_data())
    assert page.status_code == 400
    assert "id_organisation" not in page.content.decode()
    assert not ContactRequest.objects.exists()


def test_contact_form__a_post_with_a_nul_counts_towards_the_rate(client):
    for _ in range(3):
        assert client.post(reverse("web:contact"), form_data(message="\x00")).status_code == 400
    assert client.post(reverse("web:contact"), form_data()).status_code == 429


@pytest.mark.parametrize(("language", "dari"), [("fi", "dari"), ("sv", "dari"), ("en", "Dari")])
def test_contact_form__the_language_is_the_clients_language_select(client, language, dari):
    client.cookies["django_language"] = language
    html = client.get(reverse("web:contact")).content.decode()
    select = re.search(r'<select name="client_language"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None
    assert f'<option value="prs">{dari}</option>' in select[1]
    assert client.post(reverse("web:contact"), form_data(client_language="prs")).status_code == 302
    contact = ContactRequest.objects.get()
    assert contact.client_language == "prs"
    with translation.override(language):
        assert contact.client_language_name == dari


def test_contact_form__a_language_not_in_the_select_is_named_beside_it(client):
    page = client.post(reverse("web:contact"), form_data(client_language="klingon"))
    assert page.status_code == 400
    assert 'id="id_client_language_error"' in page.content.decode()
    assert not ContactRequest.objects.exists()


def test_contact_form__a_flood_is_refused_after_the_rate_and_logged(client, caplog):
    for _ in range(3):
        assert client.post(reverse("web:contact"), form_data()).status_code == 302
    with caplog.at_level(logging.WARNING, logger="silta.contact"):
        page = client.post(reverse("web:contact"), form_data())
    assert page.status_code == 429
    assert "Liian monta yhteydenottopyyntöä" in page.content.decode()
    assert ContactRequest.objects.count() == 3
    assert any("over the rate 3/h" in r.getMessage() for r in caplog.records)
    # Another address is not held back by this one.
    other = client.post(reverse("web:contact"), form_data(), REMOTE_ADDR="192.0.2.77")
    assert other.status_code == 302


def test_intake_queue__a_page_of_25_with_the_count(web, org):
    for _ in range(27):
        received()
    page = web(org.koto_supervisor).get(reverse("web:intake"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "27 avointa yhteydenottopyyntöä" in html
    assert len(re.findall(r'href="/intake/\d+/"', html)) == 25
    assert CANARY not in html  # the queue shows no client data


def test_contact_request_page__content_after_an_access_log_row(web, org):
    contact = received()
    page = web(org.koto_supervisor).get(reverse("web:contact-request", args=[contact.pk]))
    assert CANARY in page.content.decode()
    assert AccessLog.objects.filter(
        actor=org.koto_supervisor,
        action=f"contact_request_read:{contact.pk}",
        outcome=AccessOutcome.ALLOWED,
    ).exists()


def test_contact_request__route_then_link_through_the_pages(web, org):
    case = open_case(org)
    contact = received()
    supervisor = web(org.koto_supervisor)
    page = supervisor.post(
        reverse("web:contact-request-route", args=[contact.pk]),
        {"route-worker": org.caseworker.pk},
    )
    assert page.status_code == 302
    assert reload(contact).assigned_worker == org.caseworker
    worker = web(org.caseworker)
    queue = worker.get(reverse("web:intake")).content.decode()
    assert contact.reference in queue
    bad = worker.post(
        reverse("web:contact-request-link", args=[contact.pk]), {"link-client": "SILTA-999999"}
    )
    assert bad.status_code == 400
    assert 'id="id_link-client_error"' in bad.content.decode()
    worker.post(
        reverse("web:contact-request-link", args=[contact.pk]),
        {"link-client": case.reference},
    )
    contact = reload(contact)
    assert (contact.state, contact.client_id, contact.case_id) == (
        ContactRequestState.LINKED,
        case.client_id,
        case.pk,
    )
    # The linked client is named to whoever's caseload holds them; another unit team's
    # supervisor still sees the request (the queue is the unit's) but not whose it became.
    client = case.client
    own = supervisor.get(reverse("web:contact-request", args=[contact.pk])).content.decode()
    assert f"{client.last_name}, {client.first_name}" in own and case.reference in own
    west = Team.objects.create(
        code="koto3",
        name="Koto-tiimi 3",
        kind=TeamKind.IMMIGRATION_UNIT,
        region=Region.objects.get(code="lansi"),
    )
    other = web(member(west, Role.SUPERVISOR))
    page = other.get(reverse("web:contact-request", args=[contact.pk]))
    assert page.status_code == 200
    shown = page.content.decode()
    assert client.last_name not in shown and case.reference not in shown
    with translation.override(page["Content-Language"]):
        assert translation.gettext("Linked to a client of another team.") in shown


def test_contact_request__close_needs_a_reason(web, org):
    contact = received()
    supervisor = web(org.koto_supervisor)
    url = reverse("web:contact-request-close", args=[contact.pk])
    page = supervisor.post(url, {"close-reason": "other"})
    assert page.status_code == 400
    assert 'id="id_close-text_error"' in page.content.decode()
    supervisor.post(url, {"close-reason": "duplicate"})
    assert reload(contact).state == ContactRequestState.CLOSED


def test_contact_request__routed_after_it_was_linked__its_state_in_words(web, org):
    """Someone linked the request to a client first: routing it says the request's state in
    words (not its client's case's, nor the state machine's codes), and changes nothing."""
    case = open_case(org)
    contact = received()
    ContactRequest.objects.filter(pk=contact.pk).update(
        state=ContactRequestState.LINKED, client_id=case.client_id, case_id=case.pk
    )
    supervisor = web(org.koto_supervisor)
    page = supervisor.post(
        reverse("web:contact-request-route", args=[contact.pk]),
        {"route-worker": org.caseworker.pk},
        follow=True,
    )
    html = page.content.decode()
    assert "Joku muu ehti ensin: tila on nyt ”Liitetty asiakkaaseen”" in html
    assert "”linked”" not in html and "”route”" not in html and "asiakkuuden tila" not in html
    assert reload(contact).assigned_worker is None


ROLES = (
    "caseworker",
    "koto_supervisor",
    "receiving_worker",
    "front_desk",
    "receiving_supervisor",
    "outsider",
)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix__intake_pages(web, org, role):
    """The queue is the Immigration Unit's; a request's page is for its supervisors and
    the worker it is routed to (another's: 404, logged as denied); routing is a
    supervisor's."""
    routed = received()
    intake.contact_request_route(actor=org.koto_supervisor, contact=routed, worker=org.caseworker)
    unrouted = received()
    browser = web(getattr(org, role))
    answers = {
        "queue": browser.get(reverse("web:intake")).status_code,
        "routed": browser.get(reverse("web:contact-request", args=[routed.pk])).status_code,
        "unrouted": browser.get(reverse("web:contact-request", args=[unrouted.pk])).status_code,
        "route": browser.post(
            reverse("web:contact-request-route", args=[unrouted.pk]),
            {"route-worker": org.caseworker.pk},
        ).status_code,
    }
    expected = {
        "caseworker": {"queue": 200, "routed": 200, "unrouted": 404, "route": 404},
        "koto_supervisor": {"queue": 200, "routed": 200, "unrouted": 200, "route": 302},
    }.get(role, {"queue": 403, "routed": 404, "unrouted": 404, "route": 404})
    assert answers == expected
    if answers["unrouted"] == 404:
        assert AccessLog.objects.filter(
            actor=getattr(org, role), outcome=AccessOutcome.DENIED
        ).exists()
