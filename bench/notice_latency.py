"""Notice latency: from a proposal's commit to the receiving worker being told.

NOTICE_PROPOSALS (100) transfers are proposed one after another through the service, with
a Celery worker (prefork, 2 processes) running against a real Redis and PostgreSQL, as in
production. For each proposal it measures, from the moment the proposing transaction has
committed:
- the receiving worker's inbox row: written in the proposal's own transaction, so it is
  there at the commit (checked for every proposal: the figure is 0 by construction);
- the receiving worker's e-mail outbox row marked sent by the relay (the commit's
  after-commit nudge through the broker -> the worker's relay -> the e-mail backend, here
  files on disk);
- the receiving team's Teams outbox row marked sent (an HTTP post to a local webhook).
Each proposal waits until both rows are sent before the next, so the figure is the path's
own latency, not a queue's. Prints and writes bench/results/notice_latency.txt; exits
non-zero if a row is missing, sent twice or not sent within NOTICE_TIMEOUT seconds.

Usage: scripts/with-postgres.sh .venv/bin/python bench/notice_latency.py
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from drills import (
    Redis,
    clone_ready_reviews,
    env_float,
    env_int,
    free_port,
    machine_load,
    message_ids,
    start_worker,
    stop_process,
    wait_for,
    with_email,
)

PROPOSALS = env_int("NOTICE_PROPOSALS", 100)
TIMEOUT = env_float("NOTICE_TIMEOUT", 60)


class _Teams(BaseHTTPRequestHandler):
    posts = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).posts += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (
        f"median {statistics.median(values) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"min {ordered[0] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="silta-bench-notice-latency-"))
    mail_dir = work / "mail"
    mail_dir.mkdir()
    redis = Redis(free_port())
    redis.start()
    os.environ["REDIS_URL"] = redis.url
    os.environ["EMAIL_URL"] = f"filemail:///{mail_dir}"  # environ drops one slash
    teams = HTTPServer(("127.0.0.1", free_port()), _Teams)
    threading.Thread(target=teams.serve_forever, daemon=True).start()

    from common import report, setup_django

    setup_django("silta_bench_notice_latency")
    from django.db import connection

    from criteria.models import Review
    from notifications.models import (
        Channel,
        Notification,
        NotificationKind,
        OutboxMessage,
        OutboxStatus,
        TeamChannel,
    )
    from tests.factories import make_org
    from transfers import services

    connection.set_autocommit(True)
    org = make_org()
    with_email(org.receiving_worker, "receiver@example.invalid")
    TeamChannel.objects.create(
        team=org.adult, teams_webhook_url=f"http://127.0.0.1:{teams.server_port}/hook"
    )
    reviews = list(
        Review.objects.filter(pk__in=clone_ready_reviews(org, PROPOSALS + 1)).order_by("pk")
    )

    failures: list[str] = []
    inbox: list[float] = []
    email: list[float] = []
    chat: list[float] = []
    worker = start_worker({}, log=work / "worker.log")
    try:
        # A first proposal, not measured, waits until the worker is up and has relayed.
        warm_up = services.transfer_propose(
            consent_basis="consent", actor=org.caseworker, review=reviews.pop(0)
        )
        wait_for(
            lambda: (
                OutboxMessage.objects.filter(
                    key__contains=f":transfer:{warm_up.pk}:proposed:", status=OutboxStatus.SENT
                ).count()
                == 2
            ),
            timeout=180,
            what="the worker to start and relay the first proposal's notices",
        )
        for review in reviews:
            transfer = services.transfer_propose(
                consent_basis="consent", actor=org.caseworker, review=review
            )
            committed = dt.datetime.now(dt.UTC)  # the service's transaction has committed
            key = f"transfer:{transfer.pk}:proposed"
            note = Notification.objects.filter(
                recipient=org.receiving_worker,
                kind=NotificationKind.TRANSFER_PROPOSED,
                subject_key=key,
            ).first()
            if note is None:
                failures.append(f"transfer {transfer.pk}: no inbox row at commit")
                continue
            inbox.append(0.0)  # present at the commit: same transaction
            rows = OutboxMessage.objects.filter(
                key__in=[
                    f"email:transfer_proposed:{key}:{note.on_date}:{org.receiving_worker.pk}",
                    f"teams:transfer_proposed:{key}:{note.on_date}:{org.adult.pk}",
                ]
            )
            try:
                wait_for(
                    lambda rows=rows: rows.filter(status=OutboxStatus.SENT).count() == 2,
                    timeout=TIMEOUT,
                    what=f"transfer {transfer.pk}'s e-mail and Teams rows to be sent",
                    interval=0.005,
                )
            except (TimeoutError, RuntimeError) as exc:
                failures.append(str(exc))
                continue
            for row in rows:
                latency = (row.sent_at - committed).total_seconds()
                (email if row.channel == Channel.EMAIL else chat).append(latency)
                if row.attempts != 1:
                    failures.append(f"{row.key}: {row.attempts} attempts")
    finally:
        stop_process(worker)
        teams.shutdown()
        redis.cleanup()

    sent_mails = len(set(message_ids(mail_dir)))  # a file may hold several e-mails
    lines = [
        f"{PROPOSALS} proposals, one at a time, through transfers.services.transfer_propose;",
        "a Celery worker (prefork, 2 processes) on a real Redis; PostgreSQL; e-mail to files,",
        "Teams to a local webhook. From the proposal's commit to:",
        f"- the receiving worker's inbox row: {len(inbox)} of {PROPOSALS} present at the "
        "commit (same transaction): 0 ms",
        f"- the receiving worker's e-mail outbox row sent by the relay: {_ms(email)}"
        if email
        else "- e-mail: none sent",
        f"- the receiving team's Teams outbox row sent by the relay: {_ms(chat)}"
        if chat
        else "- Teams: none sent",
        f"e-mails written: {sent_mails}; Teams posts received: {_Teams.posts} "
        "(each with one more, the unmeasured first proposal's)",
        f"machine: {machine_load()}",
    ]
    if sent_mails != PROPOSALS + 1:  # and the warm-up's
        failures.append(f"{sent_mails} e-mails for {PROPOSALS} proposals")
    if _Teams.posts != PROPOSALS + 1:
        failures.append(f"{_Teams.posts} Teams posts for {PROPOSALS} proposals")
    if failures:
        lines.append("FAILED: " + "; ".join(failures[:10]))
    report("notice_latency", lines)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
