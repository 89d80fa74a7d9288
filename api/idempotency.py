"""Idempotency-Key for transition requests: a replay returns the first answer without a
second transition; the same key with another request is refused (422)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response

from api.models import IdempotencyRecord
from audit.access import LoggedRefusal, collect_logged_subjects, log_access
from audit.models import AccessOutcome
from cases.selectors import cases_visible_to, clients_visible_to
from core import clock
from core.errors import ActorNotAllowed, DomainError

HEADER = "Idempotency-Key"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    http_status = 422

    def __init__(self) -> None:
        super().__init__(_("This Idempotency-Key was used for a different request."))


def fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _valid_key(request) -> str:
    key = request.headers.get(HEADER, "").strip()
    if len(key) > 200 or not key.isprintable():
        raise DomainError(
            _("An Idempotency-Key is printable text of at most 200 characters."),
            header=HEADER,
        )
    return key


def _still_visible(user, subjects: list[list[int | None]]) -> bool:
    cases = {case for _client, case in subjects if case is not None}
    clients = {client for client, case in subjects if case is None and client is not None}
    return cases_visible_to(user).filter(pk__in=cases).count() == len(cases) and (
        clients_visible_to(user).filter(pk__in=clients).count() == len(clients)
    )


def _replay(request, record: IdempotencyRecord) -> Response:
    """The stored answer, shown again: only while the user may still see what it shows,
    and with its access-log rows, as any other read of that data."""
    subjects = [tuple(pair) for pair in record.subjects]
    if not _still_visible(request.user, record.subjects):
        log_access(
            user=request.user, action="api_replay", outcome=AccessOutcome.DENIED, subjects=subjects
        )
        raise exceptions.PermissionDenied()
    log_access(user=request.user, action="api_replay", subjects=subjects)
    return Response(record.body, status=record.status_code)


def idempotent(request, run: Callable[[], Response]) -> Response:
    """Run `run` once per (user, key). The record is written in the same transaction as the
    transition, so a request that fails leaves no record and may be sent again; a second
    request with the same key waits for the first on the unique index, then replays.

    A refusal (ActorNotAllowed, or a LoggedRefusal such as an identity code held outside
    the user's scope) is not an answer to replay either, but the access-log rows and the
    notice `run` wrote for it must stay: the record goes and the rest commits."""
    key = _valid_key(request)
    if not key:
        return run()
    digest = fingerprint(request)
    refused = replayed = None
    with transaction.atomic():
        record, created = IdempotencyRecord.objects.get_or_create(
            user=request.user,
            key=key,
            defaults={"fingerprint": digest, "status_code": 0, "created_at": clock.now()},
        )
        if not created:
            if record.fingerprint != digest:
                raise IdempotencyKeyReused()
            replayed = record
        else:
            try:
                with collect_logged_subjects() as shown:
                    response = run()
            except (ActorNotAllowed, LoggedRefusal) as exc:
                record.delete()
                refused = exc
            else:
                record.status_code = response.status_code
                record.body = response.data
                record.subjects = [list(pair) for pair in dict.fromkeys(shown)]
                record.save(update_fields=["status_code", "body", "subjects"])
    if refused is not None:
        raise refused
    if replayed is not None:
        return _replay(request, replayed)  # its rows, allowed or denied, commit on their own
    return response
