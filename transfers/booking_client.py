"""The client of an external booking system: what a request carries (the least the
front desk needs: no name, no identity code), its HMAC signature and the POST itself."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
from django.conf import settings

from cases.models import Team
from notifications.services import DeliveryError

from . import handoff
from .enums import InterpreterStatus
from .models import HandoverBooking

SIGNATURE_HEADER = "X-Silta-Signature"


def request_body(booking: HandoverBooking, *, action: str, key: str) -> dict[str, Any]:
    """What the booking system needs, and nothing more: no name, no identity code."""
    transfer = booking.transfer
    case = transfer.case
    client = case.client
    body = {
        "action": action,
        "idempotency_key": key,
        "booking_id": booking.pk,
        "case_reference": case.reference,
        "receiving_team": transfer.receiving_team.code,
        "language": client.language,
        "interpreter_needed": booking.interpreter_status != InterpreterStatus.NOT_NEEDED,
        "interpreter_language": booking.interpreter_language,
        "escorted": transfer.escorted,
        "attendees": handoff.attendees(transfer),
        "ppt_coordinator": case.ppt_coordinator if client.is_ppt else "",
    }
    if action == "cancel":
        body["external_reference"] = booking.external_ref
    return body


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(team: Team, *, key: str, body: dict[str, Any]) -> dict[str, Any]:
    secret = settings.SILTA_BOOKING_WEBHOOK_SECRET
    if not secret:
        raise DeliveryError("SILTA_BOOKING_WEBHOOK_SECRET is not set")
    raw = json.dumps(body, sort_keys=True).encode()
    try:
        response = httpx.post(
            team.booking_webhook_url,
            content=raw,
            timeout=settings.SILTA_BOOKING_WEBHOOK_TIMEOUT,
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": key,
                SIGNATURE_HEADER: sign(raw, secret),
            },
        )
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code >= 300:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:300]}")
    try:
        return response.json() if response.content else {}
    except ValueError:
        return {}
