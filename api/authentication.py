"""API tokens for integrations: django-rest-knox's tokens (only a hash is stored; each
expires SILTA_API_TOKEN_DAYS after it was issued), sent as `Authorization: Token <token>`.

A refused token (forged, expired, revoked) counts as a failed sign-in from the request's
address with django-axes, like a wrong password: an address that keeps sending refused
tokens gets 429 for the cool-off, whatever it sends. Tokens are issued and rotated with
`manage.py issue_api_token` and revoked with `manage.py revoke_api_tokens`.
"""

from __future__ import annotations

import binascii
import logging
from hmac import compare_digest

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.contrib.auth.signals import user_login_failed
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, F, Func, JSONField, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as knox_message
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS
from knox.signals import token_expired
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from audit.access import remember_memberships
from cases.models import Membership
from core import clock
from core.throttling import locked_until, retry_after

logger = logging.getLogger("silta.auth")

# What axes is told about a refused token: no username (counted for the address only) and
# never the token itself.
CREDENTIALS = {"username": None, "api_token": "********"}
# knox's own refusal (its translations come with Django REST framework's catalogue).
INVALID_TOKEN = knox_message("Invalid token.")


class ApiTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.authenticate_header(request).encode().lower():
            return None  # no token: another scheme, or a 401 naming this one
        http_request = request._request
        AxesProxyHandler.update_request(http_request)
        self._http_request = http_request
        if len(header) != 2:
            self._refuse_if_locked_out()  # a malformed header: axes first, as for any
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            logger.warning("API token refused from %s", http_request.axes_ip_address)
            self._failed(http_request)
            if http_request.axes_locked_out:  # this failure reached the limit
                raise self._locked_out(http_request) from None
            raise

    def authenticate_credentials(self, token):
        """knox's check (the token by its key, then its digest, then the user), with the
        user's memberships read in the same query for the rest of the request."""
        token = token.decode("utf-8")
        seats = ArraySubquery(
            Membership.objects.filter(user_id=OuterRef("user_id"))
            .order_by("id")
            .values_list(
                Func(
                    F("team_id"),
                    F("team__code"),
                    F("team__kind"),
                    F("role"),
                    F("team__front_desk_team_id"),
                    function="jsonb_build_array",
                    output_field=JSONField(),
                )
            )
        )
        # Whether the address has any failure on record: only then can axes refuse it, and
        # only then is axes asked (its count of the address's failures, a query of its
        # own). An address that never failed costs no query more than the token's.
        failed_before = Exists(
            AccessAttempt.objects.filter(ip_address=self._http_request.axes_ip_address)
        )
        candidates = list(
            get_token_model()
            .objects.filter(token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH])
            .select_related("user")
            .annotate(silta_seats=seats, silta_failed_before=failed_before)
        )
        if not candidates or any(c.silta_failed_before for c in candidates):
            self._refuse_if_locked_out()
        for auth_token in candidates:
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(INVALID_TOKEN) from None
            if compare_digest(digest, auth_token.digest):
                user, auth_token = self.validate_user(auth_token)
                remember_memberships(user, auth_token.silta_seats)
                return user, auth_token
        raise exceptions.AuthenticationFailed(INVALID_TOKEN)

    def _refuse_if_locked_out(self) -> None:
        """A locked-out address is refused with its token unchecked, and recorded as axes
        records a refused sign-in (marked, so that it does not extend the lockout)."""
        http_request = self._http_request
        if not AxesProxyHandler.is_allowed(http_request, CREDENTIALS):
            http_request.axes_locked_out = True
            self._failed(http_request)
            raise self._locked_out(http_request)

    def _cleanup_token(self, auth_token) -> bool:
        """Only this token's expiry: knox would read every token of the user on every
        request to delete the expired ones (`manage.py revoke_api_tokens --expired` does)."""
        if auth_token.expiry is not None and auth_token.expiry < clock.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False

    def _failed(self, http_request):
        user_login_failed.send(sender=type(self), credentials=CREDENTIALS, request=http_request)

    def _locked_out(self, http_request):
        # Axes' middleware would answer a request marked locked out with the web page; the
        # API answers problem+json itself, so the mark comes off.
        http_request.axes_locked_out = False
        until = locked_until(http_request, CREDENTIALS)
        wait = retry_after(until) if until else None
        return exceptions.Throttled(
            wait=wait,
            detail=_(
                "Too many refused tokens from this address: requests are refused for a while."
            ),
        )


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for these tokens (drf-spectacular)."""

    target_class = "api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                'An integration account\'s API token, sent as "Authorization: Token <token>". '
                "Issued by an administrator (`manage.py issue_api_token`), stored only as a "
                "hash, and valid until it expires or is revoked; a refused token answers 401, "
                "and an address that keeps sending refused tokens 429 with Retry-After."
            ),
        }
