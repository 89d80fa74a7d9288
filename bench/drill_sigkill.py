"""Drill: a worker process is killed with SIGKILL in the middle of a task (while the
external booking system is still answering). The task runs again, and the recipient still
sees one booking. Exits non-zero on any loss or duplication.
Usage: make drills (or: scripts/with-postgres.sh .venv/bin/python bench/drill_sigkill.py)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from drills import (
    APP_ROLE,
    Redis,
    children_of,
    database_role,
    finish,
    free_port,
    start_worker,
    stop_worker,
    wait_for,
)


class BookingSystem:
    """Books once per idempotency key, as a well-behaved receiver does. The first request
    is slow, so the drill can kill the worker while it waits."""

    def __init__(self):
        self.requests: list[str] = []
        self.bookings: dict[str, str] = {}
        self.first_arrived = threading.Event()
        system = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                system.requests.append(key)
                if len(system.requests) == 1:
                    system.first_arrived.set()
                    threading.Event().wait(5)  # the worker is killed meanwhile
                system.bookings.setdefault(key, f"EXT-{len(system.bookings) + 1}")
                starts = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
                answer = json.dumps(
                    {
                        "reference": system.bookings[key],
                        "starts_at": starts,
                        "place": "Malmi",
                        "interpreter": "TIMMI 1",
                        "booking_id": body["booking_id"],
                    }
                ).encode()
                try:
                    self.send_response(201)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker that asked was killed: the answer has no reader

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bookings"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main() -> int:
    redis = Redis(free_port())
    redis.start()
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis.port}/0"
    os.environ["SILTA_BOOKING_WEBHOOK_SECRET"] = "drill-secret"
    from common import report, setup_django

    setup_django("silta_drill_sigkill", app_role=APP_ROLE)
    from cases.models import Event
    from config.celery import app
    from tests.factories import make_org, transfer_in_state
    from transfers import services
    from transfers.enums import TransferState
    from transfers.models import HandoverBooking, Transfer

    system = BookingSystem()
    org = make_org()
    org.adult.booking_webhook_url = system.url
    org.adult.save()
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    app.control.purge()
    services.transfer_accept(
        actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
    )

    failures = []
    work = Path(tempfile.mkdtemp(prefix="silta-drill-sigkill-"))
    log = work / "worker.log"
    worker = start_worker({}, concurrency=1, log=log)
    try:
        app.send_task("silta.relay_outbox")
        if not system.first_arrived.wait(60):
            failures.append("the booking request never arrived")
        else:
            victims = children_of(worker.pid)
            print(f"SIGKILL to the pool process {victims} while the request is in flight")
            for pid in victims:
                os.kill(pid, signal.SIGKILL)
            try:
                wait_for(
                    lambda: Transfer.objects.get(pk=transfer.pk).state == TransferState.BOOKED,
                    timeout=120,
                    what="the task to run again",
                )
            except TimeoutError as exc:
                failures.append(str(exc))
    finally:
        stop_worker(worker)
        redis.cleanup()

    confirms = Event.objects.filter(transfer=transfer, action="confirm_booking").count()
    bookings = HandoverBooking.objects.filter(transfer=transfer).count()
    lines = [
        database_role(),
        "a pool process killed with SIGKILL while the external booking system answers",
        f"requests received {len(system.requests)} (keys {sorted(set(system.requests))}); "
        f"external bookings {len(system.bookings)}; confirm events {confirms}; "
        f"bookings in Silta {bookings}",
        f"items 1, kills 1, lost {int(bookings == 0)}, "
        f"duplicated {max(len(system.bookings) - 1, 0) + max(bookings - 1, 0)}",
    ]
    if "WorkerLostError" not in log.read_text() and "SIGKILL" not in log.read_text():
        failures.append("the worker log shows no lost worker: the kill did not hit a task")
    if len(system.bookings) != 1:
        failures.append(f"the booking system booked {len(system.bookings)} times")
    if confirms != 1 or bookings != 1:
        failures.append(f"{confirms} confirmations and {bookings} bookings in Silta")
    lines.append("FAIL: " + "; ".join(failures) if failures else "OK: ran again, seen once")
    report("drill_sigkill", lines)
    return finish(work, failures)


if __name__ == "__main__":
    sys.exit(main())
