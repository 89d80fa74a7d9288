"""Referrals to partners without handing over the case: sent with the client's consent
(what is shared and why, recorded), a disclosure-log row for each; the partner's contact
answers through a signed link that expires (no account), seeing only what the consent
allows, each view access-logged; an altered or expired link shows nothing."""

from __future__ import annotations

import datetime as dt
import io
import re
import smtplib

import psycopg
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.mail.backends import locmem
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from audit.access import PARTNER_LINK_USERNAME
from audit.models import AccessLog, DisclosureLog
from audit.report import client_report_pdf
from cases.enums import CaseState
from cases.models import Event
from core import clock
from core.errors import ActorNotAllowed, InvalidInput, TransitionNotAllowed
from notifications.models import Notification, NotificationKind, OutboxMessage, OutboxStatus
from notifications.services import MAX_ATTEMPTS, relay_pending
from partners.channel import render_referral_mail
from partners.enums import ReferralState
from partners.models import Referral
from partners.services import (
    ReferralLinkExpired,
    ReferralLinkInvalid,
    referral_answer,
    referral_done,
    referral_from_token,
    referral_link,
    referral_send,
    referral_token,
)
from tests import database
from tests.factories import case_in_state, open_case
from tests.partners.test_directory import partner
from tests.snapshot import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def kulmakivi():
    return partner(
        "Asukastalo Kulmakivi", district="Koillinen", languages="ara,fin",
        email="kulmakivi@example.org",
    )  # fmt: skip


@pytest.fixture
def case(org):
    return open_case(
        org, first_name="Amina", last_name="Salaisuus", language="ara", postal_code="00700",
        street_address="Piilokatu 7", personal_identity_code="131052-308T",
        date_of_birth=dt.date(1952, 10, 13),
    )  # fmt: skip


def send(org, case, partner, **overrides):
    values = {
        "actor": org.caseworker,
        "case": case,
        "organisation": partner,
        "purpose": "Suomen kielen kerho ja vertaistuki",
        "shared_fields": ["name", "language"],
        "consent": True,
    }
    values.update(overrides)
    return referral_send(**values)


# The service ------------------------------------------------------------------------------


def test_send__referral_event_disclosure_row_and_a_mail_with_the_link_only(org, case, kulmakivi):
    referral = send(org, case, kulmakivi)
    assert referral.state == ReferralState.SENT
    assert referral.shared == ["name", "language"]
    assert Event.objects.filter(case=case, action="referral_send").count() == 1
    [row] = DisclosureLog.objects.filter(client=case.client)
    assert row.recipient == "Asukastalo Kulmakivi <kulmakivi@example.org>"
    assert row.disclosed == "name,language"
    assert row.basis == "consent" and row.purpose == "Suomen kielen kerho ja vertaistuki"
    assert row.actor == org.caseworker and row.reference == f"referral:{referral.pk}"
    # The e-mail is an outbox row written with the referral, sent by the relay, once.
    [queued] = OutboxMessage.objects.all()
    assert (queued.channel, queued.key) == ("partner_referral", f"partner_referral:{referral.pk}")
    assert queued.payload == {"referral": referral.pk}  # the link is not stored
    assert mail.outbox == []
    assert relay_pending() == 1
    assert relay_pending() == 0
    [message] = mail.outbox
    assert message.to == ["kulmakivi@example.org"]
    assert message.extra_headers["Message-ID"] == f"<partner_referral.{referral.pk}@silta>"
    [token] = re.findall(r"/referrals/([^/\s]+)/", message.body)
    assert referral_from_token(token) == referral
    assert referral_link(referral) in message.body
    client = case.client
    for secret in (
        "Amina", "Salaisuus", "Piilokatu", case.reference, "kerho", client.personal_identity_code,
    ):  # fmt: skip
        assert secret not in message.body and secret not in message.subject
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def test_send__two_referrals__one_mail_each(org, case, kulmakivi):
    first, second = send(org, case, kulmakivi), send(org, case, kulmakivi, purpose="Toinen")
    assert relay_pending() == 2
    bodies = sorted(message.body for message in mail.outbox)
    assert len(bodies) == 2
    assert bodies == sorted(render_referral_mail(r)["body"] for r in (first, second))
    assert bodies[0] != bodies[1]  # each holds its own referral's link


def test_send__rolled_back__nothing_queued_nothing_sent(org, case, kulmakivi):
    with pytest.raises(RuntimeError), transaction.atomic():
        send(org, case, kulmakivi)
        raise RuntimeError("the caller's change failed after the referral")
    assert not Referral.objects.exists() and not DisclosureLog.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert relay_pending() == 0
    assert mail.outbox == []


class FailingOnce(locmem.EmailBackend):
    """A mail server that refuses the first message (SMTP is outside Silta)."""

    failures = 0

    def send_messages(self, messages):
        if FailingOnce.failures == 0:
            FailingOnce.failures += 1
            raise smtplib.SMTPServerDisconnected("the mail server went away")
        return super().send_messages(messages)


def test_send__failed_mail_is_retried_by_the_relay_with_the_same_content(
    org, case, kulmakivi, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.FailingOnce"
    FailingOnce.failures = 0
    referral = send(org, case, kulmakivi)
    expected = render_referral_mail(referral)
    assert relay_pending() == 0
    queued = OutboxMessage.objects.get()
    assert (queued.status, queued.attempts) == (OutboxStatus.PENDING, 1)
    assert "SMTPServerDisconnected" in queued.last_error
    assert mail.outbox == []
    # The relay tries again once the backoff has passed, a day later here: the same text
    # (the link is signed at the referral's sending time, not at the retry).
    with time_machine.travel(clock.now() + dt.timedelta(days=1)):
        assert relay_pending() == 1
    [message] = mail.outbox
    assert (message.subject, message.body) == (expected["subject"], expected["body"])
    assert message.extra_headers["Message-ID"] == f"<partner_referral.{referral.pk}@silta>"
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (OutboxStatus.SENT, 2)


class AlwaysFailing(locmem.EmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"kulmakivi@example.org": (550, b"no such user")})


def test_send__mail_failed_for_good__the_sender_is_told_once_reference_and_link_only(
    org, case, kulmakivi, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.AlwaysFailing"
    referral = send(org, case, kulmakivi)
    moment = clock.now()
    for _attempt in range(MAX_ATTEMPTS + 2):
        with time_machine.travel(moment):
            relay_pending()
        moment += dt.timedelta(hours=2)
    queued = OutboxMessage.objects.get(channel="partner_referral")
    assert queued.status == OutboxStatus.FAILED
    [notice] = Notification.objects.filter(kind=NotificationKind.REFERRAL_MAIL_FAILED)
    assert (notice.recipient, notice.case_id, notice.reference) == (
        org.caseworker,
        case.pk,
        case.reference,
    )
    assert notice.link == reverse("web:case", args=[case.pk]) + "#h-referrals"
    assert referral.pk  # the referral itself stays, sent and recorded
    assert Referral.objects.get(pk=referral.pk).state == ReferralState.SENT


def test_send__without_consent_or_fields__named_errors_nothing_written(org, case, kulmakivi):
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        send(org, case, kulmakivi, consent=False, shared_fields=[], purpose=" ")
    assert set(error.value.errors) == {"consent", "shared_fields", "purpose"}
    with pytest.raises(InvalidInput) as error:
        send(org, case, kulmakivi, shared_fields=["name", "identity_code"])
    assert set(error.value.errors) == {"shared_fields"}
    assert snapshot() == before
    assert not DisclosureLog.objects.exists() and not OutboxMessage.objects.exists()


def test_send__receiving_team_and_closed_case_refused(org, case, kulmakivi):
    with pytest.raises(ActorNotAllowed):
        send(org, case, kulmakivi, actor=org.receiving_worker)
    closed = case_in_state(org, CaseState.CLOSED)
    with pytest.raises(TransitionNotAllowed):
        send(org, closed, kulmakivi)
    assert not Referral.objects.exists() and not DisclosureLog.objects.exists()


def test_answer_then_done__events_by_the_partner_and_a_second_answer_refused(org, case, kulmakivi):
    referral = send(org, case, kulmakivi)
    referral_answer(referral=referral, accept=True, note="Tervetuloa tiistaina")
    with pytest.raises(TransitionNotAllowed):
        referral_answer(referral=referral, accept=False)
    with pytest.raises(InvalidInput) as error:
        referral_done(referral=referral, outcome=" ")
    assert set(error.value.errors) == {"outcome"}
    referral_done(referral=referral, outcome="Aloitti kerhossa.")
    referral.refresh_from_db()
    assert (referral.state, referral.outcome) == (ReferralState.DONE, "Aloitti kerhossa.")
    actions = list(
        Event.objects.filter(case=case, action__startswith="referral")
        .values_list("action", "actor__username", "actor_role")
        .order_by("id")
    )
    assert actions[1:] == [
        ("referral_accept", PARTNER_LINK_USERNAME, "partner_contact"),
        ("referral_done", PARTNER_LINK_USERNAME, "partner_contact"),
    ]


def test_token__altered_or_expired_refused(org, case, kulmakivi, settings):
    referral = send(org, case, kulmakivi)
    token = referral_token(referral)
    assert referral_from_token(token) == referral
    with pytest.raises(ReferralLinkInvalid):
        referral_from_token(token[:-1] + ("A" if token[-1] != "A" else "B"))
    other = token.replace(f"{referral.pk}:", f"{referral.pk + 1}:", 1)
    with pytest.raises(ReferralLinkInvalid):
        referral_from_token(other)
    settings.SILTA_REFERRAL_LINK_DAYS = 14
    with (
        time_machine.travel(clock.now() + dt.timedelta(days=15)),
        pytest.raises(ReferralLinkExpired),
    ):
        referral_from_token(token)


# The disclosure log is append-only -------------------------------------------------------


def test_disclosure_log__app_role_cannot_change_it_owner_stopped_by_the_trigger(
    org, case, kulmakivi
):
    send(org, case, kulmakivi)
    row = DisclosureLog.objects.get()
    with pytest.raises(TypeError):
        DisclosureLog.objects.filter(pk=row.pk).update(purpose="x")
    for statement in (
        "UPDATE audit_disclosurelog SET purpose = 'x' WHERE id = %s",
        "DELETE FROM audit_disclosurelog WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="permission denied"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [row.pk])
    with (
        pytest.raises(DatabaseError, match="created_at is the database's time"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO audit_disclosurelog (actor_id, client_id, case_id, recipient, "
            "disclosed, basis, purpose, reference, request_id, created_at) "
            "VALUES (%s, %s, %s, 'x', 'name', 'consent', 'x', '', '', now() - "
            "interval '1 day')",
            [org.caseworker.pk, case.client_id, case.pk],
        )
    assert DisclosureLog.objects.get().purpose == row.purpose


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_disclosure_log__even_the_owner_is_refused_update_and_delete(org, case, kulmakivi):
    send(org, case, kulmakivi)
    with database.owner_connection() as conn:
        for statement in (
            "UPDATE audit_disclosurelog SET purpose = 'rewritten'",
            "DELETE FROM audit_disclosurelog",
        ):
            with pytest.raises(psycopg.Error, match="audit_disclosurelog is append-only"):
                conn.execute(statement)


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("fi", ["Nimi", "Kieli ja tulkin tarve", "Asiakkaan suostumus"]),
        ("sv", ["Namn", "Klientens samtycke"]),
        ("en", ["Name", "Language and interpreter need", "consent"]),
    ],
)
def test_client_report__lists_the_disclosures_with_the_fields_names_in_the_reader_language(
    org, case, kulmakivi, language, labels
):
    send(org, case, kulmakivi, purpose="Kielikerho")
    with translation.override(language):
        pdf = client_report_pdf(
            client_name="Amina Salaisuus", client_id=case.client_id, made_by="x", now=clock.now()
        )
    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    assert "kulmakivi@example.org" in text
    assert "Kielikerho" in text
    for label in labels:
        assert label in text, (language, label)
    # the codes themselves are not what the client reads
    assert "name, language" not in text and "name,language" not in text
    if language != "en":
        assert "(consent)" not in text


# The disclosure log in the admin: read-only, superusers only, each read access-logged ------


def test_disclosure_admin__list_shows_labels_and_logs_the_read(client, org, case, kulmakivi):
    send(org, case, kulmakivi)
    admin_user = get_user_model().objects.create_superuser("dl-admin", "dl@example.org", "pw")
    client.force_login(admin_user)
    client.cookies["django_language"] = "fi"

    page = client.get(reverse("admin:audit_disclosurelog_changelist"))

    text = page.content.decode()
    assert page.status_code == 200
    assert "Asukastalo Kulmakivi &lt;kulmakivi@example.org&gt;" in text
    assert "Nimi, Kieli ja tulkin tarve" in text and "Asiakkaan suostumus" in text
    assert "Suomen kielen kerho ja vertaistuki" in text
    [row] = AccessLog.objects.filter(actor=admin_user, action="admin_list")
    assert (row.client_id, row.case_id) == (case.client_id, case.pk)


def test_disclosure_admin__read_only_nothing_added_changed_or_deleted(client, org, case, kulmakivi):
    send(org, case, kulmakivi)
    entry = DisclosureLog.objects.get()
    admin_user = get_user_model().objects.create_superuser("dl-admin", "dl@example.org", "pw")
    client.force_login(admin_user)
    change = reverse("admin:audit_disclosurelog_change", args=[entry.pk])

    shown = client.get(change)
    assert shown.status_code == 200
    assert shown.context["has_change_permission"] is False
    assert 'name="_save"' not in shown.content.decode()
    assert AccessLog.objects.filter(actor=admin_user, action="admin_view", case=case).count() == 1
    assert client.get(reverse("admin:audit_disclosurelog_add")).status_code == 403
    assert client.post(change, {"purpose": "rewritten"}).status_code == 403
    delete = reverse("admin:audit_disclosurelog_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert DisclosureLog.objects.get().purpose == entry.purpose


def test_disclosure_admin__staff_without_superuser__refused(client, org, case, kulmakivi):
    send(org, case, kulmakivi)
    staff_user = org.koto_supervisor
    staff_user.is_staff = True
    staff_user.save()
    staff_user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="audit", codename__startswith="view")
    )
    client.force_login(staff_user)
    page = client.get(reverse("admin:audit_disclosurelog_changelist"))
    assert page.status_code == 403
    assert "Kulmakivi" not in page.content.decode()


# The pages ---------------------------------------------------------------------------------


def _path(referral) -> str:
    return reverse("web:partner-referral", args=[referral_token(referral)])


def test_case_page__caseworker_sends_with_consent(client, org, case, kulmakivi):
    client.force_login(org.caseworker)
    page = client.get(reverse("web:case", args=[case.pk])).content.decode()
    assert reverse("web:case-referral", args=[case.pk]) in page
    posted = client.post(
        reverse("web:case-referral", args=[case.pk]),
        {
            "referral-organisation": str(kulmakivi.pk),
            "referral-purpose": "Kielikerho",
            "referral-shared_fields": ["name", "language"],
            "referral-consent": "on",
        },
    )
    assert posted.status_code == 302
    assert Referral.objects.get().shared == ["name", "language"]


def test_case_page__without_consent__error_beside_the_field_typed_text_kept(
    client, org, case, kulmakivi
):
    client.force_login(org.caseworker)
    page = client.post(
        reverse("web:case-referral", args=[case.pk]),
        {
            "referral-organisation": str(kulmakivi.pk),
            "referral-purpose": "Kielikerho tiistaisin",
            "referral-shared_fields": ["name"],
        },
    )
    text = page.content.decode()
    assert page.status_code == 400
    assert 'id="id_referral-consent_error"' in text
    assert "Kielikerho tiistaisin" in text
    assert not Referral.objects.exists() and not DisclosureLog.objects.exists()


@pytest.mark.parametrize("who", ["receiving_worker", "front_desk", "outsider"])
def test_case_page__others_cannot_send(client, org, case, kulmakivi, who):
    client.force_login(getattr(org, who))
    page = client.post(
        reverse("web:case-referral", args=[case.pk]),
        {
            "referral-organisation": str(kulmakivi.pk),
            "referral-purpose": "x",
            "referral-shared_fields": ["name"],
            "referral-consent": "on",
        },
    )
    assert page.status_code in (403, 404)
    assert not Referral.objects.exists()


def test_partner_page__shows_only_what_the_consent_allows_and_logs_each_view(
    client, org, case, kulmakivi
):
    referral = send(org, case, kulmakivi, shared_fields=["language"])
    for _ in range(2):
        page = client.get(_path(referral))
        text = page.content.decode()
        assert page.status_code == 200
        assert "arabia" in text and "Suomen kielen kerho" in text
        for hidden in ("Amina", "Salaisuus", "Piilokatu", "00700", case.reference):
            assert hidden not in text
        assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    rows = AccessLog.objects.filter(action="partner_link_read", case=case)
    assert rows.count() == 2
    row = rows.first()
    assert (row.actor.username, row.actor_role, row.purpose) == (
        PARTNER_LINK_USERNAME, "partner_contact", "partner_referral"
    )  # fmt: skip
    assert row.actor_team == f"partner-{kulmakivi.pk}"


def test_partner_page__accept_then_done_through_the_link(client, org, case, kulmakivi):
    referral = send(org, case, kulmakivi)
    path = _path(referral)
    assert client.post(path, {"action": "accept", "answer-note": "Tervetuloa"}).status_code == 302
    referral.refresh_from_db()
    assert referral.state == ReferralState.ACCEPTED
    again = client.post(path, {"action": "decline"})
    assert again.status_code == 302
    assert Referral.objects.get().state == ReferralState.ACCEPTED  # the first answer stands
    empty = client.post(path, {"action": "done", "done-outcome": ""})
    assert empty.status_code == 400
    assert 'id="id_done-outcome_error"' in empty.content.decode()
    done = client.post(path, {"action": "done", "done-outcome": "Aloitti kerhossa."})
    assert done.status_code == 302
    assert Referral.objects.get().state == ReferralState.DONE
    assert AccessLog.objects.filter(action="partner_link_answer", case=case).count() == 2
    # the caseworker sees the outcome on the case page
    client.force_login(org.caseworker)
    assert "Aloitti kerhossa." in client.get(reverse("web:case", args=[case.pk])).content.decode()


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_partner_page__altered_or_expired_link__clear_page_nothing_shown(
    client, org, case, kulmakivi, language
):
    referral = send(org, case, kulmakivi)
    token = referral_token(referral)
    client.cookies["django_language"] = language
    altered = client.get(reverse("web:partner-referral", args=[token[:-2] + "xx"]))
    assert altered.status_code == 404
    with time_machine.travel(clock.now() + dt.timedelta(days=30)):
        expired = client.get(reverse("web:partner-referral", args=[token]))
        posted = client.post(reverse("web:partner-referral", args=[token]), {"action": "accept"})
    assert expired.status_code == 410 and posted.status_code == 410
    for page in (altered, expired, posted):
        text = page.content.decode()
        assert f'lang="{language}"' in text
        assert not re.search("Amina|Salaisuus|arabia|Arabic|kerho|Kulmakivi", text)
    assert Referral.objects.get().state == ReferralState.SENT
    assert not AccessLog.objects.filter(action__startswith="partner_link").exists()
