"""Publishing after a commit never holds the answer up: with the broker refusing, hanging
or stopped, the relay's nudge gives up within its timeout (or not at all during the pause
after a failure) and the committed rows wait for the relay; once the broker is back,
publishing resumes by itself."""

from __future__ import annotations

import logging
import os
import socket
import time

import pytest
import redis

from config import celery_app
from core import clock
from notifications import services
from notifications.models import Channel, OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def publisher(monkeypatch):
    """A publisher of the test's own (no pool, no pause left over from another test)."""
    fresh = services._Publisher()
    monkeypatch.setattr(services, "_publisher", fresh)
    return fresh


@pytest.fixture
def broker():
    """Points the Celery app's publishing (its write URL) at another broker for the test;
    the worker's side (the read URL) is left alone."""
    conf = celery_app.conf
    given = conf.get("broker_write_url")  # None: the write URL is the broker URL

    def point_at(url: str) -> None:
        conf.broker_write_url = url

    yield point_at
    conf.broker_write_url = given


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is: nothing listens


def queued_row(key: str = "email:test") -> OutboxMessage:
    now = clock.now()
    row = OutboxMessage(
        channel=Channel.EMAIL, key=key, payload={}, available_at=now, created_at=now
    )
    services.enqueue([row])
    return OutboxMessage.objects.get(key=key)


def commit_and_time(capture) -> float:
    """Runs the on-commit callbacks (the relay's nudge) as the commit would; their time."""
    with capture(execute=False) as callbacks:
        row = queued_row()
    started = time.perf_counter()
    for callback in callbacks:
        callback()
    elapsed = time.perf_counter() - started
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)  # waits for the relay
    return elapsed


def test_publish__broker_refuses__the_answer_is_not_held_up(
    broker, django_capture_on_commit_callbacks, publisher, caplog, settings
):
    broker(f"redis://127.0.0.1:{closed_port()}/0")
    with caplog.at_level(logging.WARNING, logger="silta.notifications"):
        elapsed = commit_and_time(django_capture_on_commit_callbacks)
    assert elapsed < 1.0  # a refused connection, once (before: about 6 s of retries)
    assert "broker unreachable" in caplog.text
    assert publisher.paused_until > time.monotonic() + settings.SILTA_BROKER_PUBLISH_PAUSE - 1


def test_publish__during_the_pause_after_a_failure__no_attempt_at_all(
    broker, publisher, caplog, monkeypatch
):
    broker(f"redis://127.0.0.1:{closed_port()}/0")
    services.kick_relay()
    attempts = []
    monkeypatch.setattr(publisher, "_pool_for", lambda app: attempts.append(app))
    started = time.perf_counter()
    services.kick_relay()
    assert services.dispatch(1_000) == 0
    assert time.perf_counter() - started < 0.05
    assert attempts == []


def test_publish__broker_accepts_but_never_answers__gives_up_after_its_timeout(
    broker, django_capture_on_commit_callbacks, settings
):
    settings.SILTA_BROKER_PUBLISH_TIMEOUT = 0.25
    with socket.socket() as hung:  # the kernel accepts the connection; nobody answers
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        broker(f"redis://127.0.0.1:{hung.getsockname()[1]}/0")
        elapsed = commit_and_time(django_capture_on_commit_callbacks)
    assert elapsed < 1.5  # one timeout (0.25 s) and the bookkeeping around it


def test_publish__broker_back_after_the_pause__publishing_resumes(broker, publisher, settings):
    settings.SILTA_BROKER_PUBLISH_PAUSE = 0.2
    real = os.environ["REDIS_URL"]
    queue = redis.Redis.from_url(real)
    before = queue.llen("celery")
    broker(f"redis://127.0.0.1:{closed_port()}/0")
    services.kick_relay()
    assert publisher.paused_until > time.monotonic()

    time.sleep(0.3)
    broker(real)
    services.kick_relay()

    assert queue.llen("celery") == before + 1
    assert publisher.paused_until < time.monotonic()
    queue.lpop("celery")  # no worker runs here: nobody else would take it
