"""Idempotency-Key for transition requests: a replay returns the first answer without a
second transition; the same key with another request is refused (422)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.response import Response

from api.models import IdempotencyRecord
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


def idempotent(request, run: Callable[[], Response]) -> Response:
    """Run `run` once per (user, key). The record is written in the same transaction as the
    transition, so a request that fails leaves no record and may be sent again; a second
    request with the same key waits for the first on the unique index, then replays.

    A refusal (ActorNotAllowed) is not an answer to replay either, but the denied
    access-log row `run` wrote for it must stay: the record goes and the rest commits."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return run()
    if len(key) > 200:
        raise DomainError(_("An Idempotency-Key has at most 200 characters."))
    digest = fingerprint(request)
    refused = None
    with transaction.atomic():
        record, created = IdempotencyRecord.objects.get_or_create(
            user=request.user,
            key=key,
            defaults={"fingerprint": digest, "status_code": 0, "created_at": clock.now()},
        )
        if not created:
            if record.fingerprint != digest:
                raise IdempotencyKeyReused()
            return Response(record.body, status=record.status_code)
        try:
            response = run()
        except ActorNotAllowed as exc:
            record.delete()
            refused = exc
        else:
            record.status_code = response.status_code
            record.body = response.data
            record.save(update_fields=["status_code", "body"])
    if refused is not None:
        raise refused
    return response
