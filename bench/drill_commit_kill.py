"""Drill: the process is killed between commit and publish, DRILL_COMMIT_KILLS (1,000) times.

Each time, a process forked from this one (as gunicorn forks its workers) commits a change
that queues outgoing work: a receiving worker accepting a transfer (through the service
the API and the web app call) or a notice through notifications.notify(), in turns. The
drill registers, in the process's own transaction and before the service registers its
publish (notifications.services.kick_relay, run after commit), an on-commit callback
that kills the process with SIGKILL. So every change is committed and none is published:
the process checks that the publish was armed behind the kill, and the broker's queue is
checked to be empty afterwards. Nothing in Silta's code knows about the drill.

Then a worker and beat start, as in production, and the outbox must catch up through
beat's periodic relay alone: every acceptance goes on to its booking request and the
front desk's notice and e-mail, every notice to its e-mail, each exactly once.
Exits non-zero on any loss or duplication.

Usage: make drills (or: scripts/with-postgres.sh scripts/with-redis.sh
       .venv/bin/python bench/drill_commit_kill.py)
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

from drills import (
    APP_ROLE,
    Redis,
    alive,
    broken_invariants,
    clone_ready_reviews,
    count_mail,
    database_role,
    delivered_everything,
    delivery_state,
    env_int,
    finish,
    free_port,
    per_key_duplicates,
    start_beat,
    start_worker,
    stop_worker,
    wait_for,
    with_email,
)

KILLS = env_int("DRILL_COMMIT_KILLS", 1000)

# A child's exit codes when it was not killed where the drill meant to kill it.
NOT_ARMED, RAISED, SURVIVED = 3, 2, 4


def die_after_commit() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def child(step: int, transfer_id: int | None, org) -> None:
    """Runs in the forked process; never returns."""
    try:
        from django.db import connection, transaction

        from core import clock
        from notifications.models import NotificationKind
        from notifications.services import notify
        from transfers import services
        from transfers.models import Transfer

        with transaction.atomic():
            transaction.on_commit(die_after_commit)
            if transfer_id is not None:
                services.transfer_accept(
                    actor=org.receiving_worker,
                    transfer=Transfer.objects.get(pk=transfer_id),
                    receiving_worker=org.receiving_worker,
                )
            else:
                notify(
                    recipients=[org.caseworker],
                    kind=NotificationKind.INTERPRETER_FREE,
                    subject_key=f"drill:{step}",
                    on_date=clock.today(),
                    reference=f"DRILL-{step}",
                    link="/",
                )
            callbacks = [getattr(c[1], "__name__", "") for c in connection.run_on_commit]
            if callbacks[:1] != ["die_after_commit"] or "kick_relay" not in callbacks[1:]:
                print(f"step {step}: on-commit callbacks {callbacks}", file=sys.stderr)
                os._exit(NOT_ARMED)
        os._exit(SURVIVED)
    except BaseException:
        traceback.print_exc()
        os._exit(RAISED)


def main() -> int:
    own_redis = None
    if not os.environ.get("REDIS_URL"):
        own_redis = Redis(free_port())
        own_redis.start()
        os.environ["REDIS_URL"] = own_redis.url
    work = Path(tempfile.mkdtemp(prefix="silta-drill-commit-kill-"))
    mail_dir = work / "mail"
    mail_dir.mkdir()
    os.environ["EMAIL_URL"] = f"filemail:///{mail_dir}"  # environ drops one slash
    from common import report, setup_django

    setup_django("silta_drill_commit_kill", app_role=APP_ROLE)
    import redis
    from django.db import connections

    from config.celery import app
    from criteria.models import Review
    from notifications.models import Notification
    from tests.factories import make_org
    from transfers import services

    org = make_org()
    with_email(org.front_desk, "frontdesk@example.invalid")
    with_email(org.caseworker, "caseworker@example.invalid")
    accepts = (KILLS + 1) // 2
    transfers = [
        services.transfer_propose(consent_basis="consent", actor=org.caseworker, review=review).pk
        for review in Review.objects.filter(pk__in=clone_ready_reviews(org, accepts)).order_by("pk")
    ]
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    app.control.purge()
    queued_before = broker.llen("celery")

    failures: list[str] = []
    outcomes = {"killed after commit": 0, "not armed": 0, "raised": 0, "survived": 0, "other": 0}
    started = time.monotonic()
    for step in range(KILLS):
        transfer_id = transfers[step // 2] if step % 2 == 0 else None
        connections.close_all()  # the child opens its own connection
        pid = os.fork()
        if pid == 0:
            child(step, transfer_id, org)
        _pid, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            outcomes["killed after commit"] += 1
        elif os.WIFEXITED(status):
            code = os.WEXITSTATUS(status)
            key = {NOT_ARMED: "not armed", RAISED: "raised", SURVIVED: "survived"}.get(code)
            outcomes[key or "other"] += 1
        else:
            outcomes["other"] += 1
    kill_time = time.monotonic() - started
    state = delivery_state()
    queued_after = broker.llen("celery")
    committed_accepts = state["accepted_waiting"]
    committed_notices = Notification.objects.filter(kind="interpreter_free").count()
    lines = [
        database_role(),
        f"kills: {KILLS} processes ({accepts} acceptances, {KILLS - accepts} notices), "
        f"{kill_time:.0f} s; outcomes {outcomes}",
        f"committed: {committed_accepts} acceptances, {committed_notices} notices; "
        f"outbox {state['outbox_pending']} pending; broker queue {queued_before} -> "
        f"{queued_after} messages (nothing published)",
    ]
    if outcomes["killed after commit"] != KILLS:
        failures.append(f"only {outcomes['killed after commit']}/{KILLS} killed after commit")
    if queued_after != queued_before:
        failures.append(f"{queued_after - queued_before} messages were published")
    if committed_accepts != accepts or committed_notices != KILLS - accepts:
        failures.append("not every change committed before the kill")

    procs = {
        "beat": start_beat({}, log=work / "beat.log", schedule=work / "beat-schedule"),
        "worker": start_worker({}, log=work / "worker.log"),
    }
    recovery = time.monotonic()
    try:
        wait_for(
            lambda: alive(*procs.values()) or delivered_everything(front_desk=1),
            timeout=600,
            what="the outbox to catch up",
            interval=0.5,
        )
        lines.append(
            f"worker and beat started: the outbox caught up in {time.monotonic() - recovery:.1f} s"
        )
    except (TimeoutError, RuntimeError) as exc:
        failures.append(str(exc))
    finally:
        for proc in procs.values():
            stop_worker(proc)
        if own_redis:
            own_redis.cleanup()

    state = delivery_state()
    mail = count_mail(mail_dir)
    broken = broken_invariants()
    duplicates = per_key_duplicates()
    lines += [
        f"after: {state}",
        mail.line(),
        f"invariants broken: {broken or 'none'}; {duplicates}",
    ]
    expected_mail = accepts + (KILLS - accepts)  # the front desk's e-mail, the notice's e-mail
    lost = (
        state["outbox_pending"]
        + state["outbox_failed"]
        + state["accepted_waiting"]
        + (accepts - state["bookings"] if state["bookings"] < accepts else 0)
        + mail.lost
        + max(expected_mail - mail.expected, 0)
    )
    duplicated = (
        max(state["bookings"] - accepts, 0)
        + max(state["booking_notices"] - accepts, 0)
        + mail.duplicated
        + sum(duplicates.values())
    )
    lines.append(f"items {KILLS}, kills {KILLS}, lost {lost}, duplicated {duplicated}")
    if lost:
        failures.append(f"{lost} lost")
    if duplicated:
        failures.append(f"{duplicated} duplicated")
    if broken:
        failures.append(f"invariants broken: {broken}")
    lines.append("FAIL: " + "; ".join(failures) if failures else "OK: 0 lost, the outbox caught up")
    report("drill_commit_kill", lines)
    return finish(work, failures)


if __name__ == "__main__":
    sys.exit(main())
