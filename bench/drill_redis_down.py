"""Drill: Redis goes down. Transitions still commit and the app keeps answering; when Redis
is back, everything pending is delivered exactly once as the recipient sees it.
Exits non-zero on any loss or duplication.
Usage: make drills (or: scripts/with-postgres.sh .venv/bin/python bench/drill_redis_down.py)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from drills import Redis, free_port, message_ids, start_worker, stop_worker, wait_for

TRANSFERS = 20


def main() -> int:
    redis = Redis(free_port())
    redis.start()
    mail_dir = Path(tempfile.mkdtemp(prefix="silta-drill-mail-"))
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis.port}/0"
    os.environ["EMAIL_URL"] = f"filemail:///{mail_dir}"  # environ drops one slash
    from common import setup_django

    setup_django("silta_drill_redis")
    from django.test import Client as HttpClient

    from notifications.models import Notification, NotificationPreference, OutboxMessage
    from tests.factories import make_org, transfer_in_state
    from transfers import services
    from transfers.enums import TransferState
    from transfers.models import HandoverBooking, Transfer

    org = make_org()
    org.front_desk.email = "frontdesk@example.invalid"
    org.front_desk.save()
    NotificationPreference.objects.create(user=org.front_desk, email=True)
    transfers = [
        transfer_in_state(org, TransferState.PROPOSED, first_name=f"C{i}") for i in range(TRANSFERS)
    ]

    failures = []
    print("redis down")
    redis.stop()
    for transfer in transfers:
        services.transfer_accept(
            actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
        )
    accepted = Transfer.objects.filter(state=TransferState.ACCEPTED).count()
    health = HttpClient().get("/healthz", HTTP_HOST="localhost")
    print(
        f"  {accepted}/{TRANSFERS} accepted while down; health {health.status_code} {health.json()}"
    )
    if accepted != TRANSFERS:
        failures.append("transitions did not commit while Redis was down")
    if health.status_code != 200:
        failures.append("the app stopped answering")
    pending = OutboxMessage.objects.filter(status="pending").count()
    print(f"  {pending} outbox rows waiting")

    print("redis back; worker started; beat's safety net sends the relay")
    redis.start()
    worker = start_worker({}, log=Path(tempfile.mkstemp(suffix=".log")[1]))
    try:
        from config.celery import app

        app.send_task("silta.relay_outbox")

        def delivered():
            return (
                Transfer.objects.filter(state=TransferState.BOOKING_REQUESTED).count() == TRANSFERS
                and not OutboxMessage.objects.filter(status="pending").exists()
                and len(message_ids(mail_dir)) >= TRANSFERS
            )

        try:
            wait_for(delivered, timeout=120, what="delivery after Redis came back")
        except TimeoutError as exc:
            failures.append(str(exc))
    finally:
        stop_worker(worker)
        redis.cleanup()

    bookings = HandoverBooking.objects.count()
    notices = Notification.objects.filter(kind="booking_requested").count()
    ids = message_ids(mail_dir)
    print(
        f"  bookings {bookings}, front-desk notices {notices}, e-mails {len(ids)} "
        f"({len(set(ids))} distinct)"
    )
    if bookings != TRANSFERS:
        failures.append(f"{bookings} bookings for {TRANSFERS} transfers")
    if notices != TRANSFERS:
        failures.append(f"{notices} front-desk notices for {TRANSFERS} bookings")
    if len(ids) != TRANSFERS or len(set(ids)) != TRANSFERS:
        failures.append(f"{len(ids)} e-mails ({len(set(ids))} distinct), expected {TRANSFERS}")
    print("FAIL: " + "; ".join(failures) if failures else "OK: nothing lost, nothing twice")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
