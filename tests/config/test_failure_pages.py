"""When something breaks: the database unreachable answers 503 with Retry-After (the page in
the user's language, problem+json on the API), the first request after it is back
succeeds, and an unexpected exception answers the 500 page (fi/sv/en) or problem+json.

The database goes away for real: Silta's connection runs through a TCP proxy in front of
the test's PostgreSQL, and cutting the proxy refuses new connections and breaks the open
one, as a stopped or restarted server does. Requests go through Django's own WSGI handler,
not the test client, so the connection handling between requests (closing a broken
connection, the health check of a persistent one) is the one a server runs."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from http.cookies import SimpleCookie

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import path
from rest_framework.views import APIView

from cases.enums import CaseState
from config.urls import handler500
from config.urls import urlpatterns as silta_urlpatterns
from tests.factories import case_in_state, make_org

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TITLE_503 = {
    "fi": "Silta ei ole juuri nyt käytettävissä",
    "sv": "Silta är inte tillgänglig just nu",
    "en": "Silta is not available just now",
}
TITLE_500 = {"fi": "Jotain meni vikaan", "sv": "Något gick fel", "en": "Something went wrong"}
DETAIL_503 = {
    "fi": "Silta ei juuri nyt saa yhteyttä tietokantaansa. Yritä hetken kuluttua uudelleen.",
    "en": "Silta cannot reach its database just now. Try again in a moment.",
}


# -- an unexpected exception: a page and an API view with a bug, beside Silta's own URLs
# (this module is the URL conf of the 500 tests, with Silta's handler500).
def _page_with_a_bug(request):
    raise RuntimeError("secret detail of a bug")


class _ApiWithABug(APIView):
    def get(self, request):
        raise RuntimeError("secret detail of a bug")


urlpatterns = [
    path("bug/", _page_with_a_bug),
    path("api/v1/bug/", _ApiWithABug.as_view()),
    *silta_urlpatterns,
]
__all__ = ["handler500", "urlpatterns"]


class Proxy:
    """A TCP proxy to the test's PostgreSQL. `cut()`: connections refused and the open
    ones broken (the database is down); `restore()`: back on the same port;
    `drop_connections()`: the open ones broken, new ones accepted (a restart while idle)."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.port = 0
        self._listen()

    def _listen(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.open = True
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while self.open:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            with self.lock:
                self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()
        listener.close()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def drop_connections(self) -> None:
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def cut(self) -> None:
        self.open = False
        self.listener.close()
        self.drop_connections()

    def restore(self) -> None:
        self._listen()


@pytest.fixture
def database(transactional_db):
    """Silta's database connection, through the proxy, persistent (CONN_MAX_AGE) as in
    production."""
    settings_dict = connection.settings_dict
    saved = {key: settings_dict.get(key) for key in ("HOST", "PORT", "CONN_MAX_AGE")}
    proxy = Proxy((saved["HOST"] or "127.0.0.1", int(saved["PORT"] or 5432)))
    connection.close()
    settings_dict.update(HOST="127.0.0.1", PORT=str(proxy.port), CONN_MAX_AGE=60)
    try:
        yield proxy
    finally:
        connection.close()
        settings_dict.update(saved)
        proxy.cut()


class Server:
    """Requests through Django's WSGI handler, as gunicorn's worker makes them: between
    requests Django closes a broken connection and health-checks a persistent one."""

    def __init__(self, **cookies: str):
        self.handler = WSGIHandler()
        self.cookies = cookies

    def get(self, url: str, **headers: str):
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        environ = RequestFactory().get(url, headers={"Cookie": cookie, **headers}).environ
        started = {}

        def start_response(status, response_headers, exc_info=None):
            started["status"] = int(status.split()[0])
            started["headers"] = dict(response_headers)

        result = self.handler(environ, start_response)
        try:
            body = b"".join(result).decode()
        finally:
            result.close()  # request_finished: Django's connection housekeeping
        return started["status"], started["headers"], body


def _signed_in(user, **cookies) -> Server:
    client = Client()
    client.force_login(user)
    session: SimpleCookie = client.cookies
    return Server(sessionid=session["sessionid"].value, **cookies)


def _lang(html: str) -> str:
    return re.search(r'<html lang="([a-z-]+)"', html).group(1)


def test_database_down__page_503_in_finnish_with_retry_after__then_back(database):
    org = make_org()
    case_in_state(org, CaseState.ACTIVE)
    caseworker = _signed_in(org.caseworker)
    assert caseworker.get("/cases/")[0] == 200

    database.cut()
    status, headers, html = caseworker.get("/cases/")
    assert status == 503
    assert int(headers["Retry-After"]) > 0
    assert headers["Content-Type"].startswith("text/html")
    assert _lang(html) == "fi"
    assert TITLE_503["fi"] in html
    assert "no-store" in headers["Cache-Control"]
    # Again while it is still down: the same answer, not a different failure.
    assert caseworker.get("/cases/")[0] == 503

    database.restore()
    status, _headers, html = caseworker.get("/cases/")
    assert status == 200, html[:300]


@pytest.mark.parametrize(
    ("cookies", "headers", "language"),
    [
        ({"django_language": "sv"}, {}, "sv"),
        ({}, {"Accept-Language": "en-GB,en;q=0.9"}, "en"),
        ({}, {"Accept-Language": "sv-FI"}, "sv"),
    ],
)
def test_database_down__page_503_in_the_users_language(database, cookies, headers, language):
    org = make_org()
    worker = _signed_in(org.caseworker, **cookies)
    database.cut()
    status, response_headers, html = worker.get("/cases/", **headers)
    assert status == 503 and "Retry-After" in response_headers
    assert _lang(html) == language
    assert TITLE_503[language] in html


def test_database_down__api_answers_problem_json_503__then_back(database):
    org = make_org()
    case = case_in_state(org, CaseState.ACTIVE)
    caseworker = _signed_in(org.caseworker)
    assert caseworker.get(f"/api/v1/cases/{case.pk}/")[0] == 200

    database.cut()
    for language, headers in (("fi", {}), ("en", {"Accept-Language": "en"})):
        status, response_headers, body = caseworker.get(f"/api/v1/cases/{case.pk}/", **headers)
        assert status == 503
        assert response_headers["Content-Type"] == "application/problem+json"
        assert int(response_headers["Retry-After"]) > 0
        problem = json.loads(body)
        assert problem["status"] == 503 and problem["code"] == "service_unavailable"
        assert problem["detail"] == DETAIL_503[language]
        assert problem["request_id"] == response_headers["X-Request-ID"]

    database.restore()
    status, _headers, body = caseworker.get(f"/api/v1/cases/{case.pk}/")
    assert status == 200 and json.loads(body)["id"] == case.pk


def test_database_restarted_while_idle__the_first_request_after_succeeds(database):
    """A persistent connection the server dropped (a restart between two requests) is
    found broken by the health check and replaced before the request uses it."""
    org = make_org()
    case = case_in_state(org, CaseState.ACTIVE)
    caseworker = _signed_in(org.caseworker)
    assert caseworker.get(f"/api/v1/cases/{case.pk}/")[0] == 200
    assert connection.connection is not None  # kept open between requests

    database.drop_connections()
    assert caseworker.get(f"/api/v1/cases/{case.pk}/")[0] == 200
    assert caseworker.get("/cases/")[0] == 200


# -- an unexpected exception


@pytest.fixture
def with_a_bug(settings):
    settings.ROOT_URLCONF = __name__


@pytest.mark.parametrize(
    ("cookies", "headers", "language"),
    [
        ({}, {}, "fi"),
        ({"django_language": "sv"}, {}, "sv"),
        ({}, {"Accept-Language": "en"}, "en"),
    ],
)
def test_unexpected_exception__500_page_in_the_users_language(
    with_a_bug, cookies, headers, language
):
    org = make_org()
    status, response_headers, html = _signed_in(org.caseworker, **cookies).get("/bug/", **headers)
    assert status == 500
    assert "Retry-After" not in response_headers
    assert _lang(html) == language
    assert TITLE_500[language] in html
    assert response_headers["X-Request-ID"] in html  # to quote to the support
    assert "secret detail" not in html and "Traceback" not in html


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_unexpected_exception__api_answers_problem_json_500(with_a_bug, language):
    org = make_org()
    server = _signed_in(org.caseworker, django_language=language)
    status, headers, body = server.get("/api/v1/bug/")
    assert status == 500
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert (problem["status"], problem["code"]) == (500, "server_error")
    assert problem["title"] == "server error"
    assert problem["detail"] and "secret detail" not in body
    if language != "en":
        assert "Silta could not" not in problem["detail"]  # translated


def test_500_page__renders_without_the_database(with_a_bug, django_db_blocker):
    """The 500 page of a signed-in user's request needs no database: no user, no inbox
    count, no session read while it renders."""
    org = make_org()
    server = _signed_in(org.caseworker, django_language="sv")
    connection.close()  # Django's own housekeeping between requests is not under test here
    with django_db_blocker.block():
        status, _headers, html = server.get("/cases/")
    assert status == 500
    assert _lang(html) == "sv" and TITLE_500["sv"] in html
