"""Sign-in throttling (django-axes, configured in config/settings.py): which failures are
counted together, which sign-ins are left to someone else, and until when a lockout lasts.

The web sign-in and the admin's go through axes' authentication backend; the API's token
check (api/authentication.py) reports a refused token the same way, without a username,
so it is counted for the address only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.http import HttpRequest

from core import clock

logger = logging.getLogger("silta.auth")


def client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address failures are counted for. Directly served,
    REMOTE_ADDR. Behind SILTA_TRUSTED_PROXIES reverse proxies, each of which appends the
    address it received the request from to X-Forwarded-For, the client's address is that
    many entries from the right: whatever a client put in the header itself stands to the
    left and is ignored. (django-ipware prefers a public address anywhere in the header to
    a private one, so a client on the city's network could write a new public address
    into it on every attempt.)"""
    remote = request.META.get("REMOTE_ADDR")
    proxies: int = settings.SILTA_TRUSTED_PROXIES
    if proxies > 0:
        chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(chain) >= proxies:
            candidate = chain[-proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                logger.warning("X-Forwarded-For without an address where expected: %r", candidate)
    return remote


def _username(credentials: dict[str, Any] | None) -> str | None:
    if not credentials:
        return None
    return credentials.get(str(getattr(settings, "AXES_USERNAME_FORM_FIELD", "username"))) or None


# The length of django-axes' username column.
_AXES_USERNAME_LENGTH = 255


def client_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the username a failure is counted for, as axes would take
    it (the credentials, else the form), cut to what axes stores. Django's sign-in form
    does not limit a username's length, and a longer one (300 characters, or 20 "ﷺ" that
    become 360 in NFKC) was a server error when axes stored it (found by
    tests/web/test_property_forms.py); no account has such a name, so the cut counts it
    all the same."""
    field = str(getattr(settings, "AXES_USERNAME_FORM_FIELD", "username"))
    given = credentials.get(field) if credentials else getattr(request, "POST", {}).get(field)
    return given[:_AXES_USERNAME_LENGTH] if isinstance(given, str) else given


def lockout_parameters(
    request_or_attempt: Any, credentials: dict[str, Any] | None = None
) -> list[str | list[str]]:
    """AXES_LOCKOUT_PARAMETERS: the configured ones (an account, an address) for a sign-in
    with a username; the address alone for one without (a refused API token), so that
    refused tokens from everywhere never add up to one shared count that locks everyone."""
    if credentials is not None and _username(credentials) is None:
        return ["ip_address"]
    configured: list[str | list[str]] = settings.SILTA_LOCKOUT_PARAMETERS
    return configured


def is_single_sign_on(request: HttpRequest | None, credentials: dict[str, Any] | None) -> bool:
    """AXES_WHITELIST_CALLABLE: a sign-in with the city's account (social-auth passes its
    strategy to authenticate(); web/city_sign_in.py) is neither refused nor counted here:
    the city's identity service checks the password and throttles its own sign-in, and
    the return to Silta needs a code it issued for this browser."""
    return credentials is not None and "strategy" in credentials


def locked_until(request: HttpRequest, credentials: dict[str, Any] | None) -> dt.datetime | None:
    """When the lockout that refuses this request ends (an aware datetime), or None if it
    is not locked out. Failures are stored per (username, address) with the time of the
    last one; a lockout ends when enough of them are older than the cool-off that the
    rest are fewer than the limit."""
    cool_off: dt.timedelta | None = get_cool_off(request)
    handler = AxesProxyHandler.get_implementation()
    if cool_off is None or not hasattr(handler, "get_user_attempts"):
        return None
    AxesProxyHandler.update_request(request)
    limit: int = get_failure_limit(request, credentials)
    ends: list[dt.datetime] = []
    for attempts in handler.get_user_attempts(request, credentials):
        rows = list(
            attempts.order_by("attempt_time").values_list("attempt_time", "failures_since_start")
        )
        remaining = sum(failures for _, failures in rows)
        for attempt_time, failures in rows:
            if remaining < limit:
                break
            remaining -= failures
            if remaining < limit:
                ends.append(attempt_time + cool_off)
    return max(ends, default=None)


def retry_after(until: dt.datetime) -> int:
    """Whole seconds until a lockout that ends at `until` is over (the instant itself still
    counts as locked): for Retry-After."""
    return max(int((until - clock.now()).total_seconds()) + 1, 1)


def log_lockout(
    sender: object,
    request: HttpRequest | None = None,
    username: str | None = None,
    ip_address: str | None = None,
    **kwargs: Any,
) -> None:
    """axes' user_locked_out signal, sent when a failure reaches the limit and for each
    attempt refused during the lockout: a warning for the operator, with the request id."""
    logger.warning(
        "sign-in locked out: username %r, address %s, %s",
        username,
        ip_address,
        getattr(request, "path", ""),
    )
