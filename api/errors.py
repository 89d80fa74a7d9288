"""Errors as application/problem+json (RFC 9457): a stable `code`, a `detail` in the
request's language, and field errors where there are any.

`error_table()` is the one list of every (status, code) the API answers with. The handler
below answers only with its entries (a code missing from it is a bug, logged), and the
OpenAPI schema declares each operation's error responses from it (api/schema.py), so the
contract and the behaviour cannot drift apart."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import DomainError

PROBLEM = "application/problem+json"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorKind:
    """One error the API can answer with: its status, its stable code, when it happens,
    and the extra members its problem document carries."""

    status: int
    code: str
    meaning: str
    members: tuple[str, ...] = ()


# Errors raised by the request handling itself (DRF, the router, the idempotency layer
# and the handler's own mapping). Domain errors are added from core.errors' classes.
_FRAMEWORK_ERRORS = (
    ErrorKind(400, "invalid", "A field is missing or wrong; `errors` names each.", ("errors",)),
    ErrorKind(400, "parse_error", "The body is not JSON this API can read."),
    ErrorKind(401, "not_authenticated", "No credentials were given."),
    ErrorKind(401, "authentication_failed", "The token is unknown, expired or revoked."),
    ErrorKind(403, "permission_denied", "The user may not use this endpoint."),
    ErrorKind(404, "not_found", "No such object in the user's scope (or no such page)."),
    ErrorKind(405, "method_not_allowed", "The method is not offered here."),
    ErrorKind(406, "not_acceptable", "The response cannot be given in the asked format."),
    ErrorKind(413, "request_too_large", "The body is larger than the API reads (2.5 MB)."),
    ErrorKind(415, "unsupported_media_type", "The body is not application/json."),
    ErrorKind(429, "throttled", "Too many refused attempts; try again after Retry-After."),
    ErrorKind(
        500, "server_error", "An error in Silta itself; quote `request_id`.", ("request_id",)
    ),
    ErrorKind(
        503,
        "service_unavailable",
        "The database cannot be reached; try again after Retry-After.",
        ("request_id",),
    ),
)

# What each domain error class carries beside code and detail (its `extra`).
_DOMAIN_MEMBERS = {
    "invalid": ("errors",),
    "transition_not_allowed": ("action", "state", "allowed"),
    "actor_not_allowed": ("action",),
    "criteria_not_met": ("reasons",),
    "routing_needs_manual_choice": ("postal_code",),
    "domain_error": ("header",),
}


def _domain_classes(root: type[DomainError] = DomainError) -> list[type[DomainError]]:
    found = [root]
    for sub in root.__subclasses__():
        found.extend(_domain_classes(sub))
    return found


def error_table() -> tuple[ErrorKind, ...]:
    """Every error the API answers with, sorted by status and code. Read when the schema is
    built and when an unknown code is checked, after every app has loaded its errors."""
    kinds = {(kind.status, kind.code): kind for kind in _FRAMEWORK_ERRORS}
    for cls in _domain_classes():
        key = (cls.http_status, cls.code)
        if key not in kinds:
            doc = (cls.__doc__ or cls.__name__).strip().splitlines()[0]
            kinds[key] = ErrorKind(*key, doc, _DOMAIN_MEMBERS.get(cls.code, ()))
    return tuple(sorted(kinds.values(), key=lambda kind: (kind.status, kind.code)))


class ProblemSerializer(serializers.Serializer):
    """An error answer (RFC 9457 problem details), application/problem+json."""

    type = serializers.CharField(help_text="Always about:blank.")
    title = serializers.CharField(help_text="The code in words.")
    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(help_text="Stable; what a program branches on.")
    detail = serializers.CharField(help_text="For people, in the request's language.")
    # Only describes the document (never validates data), so this may shadow .errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="`invalid`: the messages for each field (or non_field_errors).",
    )
    action = serializers.CharField(required=False, help_text="The action that was refused.")
    state = serializers.CharField(
        required=False, help_text="`transition_not_allowed`: the object's current state."
    )
    allowed = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="`transition_not_allowed`: the actions allowed in that state.",
    )
    reasons = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="`criteria_not_met`: why the client is not ready.",
    )
    postal_code = serializers.CharField(
        required=False, help_text="`routing_needs_manual_choice`: the postal code."
    )
    header = serializers.CharField(required=False, help_text="The header that was refused.")
    request_id = serializers.CharField(
        required=False, help_text="`server_error`, `service_unavailable`: quote it to support."
    )


def problem(status_code: int, code: str, detail: str, **extra) -> Response:
    if (status_code, code) not in {(kind.status, kind.code) for kind in error_table()}:
        logger.error("API error %s %s is not in api.errors.error_table()", status_code, code)
    body = {
        "type": "about:blank",
        "title": code.replace("_", " "),
        "status": status_code,
        "code": code,
        "detail": detail,
        **extra,
    }
    return Response(body, status=status_code, content_type=PROBLEM)


def problem_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        extra = dict(exc.extra)
        if "errors" in extra:
            extra["errors"] = {field: _messages(text) for field, text in extra["errors"].items()}
        return problem(exc.http_status, exc.code, exc.detail, **extra)
    if isinstance(exc, Http404 | exceptions.NotFound):
        return problem(status.HTTP_404_NOT_FOUND, "not_found", _("Not found."))
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's handler logs it and answers 500
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        errors = {field: _messages(messages) for field, messages in errors.items()}
        return problem(
            response.status_code, "invalid", _("Check the fields marked."), errors=errors
        )
    code = getattr(exc, "default_code", "error")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    problem_response = problem(response.status_code, code, detail)
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            problem_response[header] = response[header]
    return problem_response


def _messages(messages) -> list[str]:
    """A field's messages as a flat list of strings, as the schema declares them (a nested
    serializer's errors are joined under their parent field)."""
    if isinstance(messages, dict):
        return [f"{key}: {text}" for key, inner in messages.items() for text in _messages(inner)]
    if isinstance(messages, list | tuple):
        return [text for inner in messages for text in _messages(inner)]
    return [str(messages)]
