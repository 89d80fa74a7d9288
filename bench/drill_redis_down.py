"""Drill: Redis is down for DRILL_REDIS_DOWN_SECONDS (600, ten minutes) while DRILL_CLIENTS
(10) clients keep proposing and accepting transfers.

Silta runs as in production: gunicorn (sync workers, as the Dockerfile starts it), a
Celery worker and beat, on PostgreSQL and a Redis of the drill's own. Each client is a
thread with its own HTTP connection and its own pair of users (a caseworker of the sending
team, a receiving worker of the receiving team), calling the API over HTTP with API
tokens: propose a transfer from a ready review, accept it, pause DRILL_CLIENT_PAUSE (2 s),
again. Every request carries an Idempotency-Key, and after a 5xx or no answer the client
sends the same request again (what a careful integration does). Each acceptance goes on,
through the outbox, to a booking request, the front desk's notice and its e-mail.

Phases: Redis up (20 s), Redis stopped, Redis started again, the clients go on (20 s) and
stop; then everything must be delivered. Lost: a change a client was told succeeded that
is not in the database, an acceptance whose booking request, notice or e-mail never came.
Duplicated: a change made twice, a booking, notice or e-mail more than once (a recipient's
e-mails are counted per Message-ID, the outbox row's idempotency key). Also reported: the
answer times of acceptances with Redis up and down, and how soon the outbox caught up.
Exits non-zero on any loss, duplication, refused or unanswered request, or broken
invariant.

Usage: make drills (or: scripts/with-postgres.sh .venv/bin/python bench/drill_redis_down.py;
       DRILL_REDIS_DOWN_SECONDS=60 for a quick run)
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from drills import (
    APP_ROLE,
    Load,
    Redis,
    alive,
    broken_invariants,
    clone_ready_reviews,
    count_mail,
    database_role,
    delivered_everything,
    delivery_state,
    drill_people,
    env_float,
    env_int,
    finish,
    free_port,
    machine_load,
    ms,
    per_key_duplicates,
    start_beat,
    start_server,
    start_worker,
    stop_process,
)

DOWN = env_float("DRILL_REDIS_DOWN_SECONDS", 600)
CLIENTS = env_int("DRILL_CLIENTS", 10)
PAUSE = env_float("DRILL_CLIENT_PAUSE", 2.0)
BEFORE = AFTER = 20.0


def seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def main() -> int:
    redis = Redis(free_port())
    redis.start()
    work = Path(tempfile.mkdtemp(prefix="silta-drill-redis-down-"))
    mail_dir = work / "mail"
    mail_dir.mkdir()
    os.environ["REDIS_URL"] = redis.url
    os.environ["EMAIL_URL"] = f"filemail:///{mail_dir}"  # environ drops one slash
    from common import report, setup_django

    setup_django("silta_drill_redis", app_role=APP_ROLE)
    import httpx

    from config.celery import app
    from core import clock
    from notifications.models import OutboxMessage
    from transfers.models import Transfer

    people = drill_people(CLIENTS)
    # Enough ready reviews for every client to go on for the whole drill.
    cycles = math.ceil((BEFORE + DOWN + AFTER) / PAUSE) + 5
    reviews = clone_ready_reviews(people.org, CLIENTS * cycles)
    app.control.purge()

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    procs = {}
    load = Load(base_url, people, reviews, pause=PAUSE)
    failures: list[str] = []
    lines = [
        database_role(),
        f"{CLIENTS} clients over HTTP (threads, httpx) against gunicorn (3 sync workers), a "
        f"Celery worker and beat; pause {PAUSE} s between cycles; Redis down {DOWN:.0f} s",
    ]
    health = None
    t0 = time.monotonic()
    t_down = t_up = t_end = None
    caught_up = all_done = None
    try:
        procs["server"] = start_server({}, port=port, log=work / "gunicorn.log")
        procs["worker"] = start_worker({}, log=work / "worker.log")
        procs["beat"] = start_beat({}, log=work / "beat.log", schedule=work / "beat-schedule")
        load.warm_up()
        t0 = time.monotonic()
        threads = load.run()
        time.sleep(BEFORE)
        alive(*procs.values())
        redis.stop()
        t_down = time.monotonic()
        print(f"redis down for {DOWN:.0f} s")
        while time.monotonic() - t_down < DOWN:
            time.sleep(min(10, DOWN - (time.monotonic() - t_down)))
            if health is None and time.monotonic() - t_down > 5:
                health = httpx.get(f"{base_url}/healthz", timeout=30)
            print(f"  {time.monotonic() - t_down:.0f} s: {len(load.accepted)} accepted")
        redis.start()
        t_up = time.monotonic()
        up_at = clock.now()
        print("redis back")
        queued_while_down = OutboxMessage.objects.filter(status="pending", created_at__lte=up_at)
        caught_up = None
        while time.monotonic() - t_up < AFTER:
            if caught_up is None and not queued_while_down.exists():
                caught_up = time.monotonic() - t_up
            time.sleep(0.5)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=300)
        t_end = time.monotonic()
        deadline = time.monotonic() + 600
        while True:
            alive(*procs.values())
            if caught_up is None and not queued_while_down.exists():
                caught_up = time.monotonic() - t_up
            if caught_up is not None and delivered_everything(front_desk=1):
                break
            if time.monotonic() > deadline:
                raise TimeoutError("timed out waiting for the outbox to catch up")
            time.sleep(0.5)
        all_done = time.monotonic() - t_up
        alive(*procs.values())
    except (TimeoutError, RuntimeError) as exc:
        failures.append(str(exc))
        now = time.monotonic()
        t_down, t_up, t_end = t_down or now, t_up or now, t_end or now
    finally:
        load.stop.set()
        for proc in procs.values():
            stop_process(proc)
        redis.cleanup()

    phases = {"up before": (t0, t_down), "down": (t_down, t_up), "up after": (t_up, t_end)}
    for name, (since, until) in phases.items():
        answers = Counter(a.status for a in load.attempts if since <= a.started < until)
        lines.append(
            f"{name}: answers {dict(answers)}; accept {ms(load.latencies('accept', since, until))}"
            f"; propose {ms(load.latencies('propose', since, until))}"
        )
    lines.append(machine_load())
    if health is not None:
        lines.append(f"/healthz while down: {health.status_code} {health.text[:120]}")
    lines.append(
        f"rows queued while Redis was down all sent {seconds(caught_up)} after it came back; "
        f"everything delivered {seconds(all_done)} after"
    )

    # Client's view against the database.
    proposed = load.proposed
    transfers = dict(Transfer.objects.values_list("pk", "review_id"))
    accepted_db = set(
        Transfer.objects.filter(accepted_at__isnull=False).values_list("pk", flat=True)
    )
    lost_proposals = sum(1 for r, t in proposed.items() if transfers.get(t) != r)
    lost_accepts = len(load.accepted - accepted_db)
    extra_transfers = len(set(transfers) - set(proposed.values()))
    extra_accepts = len(accepted_db - load.accepted)
    state = delivery_state()
    mail = count_mail(mail_dir)
    broken = broken_invariants()
    duplicates = per_key_duplicates()
    n_accepted = len(accepted_db)
    lines += [
        f"answered: {len(proposed)} proposals, {len(load.accepted)} acceptances; database: "
        f"{len(transfers)} transfers, {n_accepted} accepted",
        f"refused: {len(load.refused)} {load.refused[:3]}; unanswered: {len(load.unfinished)}",
        f"after: {state}",
        mail.line(),
        f"invariants broken: {broken or 'none'}; {duplicates}",
    ]
    lost = (
        lost_proposals
        + lost_accepts
        + state["outbox_pending"]
        + state["outbox_failed"]
        + state["accepted_waiting"]
        + max(n_accepted - state["bookings"], 0)
        + max(state["bookings"] - state["booking_notices"], 0)
        + mail.lost
    )
    duplicated = (
        extra_transfers
        + extra_accepts
        + max(state["bookings"] - n_accepted, 0)
        + max(state["booking_notices"] - state["bookings"], 0)
        + mail.duplicated
        + sum(duplicates.values())
    )
    items = len(proposed) + len(load.accepted)
    lines.append(
        f"items {items} ({len(proposed)} proposals, {len(load.accepted)} acceptances), "
        f"lost {lost}, duplicated {duplicated}, time to recover {seconds(caught_up)}"
    )
    if lost:
        failures.append(f"{lost} lost")
    if duplicated:
        failures.append(f"{duplicated} duplicated")
    if load.refused or load.unfinished:
        failures.append(f"{len(load.refused)} refused, {len(load.unfinished)} unanswered")
    if broken:
        failures.append(f"invariants broken: {broken}")
    if not any(t_down <= a.started < t_up and a.op == "accept" for a in load.attempts):
        failures.append("no acceptance was made while Redis was down")
    if mail.expected != state["bookings"]:
        failures.append(f"{mail.expected} e-mails queued for {state['bookings']} bookings")
    lines.append("FAIL: " + "; ".join(failures) if failures else "OK: nothing lost, nothing twice")
    report("drill_redis_down", lines)
    return finish(work, failures)


if __name__ == "__main__":
    sys.exit(main())
