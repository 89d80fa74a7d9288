"""What a user sees when Silta itself fails (config/urls.py: handler500).

- The database cannot be reached (connecting fails, the server went away): 503 with
  `Retry-After`, the 503 page or, on the API, application/problem+json
  (`service_unavailable`). The broken connection is dropped at the end of the request and,
  with CONN_HEALTH_CHECKS, a persistent one is checked before its first use in the next
  request, so the first request after the database is back succeeds.
- Anything else unexpected: 500, the 500 page or problem+json (`server_error`).

Both pages are in the request's language (the language cookie, then Accept-Language, as
LocaleMiddleware chooses it everywhere else) and carry the request id to quote to support.
Neither touches the database: the templates are rendered with a plain context (no context
processors, no `user`), and if even that fails a minimal page is sent instead.

Django calls the handler inside its `except` block, so the exception is sys.exc_info()'s.
"""

from __future__ import annotations

import json
import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template import loader
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django_guid import get_guid

logger = logging.getLogger("silta.errors")

PROBLEM = "application/problem+json"
# Seconds a client should wait before trying again while the database is unreachable: a
# PostgreSQL restart or fail-over takes about this long.
RETRY_AFTER_SECONDS = 30

# SQLSTATEs that mean the server is not there for us: connection exceptions (class 08),
# and the server shutting down, crashed, or still starting (57P01-57P03). A client-side
# failure to connect (refused, timed out, closed under us) has no SQLSTATE at all.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03"}


def database_unreachable(exc: BaseException | None) -> bool:
    """Whether `exc` says the database cannot be reached (and trying later may work), as
    opposed to an error in a statement (a deadlock, a lock timeout, bad data)."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 when the database is unreachable, otherwise a 500."""
    unavailable = database_unreachable(sys.exc_info()[1])
    status = 503 if unavailable else 500
    with translation.override(_language_of(request)):
        response = _problem(status) if _is_api(request) else _page(request, status)
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


def _language_of(request: HttpRequest) -> str:
    # LocaleMiddleware has normally chosen it already; it reads no database either way.
    return getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(request)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _texts(status: int) -> tuple[str, str]:
    if status == 503:
        return (
            _("Silta is not available just now"),
            _("Silta cannot reach its database just now. Try again in a moment."),
        )
    return (
        _("Something went wrong"),
        _(
            "Silta could not finish the request because of an error in Silta itself. "
            "The error has been logged."
        ),
    )


def _problem(status: int) -> HttpResponse:
    """The same shape as the API's other errors (api/errors.py), without DRF: the request
    may have failed before DRF had a say."""
    code = "service_unavailable" if status == 503 else "server_error"
    body = {
        "type": "about:blank",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": _texts(status)[1],
        "request_id": get_guid() or "",
    }
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM)


def _page(request: HttpRequest, status: int) -> HttpResponse:
    context = {
        "request": request,
        "request_id": get_guid() or "",
        # The header's language switch posts a form; the token comes from the cookie.
        "csrf_token": get_token(request),
    }
    try:
        # A plain dict: no context processors, so no `user` and no database.
        html = loader.get_template(f"{status}.html").render(context)
    except Exception:  # the error page must not fail in turn
        logger.exception("the %s page could not be rendered; a plain one was sent", status)
        title, detail = _texts(status)
        html = format_html(
            '<!DOCTYPE html><html lang="{}"><head><meta charset="utf-8"><title>{} – Silta'
            "</title></head><body><h1>{}</h1><p>{}</p></body></html>",
            translation.get_language(),
            title,
            title,
            detail,
        )
    return HttpResponse(html, status=status)
