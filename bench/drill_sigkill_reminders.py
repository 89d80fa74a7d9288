"""Drill: the worker is killed with SIGKILL in the middle of 1,000 queued reminders.

The reminder sweep runs on a real Celery worker (sent as beat sends it) and queues one
"review due in 7 days" reminder for each of DRILL_REMINDERS (1,000) cases, spread over 50
caseworkers who want e-mail. While the worker is delivering them, the whole worker (its
main process and pool processes at once, as when its container or machine dies) is killed
with SIGKILL, DRILL_SIGKILLS times (2), and a new one is started each time. Each kill is
aimed at the worst moment: the drill freezes the worker (SIGSTOP) at random instants until
it is caught between sending an e-mail and committing its outbox row as sent (for up to 5
s), and kills it there. Beat runs as in production; its relay every minute picks up what
the dead worker held (the dead worker's unacknowledged tasks come back only after the
broker's visibility timeout, an hour).

What each recipient sees is counted: inbox rows per (recipient, kind, subject, date), and
the e-mails Django's file backend wrote, per (recipient, Message-ID); the Message-ID is
the outbox row's idempotency key, so a copy sent again after a crash is the same message.
Exits non-zero on any loss or duplication.

Usage: make drills (or: scripts/with-postgres.sh scripts/with-redis.sh
       .venv/bin/python bench/drill_sigkill_reminders.py)
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

from drills import (
    APP_ROLE,
    Redis,
    alive,
    clone_cases,
    count_mail,
    database_role,
    env_int,
    finish,
    free_port,
    kill_group,
    mails,
    start_beat,
    start_worker,
    stop_worker,
    wait_for,
    with_email,
)

REMINDERS = env_int("DRILL_REMINDERS", 1000)
KILLS = env_int("DRILL_SIGKILLS", 2)
AIM_SECONDS = 5.0
CASEWORKERS = 50


def written_keys(mail_dir: Path, newest: int | None = None) -> set[str]:
    """The outbox keys of the e-mails written (the Message-ID is the key, ':' as '.')."""
    paths = sorted(mail_dir.iterdir(), key=lambda path: path.stat().st_mtime_ns)
    found = set()
    for _to, message_id in mails(mail_dir, paths[-newest:] if newest else paths):
        found.add(message_id.strip("<>").removesuffix("@silta").replace(".", ":"))
    return found


def in_flight(mail_dir: Path, email_rows) -> bool:
    """Whether one of the newest e-mails belongs to a row still pending: the worker has
    sent it and not yet committed the row as sent."""
    keys = written_keys(mail_dir, newest=4)
    return email_rows.filter(status="pending", key__in=keys).exists()


def aim(worker, mail_dir: Path, email_rows) -> bool:
    """Freeze the worker's process group (SIGSTOP) at random moments until it is frozen
    between sending an e-mail and committing its row as sent, for up to AIM_SECONDS; the
    caller then kills it as it stands. Returns whether it was caught there."""
    deadline = time.monotonic() + AIM_SECONDS
    while time.monotonic() < deadline:
        os.killpg(worker.pid, signal.SIGSTOP)
        if in_flight(mail_dir, email_rows):
            return True
        os.killpg(worker.pid, signal.SIGCONT)
        time.sleep(random.uniform(0.001, 0.02))
    return False


def main() -> int:
    own_redis = None
    if not os.environ.get("REDIS_URL"):
        own_redis = Redis(free_port())
        own_redis.start()
        os.environ["REDIS_URL"] = own_redis.url
    work = Path(tempfile.mkdtemp(prefix="silta-drill-reminders-"))
    mail_dir = work / "mail"
    mail_dir.mkdir()
    os.environ["EMAIL_URL"] = f"filemail:///{mail_dir}"  # environ drops one slash
    from common import setup_django

    setup_django("silta_drill_reminders", app_role=APP_ROLE)
    from cases.enums import CaseState, Role
    from config.celery import app
    from core import clock
    from notifications.models import (
        Notification,
        OutboxMessage,
        OutboxStatus,
        ReminderKind,
        ReminderPolicy,
    )
    from tests.factories import case_in_state, make_org, member

    org = make_org()
    workers = []
    for i in range(CASEWORKERS):
        user = member(org.koto, Role.CASEWORKER, username=f"drill-worker-{i}")
        with_email(user, f"worker{i}@example.invalid")
        workers.append(user.pk)
    template = case_in_state(org, CaseState.ACTIVE, first_name="Drill")
    due = clock.today() + dt.timedelta(days=7)
    # Cases whose review falls due in 7 days, spread over the caseworkers.
    ids = ",".join(map(str, workers))
    clone_cases(
        template,
        REMINDERS,
        responsible_worker_id=f"(ARRAY[{ids}]::bigint[])[1 + mod(c.n, {len(workers)})]",
        review_due_on=f"DATE '{due.isoformat()}'",
    )
    for kind in ReminderKind.values:
        ReminderPolicy.objects.update_or_create(
            kind=kind,
            defaults={"enabled": kind == ReminderKind.REVIEW_DUE_SOON, "offsets": "7"},
        )
    app.control.purge()

    email_rows = OutboxMessage.objects.filter(channel="email")
    sent_rows = email_rows.filter(status=OutboxStatus.SENT)
    failures: list[str] = []
    log_dir = work
    procs = {
        "beat": start_beat({}, log=log_dir / "beat.log", schedule=work / "beat-schedule"),
        "worker": start_worker({}, log=log_dir / "worker-0.log"),
    }
    lines = [
        database_role(),
        f"reminders: {REMINDERS} cases due in 7 days, {CASEWORKERS} caseworkers with e-mail; "
        f"worker --concurrency 2, beat as in config/celery.py; SIGKILLs: {KILLS}",
    ]
    started = time.monotonic()
    try:
        app.send_task("silta.reminder_sweep")  # as beat sends it at 07:00
        wait_for(
            lambda: alive(*procs.values()) or email_rows.count() >= REMINDERS,
            timeout=120,
            what="the sweep to queue the reminders",
            interval=0.05,
        )
        queued = email_rows.count()
        lines.append(f"queued: {queued} e-mail rows, {Notification.objects.count()} inbox rows")
        for k in range(1, KILLS + 1):
            target = REMINDERS * k // (KILLS + 1)
            wait_for(
                lambda target=target: alive(*procs.values()) or sent_rows.count() >= target,
                timeout=300,
                what=f"{target} reminders to be delivered",
                interval=0.02,
            )
            # Aim at the worst moment: an e-mail sent whose row is not yet marked sent.
            aim(procs["worker"], mail_dir, email_rows)
            kill_group(procs["worker"])
            killed_at = time.monotonic()
            sent_at_kill = sent_rows.count()
            written_at_kill = len(mails(mail_dir))
            unrecorded = len(
                written_keys(mail_dir)
                & set(email_rows.filter(status=OutboxStatus.PENDING).values_list("key", flat=True))
            )
            procs["worker"] = start_worker({}, log=log_dir / f"worker-{k}.log")
            wait_for(
                lambda n=sent_at_kill: alive(*procs.values()) or sent_rows.count() > n,
                timeout=180,
                what="delivery to resume after the kill",
                interval=0.1,
            )
            resumed = time.monotonic() - killed_at
            lines.append(
                f"SIGKILL {k}: worker group killed with {sent_at_kill}/{queued} sent, "
                f"{written_at_kill} e-mails written, {unrecorded} of them sent but not yet "
                f"recorded; new worker started; delivery resumed after {resumed:.1f} s "
                "(beat's relay)"
            )
            if not 0 < sent_at_kill < queued:
                failures.append(f"kill {k} did not land mid-run ({sent_at_kill}/{queued} sent)")
        wait_for(
            lambda: (
                alive(*procs.values())
                or not email_rows.filter(status=OutboxStatus.PENDING).exists()
            ),
            timeout=300,
            what="every reminder to be delivered",
        )
        lines.append(f"all delivered {time.monotonic() - started:.1f} s after the sweep started")
    except (TimeoutError, RuntimeError) as exc:
        failures.append(str(exc))
    finally:
        for proc in procs.values():
            stop_worker(proc)
        if own_redis:
            own_redis.cleanup()

    inbox = Notification.objects.filter(kind="review_due_soon")
    inbox_rows = inbox.count()
    inbox_distinct = inbox.values("recipient_id", "subject_key", "on_date").distinct().count()
    pending = email_rows.filter(status=OutboxStatus.PENDING).count()
    failed = email_rows.filter(status=OutboxStatus.FAILED).count()
    mail = count_mail(mail_dir)
    lines += [
        f"inbox: {inbox_rows} rows, {inbox_distinct} distinct (recipient, subject, date); "
        f"outbox: {pending} pending, {failed} failed",
        mail.line(),
    ]
    lost = (REMINDERS - inbox_distinct) + mail.lost + pending + failed
    duplicated = (inbox_rows - inbox_distinct) + mail.duplicated
    lines.append(f"items {REMINDERS}, kills {KILLS}, lost {lost}, duplicated {duplicated}")
    if mail.expected != REMINDERS:
        failures.append(f"{mail.expected} e-mails expected for {REMINDERS} reminders")
    if lost:
        failures.append(f"{lost} reminders lost")
    if duplicated:
        failures.append(f"{duplicated} reminders seen twice")
    lines.append("FAIL: " + "; ".join(failures) if failures else "OK: each seen exactly once")
    from common import report

    report("drill_sigkill_reminders", lines)
    return finish(work, failures)


if __name__ == "__main__":
    sys.exit(main())
