"""Error reports reach Sentry without client data (config/sentry.py, config/redact.py).

A loopback HTTP server stands in for Sentry (the DSN points at it); real errors happen in
a real request to the API and in a task run by a real Celery worker, with a canary
client's name and identity code in every place an error report could pick them up: the
exception's message and a database error's DETAIL, local variables, the request's body,
query string and headers, `extra`, tags, contexts, the user, breadcrumbs (from log lines
and added by hand) and an error log line of its own. What arrives is decoded (gzip or brotli,
envelope items) and searched.
"""

import datetime as dt
import gzip
import json
import logging
import os
import secrets
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sentry_sdk
from django.test import Client as WebClient

from cases.models import Client
from config import celery_app, sentry
from tests.factories import client_data, make_client, make_org

ROOT = Path(__file__).resolve().parents[2]
_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def canary_identity_code() -> str:
    """A valid Finnish identity code, a temporary one (individual number 900-999): born
    1 January 1990, a random individual number."""
    birth, number = "010190", f"{900 + secrets.randbelow(100):03d}"
    return f"{birth}-{number}{_CHECK[int(birth + number) % 31]}"


BORN = dt.date(1990, 1, 1)


def canary_name() -> str:
    return "Kanarialintu" + "".join(secrets.choice("BCDFGHJKLMNPRSTV") for _ in range(8))


class SentryStandIn:
    """Receives what sentry-sdk sends (envelopes, gzip) and keeps it decoded."""

    def __init__(self):
        self.bodies: list[bytes] = []
        self.arrived = threading.Condition()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.dsn = f"http://publickey@127.0.0.1:{self.server.server_address[1]}/1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    raw = gzip.decompress(raw)
                elif encoding == "br":  # sentry-sdk prefers brotli when it is installed
                    import brotli  # a dev dependency's dependency (locust), not the image's

                    raw = brotli.decompress(raw)
                with stand_in.arrived:
                    stand_in.bodies.append(raw)
                    stand_in.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        return Handler

    def events(self) -> list[dict]:
        """The event items of every envelope (an envelope: a header line, then per item a
        header line and its payload, of `length` bytes when the header says so)."""
        found = []
        for body in self.bodies:
            at = body.index(b"\n") + 1
            while at < len(body):
                end = body.find(b"\n", at)
                end = len(body) if end < 0 else end
                line, at = body[at:end].strip(), end + 1
                if not line:
                    continue
                header = json.loads(line)
                if header.get("length") is not None:
                    payload = body[at : at + header["length"]]
                    at += header["length"] + 1
                else:
                    end = body.find(b"\n", at)
                    end = len(body) if end < 0 else end
                    payload, at = body[at:end], end + 1
                if header.get("type") == "event":
                    found.append(json.loads(payload))
        return found

    def wait_for(self, predicate, timeout: float = 30.0) -> list[dict]:
        with self.arrived:
            self.arrived.wait_for(lambda: any(map(predicate, self.events())), timeout)
        return [event for event in self.events() if predicate(event)]

    def everything(self) -> str:
        """All that arrived, as text, also with JSON's escapes undone."""
        text = b"\n".join(self.bodies).decode("utf-8", "replace")
        unescaped = "\n".join(json.dumps(event, ensure_ascii=False) for event in self.events())
        return text + "\n" + unescaped


@pytest.fixture
def sentry_stand_in():
    stand_in = SentryStandIn()
    stand_in.thread.start()
    assert sentry.init(dsn=stand_in.dsn, environment="test", release="silta@test")
    yield stand_in
    sentry_sdk.flush(timeout=10)
    sentry_sdk.init()  # no DSN: reporting off again for the rest of the suite
    stand_in.server.shutdown()


def misbehave(name: str, code: str) -> None:
    """Code that puts client data where an error report could pick it up."""
    logging.getLogger("silta.test").info(
        "registering %s (%s)", name, code, extra={"client_name": name}
    )
    sentry_sdk.add_breadcrumb(category="custom", message=f"about {name}", data={"hetu": code})
    sentry_sdk.set_extra("client", {"name": name, "identity_code": code})
    sentry_sdk.set_tag("client_name", name)
    sentry_sdk.set_context("client", {"name": name, "hetu": code})
    sentry_sdk.set_user({"id": "1", "username": name, "email": f"{name}@example.org"})


def assert_nothing_of(canaries: tuple[str, ...], stand_in: SentryStandIn) -> None:
    everything = stand_in.everything()
    for canary in canaries:
        for form in {canary, canary.lower(), canary.upper(), canary.replace("-", "%2D")}:
            assert form not in everything, f"{form!r} reached Sentry"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sentry__error_in_a_request__reaches_sentry_without_client_data(sentry_stand_in, owner_sql):
    org = make_org()
    name, code = canary_name(), canary_identity_code()
    # A database error whose message and DETAIL quote the row being written: the trigger
    # refuses every new client, as a unique constraint would, naming them.
    owner_sql(
        """
        CREATE FUNCTION silta_test_refuse_client() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'client % % refused', NEW.first_name,
                NEW.personal_identity_code
                USING DETAIL = 'Key (personal_identity_code)=('
                    || NEW.personal_identity_code || ') already exists.';
        END $$ LANGUAGE plpgsql;
        CREATE TRIGGER silta_test_refuse_client BEFORE INSERT ON cases_client
            FOR EACH ROW EXECUTE FUNCTION silta_test_refuse_client();
        """,
        undo_with="DROP TRIGGER silta_test_refuse_client ON cases_client; "
        "DROP FUNCTION silta_test_refuse_client();",
    )
    with sentry_sdk.isolation_scope():
        misbehave(name, code)
        web = WebClient(raise_request_exception=False)
        web.force_login(org.caseworker)
        body = {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in client_data(
                first_name=name, personal_identity_code=code, date_of_birth=BORN
            ).items()
        }
        response = web.post(
            f"/api/v1/clients/?name={name}&hetu={code}",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_X_CLIENT=name,
        )
        assert response.status_code == 500
        request_id = response["X-Request-ID"]
        logging.getLogger("silta.test").error(
            "could not register %s (%s)", name, code, extra={"identity_code": code}
        )
    sentry_sdk.flush(timeout=10)

    events = sentry_stand_in.events()
    errors = [event for event in events if event.get("exception")]
    assert errors, f"no error event arrived ({len(sentry_stand_in.bodies)} envelopes)"
    assert_nothing_of((name, code), sentry_stand_in)

    # ... and what an operator needs did arrive: where, what type, which request.
    error = errors[0]
    raised = error["exception"]["values"][-1]
    assert (raised["type"], raised["value"]) == ("ProgrammingError", "[Filtered]")
    frames = raised["stacktrace"]["frames"]
    assert frames and all(frame.get("function") for frame in frames)
    assert all("vars" not in frame for frame in frames)
    assert error["transaction"] == "/api/v1/clients/"
    assert error["tags"] == {"request_id": request_id}
    # The test client has no WSGI handler, where sentry-sdk reads the method and URL.
    assert set(error.get("request", {})) <= {"method", "url"}
    assert "extra" not in error and "user" not in error
    assert set(error.get("contexts", {})) <= {"runtime", "os"}
    assert (error["environment"], error["release"]) == ("test", "silta@test")
    templates = {crumb.get("message") for crumb in error["breadcrumbs"]["values"]}
    assert "registering %s (%s)" in templates
    logged = [event for event in events if event.get("logentry")]
    assert [event["logentry"] for event in logged] == [{"message": "could not register %s (%s)"}]


@celery_app.task(name="silta.tests.sentry_canary")
def sentry_canary(client_id: int) -> None:
    """A task that fails with the client's data everywhere it can."""
    client = Client.objects.get(pk=client_id)
    name, code = client.first_name, client.personal_identity_code
    misbehave(name, code)
    raise ValueError(f"could not handle {name} ({code})")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sentry__error_in_a_celery_task__reaches_sentry_without_client_data(
    sentry_stand_in, celery_worker
):
    org = make_org()
    name, code = canary_name(), canary_identity_code()
    client = make_client(org, first_name=name, personal_identity_code=code, date_of_birth=BORN)

    sentry_canary.delay(client.pk)

    def from_the_task(event):
        return "celery_task_id" in event.get("tags", {})

    errors = sentry_stand_in.wait_for(from_the_task)
    assert errors, f"no event from the task ({len(sentry_stand_in.bodies)} envelopes)"
    sentry_sdk.flush(timeout=10)
    assert_nothing_of((name, code), sentry_stand_in)
    raised = errors[0]["exception"]["values"][-1]
    assert (raised["type"], raised["value"]) == ("ValueError", "[Filtered]")
    assert raised["stacktrace"]["frames"][-1]["function"] == "sentry_canary"
    assert "extra" not in errors[0]  # Celery's "celery-job" holds the task's arguments
    assert errors[0]["tags"]["request_id"]  # the task's own, in its log lines too


@pytest.mark.parametrize("dsn", ["", "http://publickey@127.0.0.1:9/1"])
def test_sentry__dsn_from_the_environment__reporting_on_only_when_set(dsn):
    """Every process that loads the settings (gunicorn, the worker, the beat) reports, and
    only when SENTRY_DSN is set."""
    env = {**os.environ, "SENTRY_DSN": dsn, "SENTRY_ENVIRONMENT": "staging"}
    probe = (
        "import django, sentry_sdk; django.setup(); c = sentry_sdk.get_client(); "
        "print(c.is_active(), c.options['environment'], bool(c.options['send_default_pii']), "
        "c.options['include_local_variables'], c.options['max_request_body_size'])"
    )
    out = subprocess.run(  # noqa: S603 (our own interpreter and probe)
        [sys.executable, "-c", probe],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] == str(bool(dsn))
    if dsn:
        assert out[1:] == ["staging", "False", "False", "never"]
