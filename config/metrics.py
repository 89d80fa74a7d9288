"""Prometheus metrics at /metrics, behind a bearer token of their own (SILTA_METRICS_TOKEN;
off, 404, while it is unset).

Request rates and latencies per route are counted in each web process (prometheus-client;
under gunicorn in its multiprocess mode, PROMETHEUS_MULTIPROC_DIR, so every worker's counts
are summed). Everything else is read when the endpoint is scraped, from the database and
the broker, so it is the same whichever process answers and whatever host the worker and
the beat run on:

- the outbox: rows waiting, rows due and not yet sent, how long the oldest due row has
  waited, rows failed for good, per channel;
- failed booking requests that still matter (transfers.handoff.failed_requests' rule);
- each sweep's last run, as the worker recorded it (monitoring.models.TaskRun): when it
  last succeeded, how long it took, how many cases or reminders, runs and failures;
- the Celery queue's length (the broker's list, LLEN on Redis) and whether the broker
  answers.

README, "Metrics and alerts", lists them with the alerts to set.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core import clock

logger = logging.getLogger("silta.metrics")
# No `_created` series beside each counter and histogram: a scraper does not need them.
disable_created_metrics()

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: from a static file to a slow report page.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_SECONDS = Histogram(
    "silta_http_request_duration_seconds",
    "Time to answer a request, by route (the URL pattern), method and status; its _count "
    "is the number of requests.",
    ["route", "method", "status"],
    buckets=_BUCKETS,
)


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(
        route=route, method=method if method in _METHODS else "other", status=str(status)
    ).observe(seconds)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.SILTA_METRICS_TOKEN
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "")
    scheme, _, credentials = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        credentials.strip().encode(), token.encode()
    ):
        response = HttpResponse("401 Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


def registry() -> CollectorRegistry:
    """What one scrape reports: the requests (of every gunicorn worker in multiprocess
    mode) and what is read now from the database and the broker."""
    found = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(found)
    else:
        found.register(REQUEST_SECONDS)
    found.register(DatabaseCollector())
    found.register(BrokerCollector())
    return found


class DatabaseCollector(Collector):
    """The outbox, failed booking requests and the sweeps' last runs, read at scrape time.
    A few aggregate queries (the outbox's on its pending rows' partial index), in one
    read-only transaction with a statement timeout of its own."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "silta_metrics_database_up", "1 if the database answered this scrape's queries."
        )
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL statement_timeout = '5s'")
                found = [*_outbox(), _failed_bookings(), *_sweeps()]
        except Exception:  # a scrape reports, it does not raise
            logger.exception("metrics: the database could not be read")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from found


def _outbox() -> list[Metric]:
    from notifications.models import OutboxMessage, OutboxStatus

    now = clock.now()
    due = Q(available_at__lte=now)
    pending = GaugeMetricFamily(
        "silta_outbox_pending",
        "Outbox rows waiting to be sent, by channel (some not due yet: a booking request "
        "waits for the team's booking hours, a retry for its backoff).",
        labels=["channel"],
    )
    due_rows = GaugeMetricFamily(
        "silta_outbox_due",
        "Outbox rows due to be sent and not sent yet (the backlog), by channel.",
        labels=["channel"],
    )
    oldest = GaugeMetricFamily(
        "silta_outbox_oldest_pending_age_seconds",
        "How long the oldest due outbox row has waited since it became due, by channel "
        "(0 when none is due). The relay runs every minute: minutes here mean it is not "
        "running or cannot send.",
        labels=["channel"],
    )
    failed = GaugeMetricFamily(
        "silta_outbox_failed",
        "Outbox rows that failed for good (after every retry), by channel.",
        labels=["channel"],
    )
    rows = (
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING)
        .values("channel")
        .annotate(
            pending=Count("id"),
            due=Count("id", filter=due),
            oldest=Min("available_at", filter=due),
        )
        .order_by("channel")
    )
    for row in rows:
        pending.add_metric([row["channel"]], row["pending"])
        due_rows.add_metric([row["channel"]], row["due"])
        age = (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0
        oldest.add_metric([row["channel"]], max(age, 0.0))
    for channel, n in (
        OutboxMessage.objects.filter(status=OutboxStatus.FAILED)
        .values_list("channel")
        .annotate(n=Count("id"))
        .order_by("channel")
    ):
        failed.add_metric([channel], n)
    return [pending, due_rows, oldest, failed]


def _failed_bookings() -> Metric:
    """Booking requests that failed for good and still matter: the opening of the request
    while the transfer waits for it (accepted), or the delivery of a live booking while
    the transfer waits for a time (booking requested). An older failure is history."""
    from notifications.models import OutboxMessage, OutboxStatus
    from transfers.enums import BookingStatus, TransferState
    from transfers.handoff import BOOKING_CHANNEL
    from transfers.models import HandoverBooking, Transfer

    transfer_ids, booking_ids = set(), set()
    for payload in OutboxMessage.objects.filter(
        channel=BOOKING_CHANNEL, status=OutboxStatus.FAILED
    ).values_list("payload", flat=True):
        if not isinstance(payload, dict):
            continue
        if payload.get("action") == "open" and payload.get("transfer"):
            transfer_ids.add(payload["transfer"])
        elif payload.get("booking"):
            booking_ids.add(payload["booking"])
    count = Transfer.objects.filter(pk__in=transfer_ids, state=TransferState.ACCEPTED).count()
    count += HandoverBooking.objects.filter(
        pk__in=booking_ids,
        status=BookingStatus.REQUESTED,
        transfer__state=TransferState.BOOKING_REQUESTED,
    ).count()
    metric = GaugeMetricFamily(
        "silta_bookings_failed",
        "Booking requests that failed for good and wait for someone to send them again "
        "(the transfer's page: Send the failed booking request again).",
    )
    metric.add_metric([], count)
    return metric


def _sweeps() -> list[Metric]:
    from monitoring.models import TaskOutcome, TaskRun
    from monitoring.signals import RECORDED

    last_success = GaugeMetricFamily(
        "silta_sweep_last_success_timestamp_seconds",
        "When the sweep last finished without an error (Unix time); absent if never.",
        labels=["task"],
    )
    ran_today = GaugeMetricFamily(
        "silta_sweep_succeeded_today",
        "1 if the sweep has finished without an error today (Europe/Helsinki), else 0.",
        labels=["task"],
    )
    duration = GaugeMetricFamily(
        "silta_sweep_last_duration_seconds",
        "How long the sweep's last run took.",
        labels=["task"],
    )
    count = GaugeMetricFamily(
        "silta_sweep_last_count",
        "What the sweep's last successful run did: cases that fell due (due sweep), "
        "e-mails and requests queued (reminder sweep).",
        labels=["task"],
    )
    runs = CounterMetricFamily(
        "silta_sweep_runs", "Runs of the sweep, by outcome.", labels=["task", "outcome"]
    )
    items = CounterMetricFamily(
        "silta_sweep_items", "The sum of every successful run's count.", labels=["task"]
    )
    today = clock.today()
    known = {run.task: run for run in TaskRun.objects.filter(task__in=RECORDED)}
    for name in sorted(RECORDED):
        run = known.get(name)
        succeeded = run.last_succeeded_at if run else None
        ran_today.add_metric(
            [name], 1 if succeeded and succeeded.astimezone(clock.tz()).date() == today else 0
        )
        runs.add_metric([name, TaskOutcome.SUCCESS], (run.runs - run.failures) if run else 0)
        runs.add_metric([name, TaskOutcome.FAILURE], run.failures if run else 0)
        items.add_metric([name], run.items if run else 0)
        if run is None:
            continue
        if succeeded:
            last_success.add_metric([name], succeeded.timestamp())
        if run.last_duration_seconds is not None:
            duration.add_metric([name], run.last_duration_seconds)
        if run.last_count is not None:
            count.add_metric([name], run.last_count)
    return [last_success, ran_today, duration, count, runs, items]


class BrokerCollector(Collector):
    """The Celery queue's length, as the broker holds it (on Redis the list's LLEN, each
    priority's list summed, through kombu)."""

    def collect(self) -> Iterator[Metric]:
        from config.celery import app

        up = GaugeMetricFamily("silta_broker_up", "1 if the Celery broker answered.")
        length = GaugeMetricFamily(
            "silta_celery_queue_length",
            "Tasks waiting in the Celery queue, not yet taken by a worker.",
            labels=["queue"],
        )
        queue = app.conf.task_default_queue
        try:
            with app.connection_for_read() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
                length.add_metric([queue], _queue_length(conn, queue))
        except Exception as exc:  # a scrape reports, it does not raise
            logger.warning("metrics: the broker could not be read (%s)", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield length


def _queue_length(conn, queue: str) -> int:
    from kombu.exceptions import ChannelError

    try:
        return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
    except ChannelError:
        return 0  # no such queue yet (Redis drops an empty list): nothing waits
