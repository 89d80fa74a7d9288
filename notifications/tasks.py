"""Relay tasks: thin, idempotent, safe to run twice (rows are claimed with SKIP LOCKED and
marked sent in the claiming transaction)."""

from celery import shared_task

from . import services


@shared_task(name="silta.relay_outbox", acks_late=True)
def relay_outbox() -> int:
    """Send every due pending row: the after-commit kick and the minutely safety net."""
    return services.relay_pending()


@shared_task(name="silta.relay_outbox_ids", acks_late=True)
def relay_outbox_ids(ids: list[int]) -> int:
    """Send the given rows (a sweep's fan-out, at most RELAY_CHUNK ids a message)."""
    return sum(services.relay_one(message_id) == "sent" for message_id in ids)
