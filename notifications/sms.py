"""Text messages (SMS) through a provider: the interface every provider has, and the first
one, a generic HTTP SMS gateway configured by settings.

The sender (a channel's `deliver`, run by the relay) calls `send(to=..., text=..., key=...)`
and never knows which provider delivers. The key is the outbox row's idempotency key: a
retry after a failure sends the same key, so a gateway that saw the first attempt can drop
the second.

The HTTP gateway: `POST SILTA_SMS_GATEWAY_URL` with the JSON body
`{"to": "+358401234567", "text": "...", "id": "<key>"}`, the headers
`Authorization: Bearer SILTA_SMS_GATEWAY_TOKEN` and `Idempotency-Key: <key>`; any 2xx
answer is success, anything else (or no answer within SILTA_SMS_GATEWAY_TIMEOUT seconds) a
failure that the relay retries with backoff.
"""

from __future__ import annotations

from typing import Protocol

import httpx
from django.conf import settings


class SmsError(Exception):
    """The provider did not take the message; the relay retries it (same key)."""


class SmsProvider(Protocol):
    def send(self, *, to: str, text: str, key: str) -> None:
        """Deliver one message, or raise SmsError."""


class HttpSmsGateway:
    """A generic HTTP SMS gateway (the first provider)."""

    def __init__(self, *, url: str, token: str, timeout: float) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, *, to: str, text: str, key: str) -> None:
        headers = {"Idempotency-Key": key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = httpx.post(
                self.url,
                json={"to": to, "text": text, "id": key},
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise SmsError(f"SMS gateway unreachable: {type(exc).__name__}") from exc
        if not response.is_success:
            raise SmsError(f"SMS gateway answered {response.status_code}")


def provider() -> SmsProvider | None:
    """The configured provider, or None when SMS is not in use (no gateway URL)."""
    if not settings.SILTA_SMS_GATEWAY_URL:
        return None
    return HttpSmsGateway(
        url=settings.SILTA_SMS_GATEWAY_URL,
        token=settings.SILTA_SMS_GATEWAY_TOKEN,
        timeout=settings.SILTA_SMS_GATEWAY_TIMEOUT,
    )


def sms_in_use() -> bool:
    return bool(settings.SILTA_SMS_GATEWAY_URL)


def send(*, to: str, text: str, key: str) -> None:
    """Send through the configured provider; SmsError when there is none."""
    found = provider()
    if found is None:
        raise SmsError("no SMS gateway is configured (SILTA_SMS_GATEWAY_URL)")
    found.send(to=to, text=text, key=key)
