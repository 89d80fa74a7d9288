"""Writing notifications and outgoing messages, and relaying them after commit.

`notify` writes inbox rows and outbox rows in the caller's transaction. The relay claims
pending outbox rows with SELECT ... FOR UPDATE SKIP LOCKED, one row per transaction, so
any number of relays can run; a row is marked sent in the same transaction that claimed
it, so a crash before commit leaves it pending and it is sent again (receivers dedupe on
the idempotency key; e-mails carry it as their Message-ID).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import threading
import time
from collections.abc import Iterable
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from core import clock
from core.errors import InvalidInput

from .models import (
    Channel,
    EmailDelivery,
    Notification,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    TeamChannel,
)

logger = logging.getLogger("silta.notifications")

MAX_ATTEMPTS = 6
RELAY_BATCH = 100
# Relay tasks carry at most this many outbox ids: a fan-out of N reminders costs at most
# ceil(N / RELAY_CHUNK) broker messages.
RELAY_CHUNK = 500


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8, 16 minutes ... capped at an hour."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    subject_key: str,
    on_date: dt.date,
    reference: str = "",
    link: str,
    case_id: int | None = None,
    transfer_id: int | None = None,
    team_id: int | None = None,
    params: dict[str, Any] | None = None,
    kick: bool = True,
) -> int:
    """Inbox rows for each recipient (once per subject, kind, date and recipient) and
    outbox rows for their other channels. `reference` and `link` (a path in the web app)
    are what the notice shows; the ids are only kept for the API. Runs in the caller's
    transaction. Returns the number of new outbox rows."""
    items = [
        {
            "recipient": user,
            "kind": kind,
            "subject_key": subject_key,
            "on_date": on_date,
            "reference": reference,
            "link": link,
            "case": case_id,
            "transfer": transfer_id,
            "team": team_id,
            "params": params or {},
        }
        for user in recipients
    ]
    return notify_many(items, kick=kick)


def notify_many(items: list[dict[str, Any]], *, kick: bool = True) -> int:
    """Bulk `notify`: items have recipient (user or id), kind, subject_key, on_date, link,
    and optionally reference, case / transfer ids, team (whose Teams channel also gets one
    message per subject, kind and date) and params. Returns how many outbox rows it
    offered (duplicates of rows already queued are ignored)."""
    if not items:
        return 0
    now = clock.now()
    rows = [
        Notification(
            recipient_id=cast(int, _id(item["recipient"])),  # every item has a recipient
            kind=item["kind"],
            subject_key=item["subject_key"],
            on_date=item["on_date"],
            reference=item.get("reference", ""),
            link=item["link"],
            case_id=_id(item.get("case")),
            transfer_id=_id(item.get("transfer")),
            params=item.get("params") or {},
            created_at=now,
        )
        for item in items
    ]
    Notification.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    preferences = {
        p.user_id: p
        for p in NotificationPreference.objects.filter(
            user_id__in={row.recipient_id for row in rows}
        )
    }
    outbox = []
    for row in rows:
        preference = preferences.get(row.recipient_id)
        if preference is None or not preference.email or preference.email_digest:
            continue  # inbox only, or the day's digest (digest_enqueue) carries it
        outbox.append(
            OutboxMessage(
                channel=Channel.EMAIL,
                key=f"email:{row.kind}:{row.subject_key}:{row.on_date}:{row.recipient_id}",
                payload={
                    "recipient": row.recipient_id,
                    "kind": row.kind,
                    "reference": row.reference,
                    "link": row.link,
                    "params": row.params,
                },
                available_at=now,
                created_at=now,
            )
        )
    return enqueue(outbox + _teams_messages(items, rows, now), kick=kick)


def _teams_messages(
    items: list[dict[str, Any]], rows: list[Notification], now: dt.datetime
) -> list[OutboxMessage]:
    """One Teams message per subject, kind and date for each item's team with a channel."""
    teams: dict[str, OutboxMessage] = {}
    channels = set(
        TeamChannel.objects.filter(
            enabled=True, team_id__in={_id(i.get("team")) for i in items if i.get("team")}
        ).values_list("team_id", flat=True)
    )
    for item, row in zip(items, rows, strict=True):
        team_id = _id(item.get("team"))
        if team_id in channels:
            key = f"teams:{row.kind}:{row.subject_key}:{row.on_date}:{team_id}"
            teams[key] = OutboxMessage(
                channel=Channel.TEAMS,
                key=key,
                available_at=now,
                created_at=now,
                payload={
                    "team": team_id,
                    "kind": row.kind,
                    "reference": row.reference,
                    "link": row.link,
                    "params": row.params,
                },
            )
    return list(teams.values())


def enqueue(messages: list[OutboxMessage], *, kick: bool = True) -> int:
    """Write outbox rows (a key already queued is ignored) and, unless the caller
    dispatches them itself, kick the relay after commit. Returns how many were offered."""
    if not messages:
        return 0
    OutboxMessage.objects.bulk_create(messages, batch_size=2000, ignore_conflicts=True)
    if kick and not _relaying.active:
        transaction.on_commit(kick_relay)
    return len(messages)


class _Publisher:
    """Sends the relay's nudges to the broker without ever holding up the caller.

    The rows are committed before anything is published, so a message to the broker is
    only a nudge: if it cannot be sent at once, the beat's relay (every minute) sends the
    rows. So publishing uses connections of its own (a small pool per process) with a
    short connect and socket timeout (SILTA_BROKER_PUBLISH_TIMEOUT) and no connection
    retries, and after a failure this process does not try again for
    SILTA_BROKER_PUBLISH_PAUSE seconds. With the broker down an answer waits at most one
    timeout, and only the first in each pause. The worker's and the beat's own connections
    keep Celery's settings (they retry until the broker is back)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: Any = None
        self._key: tuple[int, str] | None = None
        self.paused_until = 0.0

    def _pool_for(self, app: Any) -> Any:
        key = (os.getpid(), str(app.conf.broker_write_url or app.conf.broker_url))
        with self._lock:
            if self._key != key:  # a new process (a forked server worker) or broker
                timeout = settings.SILTA_BROKER_PUBLISH_TIMEOUT
                connection = app.connection_for_write(
                    connect_timeout=timeout,
                    transport_options={
                        "max_retries": 0,  # one connection attempt, then give up
                        "socket_connect_timeout": timeout,
                        "socket_timeout": timeout,
                    },
                )
                self._pool = connection.Pool(limit=app.conf.broker_pool_limit or 10)
                self._key = key
            return self._pool

    def send(self, task: Any, **options: Any) -> bool:
        """Publish one task message now, or give up at once. Returns whether it was sent."""
        if time.monotonic() < self.paused_until:
            return False
        try:
            pool = self._pool_for(task.app)
            with pool.acquire(block=True, timeout=settings.SILTA_BROKER_PUBLISH_TIMEOUT) as conn:
                try:
                    task.apply_async(connection=conn, retry=False, **options)
                except Exception:
                    conn.collect()  # a broken connection is made anew on its next use
                    raise
        except Exception as exc:  # broker unreachable: nothing is lost, the rows are stored
            self.paused_until = time.monotonic() + settings.SILTA_BROKER_PUBLISH_PAUSE
            logger.warning(
                "broker unreachable (%s: %s); outbox rows wait for the relay, no publishing "
                "for %s s",
                type(exc).__name__,
                exc,
                settings.SILTA_BROKER_PUBLISH_PAUSE,
            )
            return False
        return True


_publisher = _Publisher()


def dispatch(count: int) -> int:
    """Ask the workers to relay `count` new rows: one task per RELAY_CHUNK rows, so a
    fan-out of N costs ceil(N / RELAY_CHUNK) broker messages. Returns messages sent."""
    from .tasks import relay_outbox

    sent = 0
    for _ in range(math.ceil(count / RELAY_CHUNK)):
        if not _publisher.send(relay_outbox, kwargs={"limit": RELAY_CHUNK}):
            break  # broker down: the beat safety net relays them later
        sent += 1
    return sent


def kick_relay() -> None:
    """Ask a worker to relay now (after the commit that queued rows). If the broker is
    down the answer is not held up: the rows wait for the next kick or the beat's relay."""
    from .tasks import relay_outbox

    _publisher.send(relay_outbox)


class _Relaying(threading.local):
    """Set while this thread relays: rows that delivering creates (a booking request that
    an acceptance opened, a notice that a booking answer caused) are picked up by the same
    relay loop, so they need no kick of their own."""

    active = False


_relaying = _Relaying()


def relay_pending(*, limit: int = 10_000) -> int:
    """Send due pending rows, up to `limit`; return how many were sent. Several relays at
    once share the work: each skips the rows another holds and moves on."""
    previous, _relaying.active = _relaying.active, True
    try:
        sent, after = 0, 0
        while sent < limit:
            ids = list(
                OutboxMessage.objects.filter(
                    status=OutboxStatus.PENDING, available_at__lte=clock.now(), id__gt=after
                )
                .order_by("id")
                .values_list("id", flat=True)[:RELAY_BATCH]
            )
            if not ids:
                break
            for message_id in ids:
                if relay_one(message_id) == "sent":
                    sent += 1
            after = ids[-1]
        return sent
    finally:
        _relaying.active = previous


class DeliveryError(Exception):
    """A channel could not deliver; the relay retries with backoff."""


def relay_one(message_id: int) -> str:
    """Claim one row and deliver it. Returns sent, retry, failed or skipped."""
    from .channels import deliver

    try:
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=message_id, status=OutboxStatus.PENDING, available_at__lte=clock.now())
                .first()
            )
            if message is None:
                return "skipped"  # another relay has it, or it is done
            deliver(message)
            message.status = OutboxStatus.SENT
            message.attempts += 1
            message.sent_at = clock.now()
            message.last_error = ""
            message.save(update_fields=["status", "attempts", "sent_at", "last_error"])
            return "sent"
    except Exception as exc:  # any failure is recorded on the row, never dropped
        return _record_failure(message_id, exc)


def _record_failure(message_id: int, exc: Exception) -> str:
    from .channels import on_final_failure

    error = f"{type(exc).__name__}: {exc}"[:2000]
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message_id)
        if message.status != OutboxStatus.PENDING:
            return "skipped"
        message.attempts += 1
        message.last_error = error
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxStatus.FAILED
            message.save(update_fields=["attempts", "last_error", "status"])
            logger.error("outbox %s failed for good: %s", message.key, error)
            on_final_failure(message)
            return "failed"
        message.available_at = clock.now() + backoff(message.attempts)
        message.save(update_fields=["attempts", "last_error", "available_at"])
        logger.warning("outbox %s attempt %d failed: %s", message.key, message.attempts, error)
        return "retry"


@transaction.atomic
def outbox_retry(*, message: OutboxMessage) -> OutboxMessage:
    """The retry action for a failed row: send again now, from a fresh count."""
    from .channels import on_retry

    message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.available_at = clock.now()
    message.save(update_fields=["status", "attempts", "available_at"])
    on_retry(message)
    transaction.on_commit(kick_relay)
    return message


def digest_enqueue(*, on_date: dt.date, kick: bool = True) -> int:
    """One digest e-mail per user who chose the daily digest and has notices created on
    `on_date` (Helsinki): an outbox row keyed by user and date, so running this again for
    the same day queues nothing new. Returns how many rows it offered."""
    start = dt.datetime.combine(on_date, dt.time(), tzinfo=clock.tz())
    end = start + dt.timedelta(days=1)  # zoneinfo arithmetic: wall time, so DST is right
    users = NotificationPreference.objects.filter(email=True, email_digest=True).values_list(
        "user_id", flat=True
    )
    by_user: dict[int, list[int]] = {}
    for user_id, notice_id in (
        Notification.objects.filter(
            recipient_id__in=users, created_at__gte=start, created_at__lt=end
        )
        .order_by("recipient_id", "created_at", "id")
        .values_list("recipient_id", "id")
    ):
        by_user.setdefault(user_id, []).append(notice_id)
    now = clock.now()
    return enqueue(
        [
            OutboxMessage(
                channel=Channel.EMAIL_DIGEST,
                key=f"email_digest:{on_date}:{user_id}",
                payload={
                    "recipient": user_id,
                    "on_date": on_date.isoformat(),
                    "notifications": ids,
                },
                available_at=now,
                created_at=now,
            )
            for user_id, ids in by_user.items()
        ],
        kick=kick,
    )


@transaction.atomic
def notification_preference_set(
    *, user: Any, language: str, email_choice: str
) -> NotificationPreference:
    """A user's own choice: the language of their notices and how e-mail reaches them (at
    once, in a daily digest, or not at all: the inbox only)."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput({"language": gettext("Choose Finnish, Swedish or English.")})
    if email_choice not in EmailDelivery.values:
        raise InvalidInput({"email_choice": gettext("Choose how e-mail reaches you.")})
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(
        user=user
    )
    preference.language = language
    preference.email_choice = email_choice
    preference.save(update_fields=["language", "email", "email_digest"])
    return preference


@transaction.atomic
def notification_mark_read(*, user: Any, notification: Notification) -> Notification:
    notification = Notification.objects.select_for_update().get(pk=notification.pk, recipient=user)
    if notification.read_at is None:
        notification.read_at = clock.now()
        notification.save(update_fields=["read_at"])
    return notification


def recipient_language(user: Any) -> str:
    preference = getattr(user, "notification_preference", None)
    return preference.language if preference else settings.LANGUAGE_CODE


def _id(value: Any) -> int | None:
    if value is None or isinstance(value, int):
        return value
    pk: int = value.pk
    return pk
