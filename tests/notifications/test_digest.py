"""A user's choice per channel: e-mail at once, in a daily digest (one e-mail per user per
day), or the inbox only."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from cases.models import Client
from core import clock
from notifications.models import (
    Channel,
    EmailDelivery,
    Notification,
    NotificationKind,
    NotificationPreference,
    OutboxMessage,
)
from notifications.services import (
    digest_enqueue,
    notification_preference_set,
    notify,
    relay_pending,
)
from notifications.tasks import email_digest
from tests.factories import open_case
from transfers.reminders import due_sweep

pytestmark = pytest.mark.django_db

HELSINKI = ZoneInfo("Europe/Helsinki")
TUESDAY = dt.datetime(2026, 11, 24, 10, 0, tzinfo=HELSINKI)


@pytest.fixture(autouse=True)
def _tuesday():
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller


def _prefer(user, choice, language="fi"):
    user.email = f"{user.username}@example.invalid"
    user.save(update_fields=["email"])
    return notification_preference_set(user=user, language=language, email_choice=choice)


def _tell(user, key, *, reference="SILTA-000042"):
    notify(
        recipients=[user],
        kind=NotificationKind.TRANSFER_ACCEPTED,
        subject_key=key,
        on_date=clock.today(),
        reference=reference,
        link="/transfers/1/",
    )


def test_preference__three_choices_stored_as_chosen(org):
    for choice in EmailDelivery.values:
        _prefer(org.caseworker, choice)
        assert NotificationPreference.objects.get(user=org.caseworker).email_choice == choice


def test_preference__unknown_choice_or_language_refused_and_nothing_written(org):
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        notification_preference_set(user=org.caseworker, language="fi", email_choice="hourly")
    assert "email_choice" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        notification_preference_set(user=org.caseworker, language="de", email_choice="digest")
    assert "language" in refused.value.errors
    assert not NotificationPreference.objects.filter(user=org.caseworker).exists()


@pytest.mark.parametrize(
    ("choice", "emails_at_once"),
    [(EmailDelivery.IMMEDIATE, 1), (EmailDelivery.DIGEST, 0), (EmailDelivery.INBOX, 0)],
)
def test_choice__decides_the_email_at_once_and_the_inbox_always_has_it(org, choice, emails_at_once):
    _prefer(org.caseworker, choice)
    _tell(org.caseworker, "transfer:1:accepted")
    assert Notification.objects.filter(recipient=org.caseworker).count() == 1
    assert OutboxMessage.objects.filter(channel=Channel.EMAIL).count() == emails_at_once


def test_digest__one_email_per_user_per_day_with_the_days_notices(org):
    _prefer(org.caseworker, EmailDelivery.DIGEST, language="sv")
    _prefer(org.koto_supervisor, EmailDelivery.IMMEDIATE)
    _prefer(org.receiving_worker, EmailDelivery.INBOX)
    for n, user in enumerate([org.caseworker, org.koto_supervisor, org.receiving_worker]):
        _tell(user, f"transfer:{n}:accepted", reference=f"SILTA-00000{n}")
    _tell(org.caseworker, "transfer:9:accepted", reference="SILTA-000009")
    relay_pending()
    assert [m.to for m in mail.outbox] == [[org.koto_supervisor.email]]
    mail.outbox.clear()

    # The next morning the beat's task queues yesterday's digest; a second run adds nothing.
    with time_machine.travel(TUESDAY + dt.timedelta(hours=20, minutes=30), tick=False):
        assert email_digest() == 1
        assert email_digest() == 1  # offered again, ignored by its once-only key
        assert OutboxMessage.objects.filter(channel=Channel.EMAIL_DIGEST).count() == 1
        relay_pending()
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert digest.to == [org.caseworker.email]
    assert "2 aviseringar" in digest.subject  # Swedish, as chosen
    assert "SILTA-000000" in digest.body and "SILTA-000009" in digest.body
    assert digest.body.count("/transfers/1/") == 2
    assert "Överföringen är godkänd" in digest.body


def test_digest__a_day_without_notices_sends_nothing(org):
    _prefer(org.caseworker, EmailDelivery.DIGEST)
    assert digest_enqueue(on_date=clock.today()) == 0


def test_digest__the_day_is_helsinki_local_not_utc(org):
    _prefer(org.caseworker, EmailDelivery.DIGEST)
    # 00.30 in Helsinki on Wednesday is still Tuesday in UTC: it belongs to Wednesday.
    with time_machine.travel(dt.datetime(2026, 11, 25, 0, 30, tzinfo=HELSINKI), tick=False):
        _tell(org.caseworker, "transfer:1:accepted")
    assert digest_enqueue(on_date=dt.date(2026, 11, 24)) == 0
    assert digest_enqueue(on_date=dt.date(2026, 11, 25)) == 1


def test_digest__no_client_detail_in_the_email(org):
    _prefer(org.caseworker, EmailDelivery.DIGEST, language="en")
    case = open_case(org, started_months_ago=25)
    Client.objects.filter(pk=case.client_id).update(first_name="CANARY", last_name="CANARY")
    due_sweep()  # the sweep's own e-mails follow the choice too: none at once
    assert not OutboxMessage.objects.filter(channel=Channel.EMAIL).exists()
    digest_enqueue(on_date=clock.today())
    relay_pending()
    body = mail.outbox[0].subject + mail.outbox[0].body
    assert case.reference in body
    assert "CANARY" not in body
