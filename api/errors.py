"""Errors as application/problem+json (RFC 9457): a stable `code`, a `detail` in the
request's language, and field errors where there are any."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import DomainError

PROBLEM = "application/problem+json"


def problem(status_code: int, code: str, detail: str, **extra) -> Response:
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
        return problem(exc.http_status, exc.code, exc.detail, **exc.extra)
    if isinstance(exc, Http404 | exceptions.NotFound):
        return problem(status.HTTP_404_NOT_FOUND, "not_found", _("Not found."))
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's handler logs it and answers 500
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
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
