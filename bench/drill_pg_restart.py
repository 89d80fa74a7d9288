"""Drill: PostgreSQL is restarted under load, DRILL_PG_RESTARTS (3) times.

Silta runs as in production (gunicorn with sync workers, a Celery worker and beat) on a
PostgreSQL cluster of the drill's own, so the drill can stop it (`pg_ctl stop -m fast`, what
a service manager's restart does: sessions are cut), keep it down DRILL_PG_DOWN_SECONDS
(5) and start it again. DRILL_CLIENTS (10) clients keep proposing and accepting over HTTP
(threads with their own connections and API tokens, DRILL_CLIENT_PAUSE 0.5 s between
cycles); after a 5xx or no answer a client sends the same request again with the same
Idempotency-Key, sooner than Retry-After asks, so the drill sees how soon Silta recovers.

Expected: while the database is unreachable every failed request answers 503 with
Retry-After (never a 500, never no answer); nothing is half-written (the invariants in
drills.INVARIANTS: each transfer with its events, its case's state and its outbox rows);
nothing a client was told succeeded is lost and nothing is done twice; each client's first
request after PostgreSQL is back succeeds; the outbox then delivers everything.
Exits non-zero otherwise.

Usage: make drills (or: .venv/bin/python bench/drill_pg_restart.py; it starts its own
       PostgreSQL, and its own Redis unless REDIS_URL is set)
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
    Postgres,
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
    wait_for,
)

RESTARTS = env_int("DRILL_PG_RESTARTS", 3)
DOWN = env_float("DRILL_PG_DOWN_SECONDS", 5)
CLIENTS = env_int("DRILL_CLIENTS", 10)
PAUSE = env_float("DRILL_CLIENT_PAUSE", 0.5)
BETWEEN = 15.0


def main() -> int:
    """The drill's own PostgreSQL (and Redis) are stopped and removed whatever happens."""
    work = Path(tempfile.mkdtemp(prefix="silta-drill-pg-restart-"))
    pg = Postgres()
    own_redis = None
    try:
        pg.start()
        if not os.environ.get("REDIS_URL"):
            own_redis = Redis(free_port())
            own_redis.start()
            os.environ["REDIS_URL"] = own_redis.url
        return drill(pg, work)
    finally:
        if own_redis:
            own_redis.cleanup()
        pg.cleanup()


def drill(pg: Postgres, work: Path) -> int:
    mail_dir = work / "mail"
    mail_dir.mkdir()
    os.environ["DATABASE_URL"] = pg.url()
    os.environ["EMAIL_URL"] = f"filemail:///{mail_dir}"  # environ drops one slash
    from common import report, setup_django

    setup_django("silta_drill_pg", app_role=APP_ROLE)
    from django.db import connections

    from config.celery import app

    people = drill_people(CLIENTS)
    cycles = math.ceil((BETWEEN * (RESTARTS + 1) + RESTARTS * DOWN) / PAUSE) + 5
    reviews = clone_ready_reviews(people.org, CLIENTS * cycles)
    app.control.purge()
    connections.close_all()

    port = free_port()
    load = Load(f"http://127.0.0.1:{port}", people, reviews, pause=PAUSE)
    procs = {}
    failures: list[str] = []
    restarts: list[tuple[float, float, float]] = []  # (stop sent, stopped, ready again)
    lines = [
        database_role(),
        f"{CLIENTS} clients over HTTP (threads, httpx) against gunicorn (3 sync workers), a "
        f"Celery worker and beat; pause {PAUSE} s; {RESTARTS} restarts of PostgreSQL "
        f"(pg_ctl stop -m fast, {DOWN:.0f} s down, start), {BETWEEN:.0f} s apart",
    ]
    t0 = time.monotonic()
    t_end = None
    try:
        procs["server"] = start_server({}, port=port, log=work / "gunicorn.log")
        procs["worker"] = start_worker({}, log=work / "worker.log")
        procs["beat"] = start_beat({}, log=work / "beat.log", schedule=work / "beat-schedule")
        load.warm_up()
        t0 = time.monotonic()
        threads = load.run()
        for n in range(RESTARTS):
            time.sleep(BETWEEN)
            alive(*procs.values())
            sent = time.monotonic()
            pg.stop("fast")
            stopped = time.monotonic()
            time.sleep(DOWN)
            pg.start()
            ready = time.monotonic()
            restarts.append((sent, stopped, ready))
            print(f"restart {n + 1}: down {ready - stopped:.1f} s")
        time.sleep(BETWEEN)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=300)
        t_end = time.monotonic()
        connections.close_all()  # the driver's own connection did not survive the restarts
        wait_for(
            lambda: alive(*procs.values()) or delivered_everything(front_desk=1),
            timeout=600,
            what="the outbox to deliver everything after the restarts",
            interval=0.5,
        )
        delivered = time.monotonic() - t_end
        alive(*procs.values())
    except (TimeoutError, RuntimeError, OSError) as exc:
        failures.append(f"{type(exc).__name__}: {exc}")
        delivered = None
    finally:
        load.stop.set()
        for proc in procs.values():
            stop_process(proc)
    t_end = t_end or time.monotonic()

    # What the clients saw around each restart.
    failed = [a for a in load.attempts if not a.ok]
    statuses = Counter(a.status for a in failed)
    no_retry_after = sum(1 for a in failed if a.status == 503 and not a.retry_after)
    recover_times = []
    for n, (sent, _stopped, ready) in enumerate(restarts, 1):
        during = Counter(a.status for a in load.attempts if sent <= a.ended and a.started < ready)
        first_after = {}
        first_ok = {}
        for a in sorted(load.attempts, key=lambda a: a.started):
            if a.started >= ready:
                first_after.setdefault(a.client, a)
                if a.ok:
                    first_ok.setdefault(a.client, a.ended - ready)
        firsts = Counter(a.status for a in first_after.values())
        slowest = max(first_ok.values(), default=float("nan"))
        recover_times.append(slowest)
        lines.append(
            f"restart {n}: answers from the stop until ready {dict(during)}; each client's "
            f"first request after the restart {dict(firsts)}; every client served again "
            f"within {slowest:.2f} s"
        )
        if any(not a.ok for a in first_after.values()):
            failures.append(f"restart {n}: a client's first request after the restart failed")
        if len(first_ok) < CLIENTS:
            failures.append(f"restart {n}: {CLIENTS - len(first_ok)} clients never served again")
        if not any(not a.ok for a in load.attempts if sent <= a.ended and a.started < ready):
            failures.append(f"restart {n}: no request met the database down (not under load)")
    lines.append(
        f"failed answers overall {dict(statuses)}; 503s without Retry-After {no_retry_after}; "
        f"accept {ms(load.latencies('accept', t0, t_end))}; "
        f"propose {ms(load.latencies('propose', t0, t_end))}; {machine_load()}"
    )
    others = {status: n for status, n in statuses.items() if status != 503}
    if others:
        failures.append(f"failures other than 503: {others}")
    if no_retry_after:
        failures.append(f"{no_retry_after} answers 503 without Retry-After")

    # Nothing half-written, nothing lost, nothing twice.
    from transfers.models import Transfer

    connections.close_all()  # the driver's connection did not survive the restarts
    transfers = dict(Transfer.objects.values_list("pk", "review_id"))
    accepted_db = set(
        Transfer.objects.filter(accepted_at__isnull=False).values_list("pk", flat=True)
    )
    lost = sum(1 for r, t in load.proposed.items() if transfers.get(t) != r) + len(
        load.accepted - accepted_db
    )
    duplicated = len(set(transfers) - set(load.proposed.values())) + len(
        accepted_db - load.accepted
    )
    state = delivery_state()
    mail = count_mail(mail_dir)
    broken = broken_invariants()
    duplicates = per_key_duplicates()
    lost += (
        state["outbox_pending"]
        + state["outbox_failed"]
        + state["accepted_waiting"]
        + max(len(accepted_db) - state["bookings"], 0)
        + mail.lost
    )
    duplicated += (
        max(state["bookings"] - len(accepted_db), 0)
        + max(state["booking_notices"] - state["bookings"], 0)
        + mail.duplicated
        + sum(duplicates.values())
    )
    items = len(load.proposed) + len(load.accepted)
    lines += [
        f"answered: {len(load.proposed)} proposals, {len(load.accepted)} acceptances; database: "
        f"{len(transfers)} transfers, {len(accepted_db)} accepted",
        f"refused: {len(load.refused)} {load.refused[:3]}; unanswered: {len(load.unfinished)}",
        f"after: {state}; outbox delivered everything "
        + (f"{delivered:.1f} s after the load stopped" if delivered is not None else "n/a"),
        mail.line(),
        f"invariants broken (half-written): {broken or 'none'}; {duplicates}",
        f"items {items}, restarts {len(restarts)}, lost {lost}, duplicated {duplicated}, "
        f"time to recover (slowest client) {max(recover_times, default=float('nan')):.2f} s",
    ]
    if lost:
        failures.append(f"{lost} lost")
    if duplicated:
        failures.append(f"{duplicated} duplicated")
    if load.refused or load.unfinished:
        failures.append(f"{len(load.refused)} refused, {len(load.unfinished)} unanswered")
    if broken:
        failures.append(f"half-written: {broken}")
    lines.append("FAIL: " + "; ".join(failures) if failures else "OK: 503 while down, all recover")
    report("drill_pg_restart", lines)
    connections.close_all()
    return finish(work, failures)


if __name__ == "__main__":
    sys.exit(main())
