"""The Prometheus endpoint (config/metrics.py): behind its own bearer token, and with data
present, the values it reports are the database's and the broker's."""

import datetime as dt
import time

import pytest
from django.test import Client as WebClient
from prometheus_client.parser import text_string_to_metric_families

from config import celery_app
from core import clock
from monitoring.models import TaskRun
from notifications.models import OutboxMessage, OutboxStatus
from tests.factories import make_org, open_case, transfer_in_state
from transfers import tasks
from transfers.enums import TransferState

TOKEN = "scrape-token-for-tests"


@pytest.fixture
def scraper(settings):
    settings.SILTA_METRICS_TOKEN = TOKEN
    web = WebClient(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    def scrape() -> dict[tuple[str, frozenset], float]:
        response = web.get("/metrics")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples
        }

    return scrape


def value(found, name, **labels) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.django_db
def test_metrics__off_without_a_token__refused_with_a_wrong_one(client, settings):
    settings.SILTA_METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    settings.SILTA_METRICS_TOKEN = TOKEN
    for given in ("", "Bearer wrong", f"Token {TOKEN}", TOKEN):
        response = client.get("/metrics", HTTP_AUTHORIZATION=given)
        assert response.status_code == 401, given
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"silta_" not in response.content
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"bearer {TOKEN}").status_code == 200


def outbox_row(channel: str, *, key: str, status=OutboxStatus.PENDING, due_in=0, payload=None):
    now = clock.now()
    return OutboxMessage.objects.create(
        channel=channel,
        key=key,
        payload=payload or {},
        status=status,
        available_at=now + dt.timedelta(seconds=due_in),
        created_at=now - dt.timedelta(hours=1),
    )


@pytest.mark.django_db
def test_metrics__outbox_backlog_oldest_age_and_failed_bookings(scraper):
    org = make_org()
    accepted = transfer_in_state(org, TransferState.ACCEPTED)
    cancelled = transfer_in_state(org, TransferState.CANCELLED)
    before = scraper()

    outbox_row("email", key="t-due-1", due_in=-600)
    outbox_row("email", key="t-due-2", due_in=-30)
    outbox_row("teams", key="t-later", due_in=3600)
    outbox_row("email", key="t-failed", status=OutboxStatus.FAILED)
    # The opening of a booking request failed for good: it matters while the transfer is
    # accepted; the same failure on a cancelled transfer is history.
    for transfer, key in ((accepted, "t-open-1"), (cancelled, "t-open-2")):
        outbox_row(
            "booking",
            key=key,
            status=OutboxStatus.FAILED,
            payload={"action": "open", "transfer": transfer.pk},
        )
    found = scraper()

    def delta(name, **labels):
        return value(found, name, **labels) - value(before, name, **labels)

    assert delta("silta_outbox_due", channel="email") == 2
    assert delta("silta_outbox_pending", channel="email") == 2
    assert delta("silta_outbox_pending", channel="teams") == 1
    assert delta("silta_outbox_due", channel="teams") == 0
    assert 600 <= value(found, "silta_outbox_oldest_pending_age_seconds", channel="email") < 700
    assert value(found, "silta_outbox_oldest_pending_age_seconds", channel="teams") == 0
    assert delta("silta_outbox_failed", channel="email") == 1
    assert delta("silta_outbox_failed", channel="booking") == 2
    assert value(before, "silta_bookings_failed") == 0
    assert value(found, "silta_bookings_failed") == 1
    assert value(found, "silta_metrics_database_up") == 1


@pytest.mark.django_db
def test_metrics__requests_counted_per_route_method_and_status(scraper):
    before = scraper()
    web = WebClient()
    for _ in range(3):
        web.get("/healthz")
    web.get("/nowhere/at/all/")
    found = scraper()
    count = "silta_http_request_duration_seconds_count"
    healthz = {"route": "healthz", "method": "GET", "status": "200"}
    unmatched = {"route": "<unmatched>", "method": "GET", "status": "404"}
    assert value(found, count, **healthz) - value(before, count, **healthz) == 3
    assert value(found, count, **unmatched) - value(before, count, **unmatched) == 1
    assert value(found, "silta_http_request_duration_seconds_sum", **healthz) > 0


@pytest.mark.django_db
def test_metrics__celery_queue_length_from_the_broker(scraper, settings, monkeypatch):
    celery_app.control.purge()
    try:
        for _ in range(3):
            tasks.reminder_sweep.delay()  # no worker: they wait in the queue
        found = scraper()
    finally:
        celery_app.control.purge()
    assert value(found, "silta_broker_up") == 1
    assert value(found, "silta_celery_queue_length", queue="celery") == 3

    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    found = scraper()  # the broker down: the scrape still answers, and says so
    assert value(found, "silta_broker_up") == 0
    assert value(found, "silta_metrics_database_up") == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_metrics__sweeps_last_run_as_the_worker_recorded_it(scraper, celery_worker):
    org = make_org()
    open_case(org, started_months_ago=25)  # falls due
    open_case(org, started_months_ago=26)  # falls due
    before = scraper()
    assert value(before, "silta_sweep_succeeded_today", task="silta.due_sweep") == 0

    tasks.due_sweep.delay()
    tasks.reminder_sweep.delay()
    deadline = time.monotonic() + 30
    while TaskRun.objects.filter(runs__gt=0).count() < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    found = scraper()

    for task in ("silta.due_sweep", "silta.reminder_sweep"):
        assert value(found, "silta_sweep_succeeded_today", task=task) == 1
        assert value(found, "silta_sweep_runs_total", task=task, outcome="success") == 1
        assert value(found, "silta_sweep_runs_total", task=task, outcome="failure") == 0
        assert 0 < value(found, "silta_sweep_last_duration_seconds", task=task) < 30
        last = value(found, "silta_sweep_last_success_timestamp_seconds", task=task)
        assert abs(last - clock.now().timestamp()) < 60
    assert value(found, "silta_sweep_last_count", task="silta.due_sweep") == 2
    assert value(found, "silta_sweep_items_total", task="silta.due_sweep") == 2
    assert (
        value(found, "silta_sweep_last_count", task="silta.reminder_sweep")
        == TaskRun.objects.get(task="silta.reminder_sweep").last_count
    )
