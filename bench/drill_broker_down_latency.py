"""Drill: with the broker down, an acceptance still answers at once.

Accepting a transfer commits the acceptance and its outbox row, then (after the commit)
nudges the relay through the broker. With Redis down that nudge must not hold the answer
up (it took 6.6 s before publishing had a timeout of its own): the row waits in the
outbox and the beat's relay sends it once Redis is back.

Silta runs as in production: gunicorn (one sync worker per server) on PostgreSQL, with
API tokens. DRILL_BROKER_ACCEPTS (20) acceptances are answered in each phase:
- Redis up (the baseline),
- REDIS_URL at a closed port (nothing ever listened there),
- the real Redis stopped (the baseline's server had published through it: its pooled
  connection is broken, as after a crash),
each of the last two with the default SILTA_BROKER_PUBLISH_PAUSE and with 0 (every
acceptance then tries the broker: the cost of one refused connection).
In every phase with Redis down the median answer must be at most DRILL_BROKER_MEDIAN_MS
(300) ms, every acceptance committed and its outbox row pending. Then Redis starts again
(also on the closed port), a Celery worker and beat start, and the relay must deliver
each row exactly once: every acceptance's request opened once, one booking, one front
desk notice, every row sent at its first attempt. Exits non-zero otherwise.

Usage: make drills (or: scripts/with-postgres.sh .venv/bin/python
       bench/drill_broker_down_latency.py)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from drills import (
    Redis,
    clone_ready_reviews,
    drill_people,
    env_float,
    env_int,
    free_port,
    machine_load,
    ms,
    start_beat,
    start_server,
    start_worker,
    stop_process,
    wait_for,
)

ACCEPTS = env_int("DRILL_BROKER_ACCEPTS", 20)
LIMIT_MS = env_float("DRILL_BROKER_MEDIAN_MS", 300)
CATCH_UP = env_float("DRILL_BROKER_CATCH_UP_SECONDS", 240)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="silta-drill-broker-latency-"))
    redis = Redis(free_port())  # the real broker, stopped in the middle
    closed = Redis(free_port())  # nothing listens here until the very end
    redis.start()
    os.environ["REDIS_URL"] = redis.url
    from common import report, setup_django

    setup_django("silta_drill_broker_latency")
    import httpx

    from criteria.models import Review
    from notifications.models import OutboxMessage, OutboxStatus
    from transfers import services

    people = drill_people(1)
    org = people.org
    _sender, _sender_token, receiver, token = people.pairs[0]
    phases = [  # (name, broker, pause, Redis down while measured)
        ("Redis up", "real", None, False),
        ("closed port", "closed", None, True),
        ("closed port, no pause", "closed", "0", True),
        ("Redis stopped", "real", None, True),
        ("Redis stopped, no pause", "real", "0", True),
    ]
    reviews = clone_ready_reviews(org, ACCEPTS * len(phases))
    transfers = [
        services.transfer_propose(consent_basis="consent", actor=org.caseworker, review=review).pk
        for review in Review.objects.filter(pk__in=reviews).order_by("pk")
    ]
    batches = {
        name: transfers[i * ACCEPTS : (i + 1) * ACCEPTS] for i, (name, *_) in enumerate(phases)
    }

    servers = {}
    failures: list[str] = []
    lines = [
        f"{ACCEPTS} acceptances per phase over HTTP (httpx) against gunicorn (1 sync worker "
        f"each); limit: median {LIMIT_MS:.0f} ms with Redis down",
    ]
    timings: dict[str, list[float]] = {}
    statuses: dict[str, list[int]] = {}

    def server_for(broker: str, pause: str | None) -> str:
        key = (broker, pause)
        if key not in servers:
            port = free_port()
            env = {"REDIS_URL": redis.url if broker == "real" else closed.url}
            if pause is not None:
                env["SILTA_BROKER_PUBLISH_PAUSE"] = pause
            servers[key] = (
                start_server(env, port=port, log=work / f"gunicorn-{port}.log", workers=1),
                f"http://127.0.0.1:{port}",
            )
            # Load Silta in the server before the clock runs (a read, no publishing).
            httpx.get(
                f"{servers[key][1]}/api/v1/transfers/",
                headers={"Authorization": f"Token {token}"},
                timeout=120,
            )
        return servers[key][1]

    procs = []
    t_up = None
    try:
        # Every server is started (and has published through the real Redis where it
        # will) before anything goes down, as a running deployment would have.
        for _name, broker, pause, _down in phases:
            server_for(broker, pause)
        for name, broker, pause, down in phases:
            if down and broker == "real" and redis.proc is not None:
                redis.stop()
                print("redis stopped")
            base_url = server_for(broker, pause)
            timings[name], statuses[name] = [], []
            with httpx.Client(base_url=base_url, timeout=60) as http:
                for transfer in batches[name]:
                    started = time.perf_counter()
                    response = http.post(
                        f"/api/v1/transfers/{transfer}/accept/",
                        json={"receiving_worker": receiver},
                        headers={
                            "Authorization": f"Token {token}",
                            "Idempotency-Key": f"accept-{transfer}",
                        },
                    )
                    timings[name].append(time.perf_counter() - started)
                    statuses[name].append(response.status_code)
            print(f"{name}: {ms(timings[name])}")

        # What each acceptance left while Redis was down: committed, its row pending.
        for name, _broker, _pause, down in phases:
            accepted = set(
                OutboxMessage.objects.filter(
                    key__in=[f"booking:open:{t}" for t in batches[name]],
                    status=OutboxStatus.PENDING,
                    attempts=0,
                ).values_list("key", flat=True)
            )
            committed = _accepted(batches[name])
            bad_answers = [s for s in statuses[name] if s != 200]
            median = statistics.median(timings[name]) * 1000
            first = timings[name][0] * 1000
            lines.append(
                f"{name}: {ms(timings[name])}; first {first:.0f} ms; "
                f"answers {len(statuses[name]) - len(bad_answers)} x 200"
                + (f", others {bad_answers}" if bad_answers else "")
                + f"; committed {committed}; rows pending {len(accepted)}"
            )
            if bad_answers:
                failures.append(f"{name}: answers {bad_answers}")
            if committed != ACCEPTS:
                failures.append(f"{name}: {committed} of {ACCEPTS} acceptances committed")
            if down and len(accepted) != ACCEPTS:
                failures.append(f"{name}: {len(accepted)} of {ACCEPTS} outbox rows pending")
            if down and median > LIMIT_MS:
                failures.append(f"{name}: median {median:.0f} ms > {LIMIT_MS:.0f} ms")

        # Redis comes back (and starts where the closed port was); the relay catches up.
        redis.start()
        closed.start()
        t_up = time.monotonic()
        print("redis back; worker and beat start")
        procs.append(start_worker({}, log=work / "worker.log"))
        procs.append(start_beat({}, log=work / "beat.log", schedule=work / "beat-schedule"))
        wait_for(
            lambda: _all_delivered(transfers),
            timeout=CATCH_UP,
            what="the relay to deliver every row",
            interval=1.0,
        )
        lines.append(f"everything delivered {time.monotonic() - t_up:.0f} s after Redis came back")
    except (TimeoutError, RuntimeError) as exc:
        failures.append(str(exc))
    finally:
        for proc in procs:
            stop_process(proc)
        for proc, _url in servers.values():
            stop_process(proc)
        redis.cleanup()
        closed.cleanup()

    delivered = _delivery(transfers)
    lines.append(
        "after: "
        + ", ".join(f"{key} {value}" for key, value in delivered.items())
        + f" (of {len(transfers)} acceptances)"
    )
    for key, value in delivered.items():
        if value != len(transfers):
            failures.append(f"{key}: {value}, not {len(transfers)}")
    lines.append(machine_load())
    lines.append(
        "FAIL: " + "; ".join(failures)
        if failures
        else "OK: no answer held up, nothing lost, nothing twice"
    )
    report("drill_broker_down_latency", lines)
    print(f"(logs in {work})")
    return 1 if failures else 0


def _accepted(transfers: list[int]) -> int:
    from transfers.models import Transfer

    return Transfer.objects.filter(pk__in=transfers, accepted_at__isnull=False).count()


def _delivery(transfers: list[int]) -> dict[str, int]:
    """Per acceptance, each counted only when it happened exactly once."""
    from django.db.models import Count, Q

    from cases.models import Event
    from notifications.models import Notification, OutboxMessage, OutboxStatus
    from transfers.models import HandoverBooking

    def once(pairs) -> int:
        return sum(1 for _key, n in pairs if n == 1)

    bookings = dict(
        HandoverBooking.objects.filter(transfer_id__in=transfers)
        .values_list("transfer_id")
        .annotate(n=Count("id"))
    )
    booking_ids = list(
        HandoverBooking.objects.filter(transfer_id__in=transfers).values_list("pk", flat=True)
    )
    opened = OutboxMessage.objects.filter(key__in=[f"booking:open:{t}" for t in transfers])
    sent = OutboxMessage.objects.filter(key__in=[f"booking:send:{b}" for b in booking_ids])
    first_attempt = Q(status=OutboxStatus.SENT, attempts=1)
    notices = (
        Notification.objects.filter(kind="booking_requested", transfer_id__in=transfers)
        .values_list("transfer_id")
        .annotate(n=Count("id"))
    )
    events = (
        Event.objects.filter(transfer_id__in=transfers, action="request_booking")
        .values_list("transfer_id")
        .annotate(n=Count("id"))
    )
    return {
        "opened at the first attempt": opened.filter(first_attempt).count(),
        "one booking": once(bookings.items()),
        "one request_booking event": once(events),
        "request sent at the first attempt": sent.filter(first_attempt).count(),
        "one front desk notice": once(notices),
    }


def _all_delivered(transfers: list[int]) -> bool:
    from notifications.models import OutboxMessage, OutboxStatus

    return not OutboxMessage.objects.filter(
        channel="booking", status=OutboxStatus.PENDING
    ).exists() and all(v == len(transfers) for v in _delivery(transfers).values())


if __name__ == "__main__":
    sys.exit(main())
