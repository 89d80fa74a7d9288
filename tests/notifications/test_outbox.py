"""The transactional outbox: nothing leaves before commit, nothing is lost or sent twice."""

import threading

import pytest
from django.core import mail
from django.db import connection, transaction

from notifications.models import (
    Notification,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
)
from notifications.services import relay_one, relay_pending
from tests.factories import make_org, open_case
from transfers.reminders import due_sweep

pytestmark = pytest.mark.django_db


def test_outbox__rolled_back_transaction_sends_nothing(org):
    NotificationPreference.objects.create(user=org.caseworker, email=True)
    open_case(org, started_months_ago=25)
    with pytest.raises(RuntimeError), transaction.atomic():
        due_sweep()
        raise RuntimeError("the change failed after the sweep wrote its rows")
    assert not OutboxMessage.objects.exists()
    assert not Notification.objects.exists()
    assert relay_pending() == 0
    assert mail.outbox == []


def test_outbox__committed_rows_wait_then_are_sent_once(org):
    """A crash between commit and send loses nothing: the rows are in the database and
    the next relay (the beat's minutely safety net) sends them, once."""
    NotificationPreference.objects.create(user=org.caseworker, email=True)
    org.caseworker.email = "caseworker@example.invalid"
    org.caseworker.save()
    case = open_case(org, started_months_ago=25)
    due_sweep()
    assert OutboxMessage.objects.get().status == OutboxStatus.PENDING

    assert relay_pending() == 1
    assert relay_pending() == 0
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["caseworker@example.invalid"]
    assert case.reference in sent.body
    assert sent.extra_headers["Message-ID"].startswith("<email.review_due.")
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def test_outbox__email_in_recipients_language(org):
    NotificationPreference.objects.create(user=org.caseworker, email=True, language="sv")
    org.caseworker.email = "sv@example.invalid"
    org.caseworker.save()
    open_case(org, started_months_ago=25)
    due_sweep()
    relay_pending()
    assert "bedömning" in mail.outbox[0].subject


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_outbox__two_relays_at_once_send_each_row_once():
    org = make_org()
    NotificationPreference.objects.create(user=org.caseworker, email=True)
    org.caseworker.email = "cw@example.invalid"
    org.caseworker.save()
    for _ in range(30):
        open_case(org, started_months_ago=25)
    due_sweep()
    ids = list(OutboxMessage.objects.values_list("id", flat=True))
    assert len(ids) == 30
    barrier = threading.Barrier(4)

    def relay():
        try:
            barrier.wait(timeout=10)
            for message_id in ids:
                relay_one(message_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=relay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(mail.outbox) == 30
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 30
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
