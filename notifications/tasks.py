"""Relay tasks: thin, idempotent, safe to run twice (rows are claimed with SKIP LOCKED and
marked sent in the claiming transaction)."""

from celery import shared_task

from . import services


@shared_task(name="silta.relay_outbox", acks_late=True)
def relay_outbox(limit: int = 10_000) -> int:
    """Send due pending rows: after a commit that queued some, every minute from beat as
    the safety net, and RELAY_CHUNK at a time for a sweep's fan-out."""
    return services.relay_pending(limit=limit)


@shared_task(name="silta.email_digest", acks_late=True)
def email_digest() -> int:
    """Each morning: yesterday's daily digest, one e-mail per user who chose it (keyed by
    user and date, so a second run the same day queues nothing)."""
    import datetime as dt

    from core import clock

    return services.digest_enqueue(on_date=clock.today() - dt.timedelta(days=1))
