"""Error reports to Sentry, from the web app, the worker and the beat: off unless SENTRY_DSN
is set, and never with client data.

Set up from the settings module, so every process that loads Silta's settings (gunicorn,
`celery worker`, `celery beat`, management commands) reports. As in City of Helsinki's
linkedevents, sentry-sdk's own EventScrubber runs with a denylist that names the fields of
Silta's clients; then `scrub_event` rebuilds the event from an allow-list, so what is not
named below never leaves, whatever an integration adds in a later version:

- the exception's type, module and stack (file, function, line and the code's own source
  lines), its message only as config/redact.py allows; never local variables;
- the request's method and host (no path, query string, body, cookies or headers), and
  the route (the URL pattern, as the event's transaction);
- log messages (an event from an error log line, and breadcrumbs) as their template in the
  code (`"due sweep %s: %d cases fell due"`), never the arguments formatted into it;
  breadcrumbs' data and every `extra` dropped (Celery's holds the task's arguments);
- tags: the request id (to find the request's log lines), the task's name and id;
- release, environment, server name, the runtime and the SDK.

No performance tracing: transactions and spans are dropped (their SQL and URLs are not
worth the risk); `send_default_pii` is off, so no user, address or cookie is collected.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from config.redact import FILTERED, redact_text, resolve, safe_message

# Field names of client data, for sentry-sdk's EventScrubber (case-insensitive, any depth).
CLIENT_FIELDS = [
    "phone_number",
    "first_name",
    "last_name",
    "name",
    "names",
    "full_name",
    "identity_code",
    "hetu",
    "ssn",
    "date_of_birth",
    "birth_date",
    "address",
    "street_address",
    "postal_code",
    "phone",
    "phone_number",
    "email",
    "language",
    "languages",
    "native_language",
    "nationality",
    "client",
    "client_name",
    "note",
    "notes",
    "plan",
    "reason",
    "text",
]

_EVENT_KEYS = {
    "event_id",
    "timestamp",
    "level",
    "platform",
    "logger",
    "release",
    "environment",
    "server_name",
    "dist",
    "transaction",
    "transaction_info",
    "fingerprint",
    "type",
    "sdk",
}
_FRAME_KEYS = {
    "filename",
    "abs_path",
    "function",
    "module",
    "lineno",
    "colno",
    "in_app",
    "context_line",
    "pre_context",
    "post_context",
    "package",
    "platform",
}
_TAGS = {"request_id", "celery_task_id", "celery_task_name", "task_name"}
_CONTEXTS = {"runtime", "os"}
# Breadcrumbs whose message is code, not data: the SQL of a query (values are parameters),
# a Redis command (sentry-sdk keeps only its name and key without send_default_pii).
_CRUMB_MESSAGE_KEPT = {"query", "redis"}


def init(*, dsn: str, environment: str, release: str) -> bool:
    """Starts reporting to Sentry when a DSN is given; returns whether it did."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[
            DjangoIntegration(
                transaction_style="url",
                middleware_spans=False,
                signals_spans=False,
                cache_spans=False,
            ),
            CeleryIntegration(monitor_beat_tasks=False, propagate_traces=False),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
        # send_default_pii is left at its default, off (sentry-sdk 2.7x warns when it is
        # named, in favour of `data_collection`); no user, cookie or address is collected.
        include_local_variables=False,
        include_source_context=True,
        max_request_body_size="never",
        max_breadcrumbs=50,
        traces_sample_rate=None,
        enable_logs=False,
        event_scrubber=EventScrubber(
            denylist=DEFAULT_DENYLIST + CLIENT_FIELDS,
            pii_denylist=DEFAULT_PII_DENYLIST,
            recursive=True,
        ),
        before_send=scrub_event,
        before_send_transaction=_drop,
        before_breadcrumb=scrub_breadcrumb,
    )
    _report_from_tasks_already_imported()
    return True


def _report_from_tasks_already_imported() -> None:
    """sentry-sdk reports a task's error by wrapping Celery's `build_tracer`; a worker's
    consumer that imported it by name before this ran (the solo and threads pools build
    their tracers there) is pointed at the wrapped one."""
    import sys

    import celery.app.trace

    consumer = sys.modules.get("celery.worker.consumer.consumer")
    if consumer is not None:
        consumer.build_tracer = celery.app.trace.build_tracer  # type: ignore[attr-defined]


def _drop(event: Any, hint: Any) -> None:
    return None


def scrub_event(event: Any, hint: dict[str, Any] | None = None) -> Any:
    """The event rebuilt from what may leave (the module's docstring)."""
    safe: dict[str, Any] = {key: event[key] for key in _EVENT_KEYS if key in event}
    if isinstance(safe.get("sdk"), dict):
        safe["sdk"] = {k: v for k, v in safe["sdk"].items() if k in ("name", "version")}
    if "exception" in event:
        safe["exception"] = {"values": [_exception(v) for v in _values(event["exception"])]}
    if "threads" in event:
        safe["threads"] = {
            "values": [
                {
                    **{k: t[k] for k in ("id", "crashed", "current", "main") if k in t},
                    **({"stacktrace": _stacktrace(t["stacktrace"])} if t.get("stacktrace") else {}),
                }
                for t in _values(event["threads"])
            ]
        }
    if isinstance(event.get("logentry"), dict):
        template = event["logentry"].get("message")
        if isinstance(template, str):
            safe["logentry"] = {"message": template}
    if isinstance(event.get("message"), str):
        safe["message"] = redact_text(event["message"])
    if isinstance(event.get("request"), dict):
        safe["request"] = _request(event["request"])
    if isinstance(event.get("tags"), dict):
        safe["tags"] = {k: str(v) for k, v in event["tags"].items() if k in _TAGS}
    if isinstance(event.get("contexts"), dict):
        safe["contexts"] = {k: v for k, v in event["contexts"].items() if k in _CONTEXTS}
    if "breadcrumbs" in event:
        safe["breadcrumbs"] = {"values": [_crumb(c) for c in _values(event["breadcrumbs"])]}
    return safe


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """A breadcrumb as it is kept: a log record's template instead of its message."""
    record = (hint or {}).get("log_record")
    safe = _crumb(crumb)
    if record is not None:
        safe["message"] = record.msg if isinstance(record.msg, str) else FILTERED
    return safe


def _crumb(crumb: Any) -> dict[str, Any]:
    if not isinstance(crumb, dict):
        return {}
    safe = {k: crumb[k] for k in ("type", "category", "level", "timestamp") if k in crumb}
    message = crumb.get("message")
    if isinstance(message, str) and (
        crumb.get("type") == "log" or crumb.get("category") in _CRUMB_MESSAGE_KEPT
    ):
        # A log breadcrumb's message is already its template (scrub_breadcrumb).
        safe["message"] = message
    return safe


def _values(container: Any) -> list[Any]:
    if isinstance(container, dict):
        container = container.get("values")
    return [v for v in container or [] if isinstance(v, dict)]


def _exception(value: dict[str, Any]) -> dict[str, Any]:
    safe: dict[str, Any] = {k: value[k] for k in ("type", "module", "mechanism") if k in value}
    if isinstance(safe.get("mechanism"), dict):
        safe["mechanism"] = {
            k: v for k, v in safe["mechanism"].items() if k in ("type", "handled", "synthetic")
        }
    cls = resolve(value.get("module") or "builtins", value.get("type"))
    safe["value"] = safe_message(cls, str(value.get("value") or ""))
    if value.get("stacktrace"):
        safe["stacktrace"] = _stacktrace(value["stacktrace"])
    return safe


def _stacktrace(stacktrace: Any) -> dict[str, Any]:
    frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    return {
        "frames": [
            {k: frame[k] for k in _FRAME_KEYS if k in frame}
            for frame in frames or []
            if isinstance(frame, dict)
        ]
    }


def _request(request: dict[str, Any]) -> dict[str, Any]:
    safe: dict[str, Any] = {}
    if isinstance(request.get("method"), str):
        safe["method"] = request["method"]
    if isinstance(request.get("url"), str):
        # The host only: the route is the event's transaction; a path may hold what a user
        # typed into the address bar.
        parts = urlsplit(request["url"])
        safe["url"] = urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
    return safe
