"""Structured logs (config/logs.py, monitoring/signals.py): what the configured console
handler writes is one JSON object per line, with the request id; one line per request
(method, route, status, duration, user id) and per task (name, id, duration, outcome);
never a client's name or identity code, not even from a failing task."""

import datetime as dt
import io
import json
import logging
from contextlib import contextmanager

import pytest
from django.test import Client as WebClient

from cases.models import Client
from config import celery_app
from config.logs import JsonFormatter
from tests.config.test_sentry_scrub import BORN, canary_identity_code, canary_name
from tests.factories import client_data, make_client, make_org, open_case
from transfers import tasks

REQUIRED = {"time", "level", "logger", "message", "request_id"}


@contextmanager
def console_output():
    """What Silta's configured console handler (settings.LOGGING) writes, meanwhile."""
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and isinstance(h.formatter, JsonFormatter)
    ]
    assert len(handlers) == 1, "LOG_FORMAT=json configures one console handler"
    buffer = io.StringIO()
    previous = handlers[0].setStream(buffer)
    try:
        yield buffer
    finally:
        handlers[0].setStream(previous)


def lines_of(buffer: io.StringIO) -> list[dict]:
    text = buffer.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]  # each line is JSON
    assert lines, "nothing was logged"
    for line in lines:
        assert set(line) >= REQUIRED, line
    return lines


@pytest.mark.django_db
def test_logs__a_request__one_json_line_with_route_status_duration_and_user_id():
    org = make_org()
    name, code = canary_name(), canary_identity_code()
    web = WebClient()
    web.force_login(org.caseworker)
    body = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in client_data(
            first_name=name, personal_identity_code=code, date_of_birth=BORN
        ).items()
    }
    with console_output() as out:
        created = web.post(
            "/api/v1/clients/", data=json.dumps(body), content_type="application/json"
        )
        assert created.status_code == 201, created.content
        client_id = created.json()["id"]
        shown = web.get(f"/api/v1/clients/{client_id}/?q={name}")
        assert shown.status_code == 200
        missing = web.get(f"/nowhere/{name}/")
        assert missing.status_code == 404

    lines = lines_of(out)
    assert name not in out.getvalue() and code not in out.getvalue()
    requests = [line for line in lines if line.get("event") == "request"]
    assert [(r["method"], r["route"], r["status"]) for r in requests] == [
        ("POST", "api/v1/clients/", 201),
        ("GET", "api/v1/clients/<pk>/", 200),
        ("GET", "<unmatched>", 404),
    ]
    for line, response in zip(requests, (created, shown, missing), strict=True):
        assert line["user_id"] == org.caseworker.pk
        assert line["request_id"] == response["X-Request-ID"]
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
        assert line["level"] == "INFO" and line["logger"] == "silta.request"


@pytest.mark.django_db
def test_logs__an_anonymous_request__no_user_id():
    with console_output() as out:
        assert WebClient().get("/login/").status_code == 200
    (line,) = [line for line in lines_of(out) if line.get("event") == "request"]
    assert (line["route"], line["status"], line["user_id"]) == ("login/", 200, None)


@celery_app.task(name="silta.tests.log_canary")
def log_canary(client_id: int) -> None:
    client = Client.objects.get(pk=client_id)
    raise ValueError(f"could not handle {client.first_name} ({client.personal_identity_code})")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_logs__tasks__one_json_line_each_with_name_id_duration_and_outcome(celery_worker):
    org = make_org()
    open_case(org, started_months_ago=25)  # its review date has arrived
    name, code = canary_name(), canary_identity_code()
    client = make_client(org, first_name=name, personal_identity_code=code, date_of_birth=BORN)

    with console_output() as out:
        swept = tasks.due_sweep.delay()
        failed = log_canary.delay(client.pk)
        deadline = dt.datetime.now() + dt.timedelta(seconds=30)
        while dt.datetime.now() < deadline and out.getvalue().count('"event": "task"') < 2:
            celery_worker.app.control.ping(timeout=0.2)

    lines = lines_of(out)
    assert name not in out.getvalue() and code not in out.getvalue()
    done = {line["task_id"]: line for line in lines if line.get("event") == "task"}
    assert set(done) == {swept.id, failed.id}
    assert done[swept.id]["task_name"] == "silta.due_sweep"
    assert done[swept.id]["outcome"] == "success"
    assert done[failed.id]["outcome"] == "failure"
    assert done[failed.id]["error_type"] == "builtins.ValueError"
    for line in done.values():
        assert line["duration_ms"] >= 0 and line["request_id"]
    # Celery's own line about the failure: the exception by its type, no arguments.
    (trace,) = [
        line for line in lines if line["logger"] == "celery.app.trace" and line["level"] == "ERROR"
    ]
    assert "builtins.ValueError: [Filtered]" in trace["message"]
    assert "ValueError: [Filtered]" in trace["exc_info"]
