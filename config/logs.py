"""Logs: one JSON object per line on stdout (LOG_FORMAT=json, the default in production),
or plain text for a developer's terminal (LOG_FORMAT=text, the default with DJANGO_DEBUG).

Every line carries the request id (django-guid; a task carries the id of the request that
queued it, or one of its own). One line per request (`RequestLine`: method, route, status,
duration, user id) and one per task (monitoring/signals.py: task name, id, duration,
outcome). A user is an id, never a name; a route is the URL pattern (`cases/<int:pk>/`),
never the path with its ids; no query string or body is logged. Exceptions, in tracebacks
and in a line's arguments, pass through config/redact.py. README, "Logs", describes the
fields for the city's log platform.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

import sentry_sdk
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty
from django_guid import get_guid
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from config import metrics
from config.redact import format_exception, safe_exception

logger = logging.getLogger("silta.request")

# Probes and scrapes answer every few seconds: their lines are DEBUG, so LOG_LEVEL=INFO
# leaves them out (they are still counted in the metrics).
QUIET_ROUTES = frozenset({"healthz", "readyz", "metrics"})

_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter with Silta's field names and safe tracebacks. A log
    record's `request` (Django's request, whose repr holds the query string) is left out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        kwargs.setdefault(
            "rename_fields",
            {"levelname": "level", "name": "logger", "correlation_id": "request_id"},
        )
        super().__init__(*args, **kwargs)

    def formatException(self, ei: Any) -> str:
        return format_exception(ei)


class TextFormatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        return format_exception(ei)


class SafeExceptionArguments(logging.Filter):
    """An exception given as a log line's argument (`logger.warning("... %s", exc)`) is
    written as its type and the message config/redact.py allows."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "celery.app.trace" and isinstance(record.args, dict):
            _safe_task_failure(record)
            return True
        args = record.args
        if isinstance(args, dict) and any(isinstance(v, BaseException) for v in args.values()):
            record.args = {k: _safe(v) for k, v in args.items()}
        elif isinstance(args, tuple) and any(isinstance(v, BaseException) for v in args):
            record.args = tuple(_safe(v) for v in args)
        return True


def _safe_task_failure(record: logging.LogRecord) -> None:
    """Celery's line for a failed task ("... raised unexpected: %(exc)s") carries the
    exception's repr and the traceback as text, in its arguments and in `data`; the
    exception is written as config/redact.py allows, the traceback only as exc_info, and
    the task's arguments are left out."""
    error = record.exc_info[1] if record.exc_info else None
    safe = safe_exception(error) if error is not None else "[Filtered]"
    context = dict(record.args)  # type: ignore[arg-type]
    for key in ("exc", "traceback", "args", "kwargs"):
        if key in context:
            context[key] = safe if key == "exc" else "[Filtered]"
    record.args = context
    if isinstance(getattr(record, "data", None), dict):
        record.data = context


def _safe(value: object) -> object:
    return safe_exception(value) if isinstance(value, BaseException) else value


def route_of(request: HttpRequest) -> str:
    """The URL pattern that served the request, e.g. `api/v1/cases/<pk>/`; DRF's regex
    routes are written the same way. `static/` for a static file, `<unmatched>` when no
    pattern matched."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        if request.path.startswith(f"/{settings.STATIC_URL.lstrip('/')}"):
            return "static/"  # served by WhiteNoise before any URL pattern
        return "<unmatched>"
    route = _GROUP.sub(r"<\1>", match.route)
    return route.replace("^", "").replace("$", "").replace("\\", "")


def user_id_of(request: HttpRequest) -> int | None:
    """The signed-in user's id if the request has already looked the user up (a session
    or a token); never a database query of its own."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None
    if not getattr(user, "is_authenticated", False):
        return None
    return user.pk


class RequestLine:
    """One log line and one metrics observation per request. Second in MIDDLEWARE: inside
    django-guid's (the request id is set), around everything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # An error report names the request id, to find the request's log lines.
        sentry_sdk.set_tag("request_id", get_guid())
        began = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - began
        route = route_of(request)
        method = request.method or "GET"
        metrics.observe_request(
            route=route, method=method, status=response.status_code, seconds=seconds
        )
        duration_ms = round(seconds * 1000, 1)
        status = response.status_code
        level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
        if status >= 500:
            level = logging.WARNING
        logger.log(
            level,
            "%s %s %s %.1f ms",
            method,
            route,
            status,
            duration_ms,
            extra={
                "event": "request",
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "user_id": user_id_of(request),
            },
        )
        return response
