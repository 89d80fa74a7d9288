"""API tokens for integrations: django-rest-knox's tokens (only a hash is stored; each
expires SILTA_API_TOKEN_DAYS after it was issued), sent as `Authorization: Token <token>`.

A refused token (forged, expired, revoked) counts as a failed sign-in from the request's
address with django-axes, like a wrong password: an address that keeps sending refused
tokens gets 429 for the cool-off, whatever it sends. Tokens are issued and rotated with
`manage.py issue_api_token` and revoked with `manage.py revoke_api_tokens`.
"""

from __future__ import annotations

import binascii
import functools
import json
import logging
from hmac import compare_digest
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.db import connection
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
from cases.models import Membership, Team
from core import clock
from core.throttling import locked_until, retry_after

logger = logging.getLogger("silta.auth")

# What axes is told about a refused token: no username (counted for the address only) and
# never the token itself.
CREDENTIALS = {"username": None, "api_token": "********"}
# knox's own refusal (its translations come with Django REST framework's catalogue).
INVALID_TOKEN = knox_message("Invalid token.")


@functools.cache
def _token_query(no_address: bool) -> str:
    """knox's token by its key with its user (every column of both, in model order), the
    user's memberships (as `remember_memberships` takes them) and whether the request's
    address has a failed sign-in on record (only then can axes refuse it, and only then
    is axes asked). Written out once: compiling the ORM's form of it cost more on every
    request than running it."""
    tokens, users = get_token_model()._meta, get_user_model()._meta
    membership, team = Membership._meta, Team._meta
    columns = [f"t.{_q(f.column)}" for f in tokens.concrete_fields] + [
        f"u.{_q(f.column)}" for f in users.concrete_fields
    ]
    # Only the models' own table and column names go into the text; values are parameters.
    return f"""
        SELECT {", ".join(columns)},
            (SELECT json_agg(json_build_array(m.team_id, s.code, s.kind, m.role,
                    s.front_desk_team_id) ORDER BY m.id)
             FROM {_q(membership.db_table)} m JOIN {_q(team.db_table)} s ON s.id = m.team_id
             WHERE m.user_id = t.{_q(tokens.get_field("user").column)}) AS seats,
            EXISTS (SELECT 1 FROM {_q(AccessAttempt._meta.db_table)} a
                    WHERE a.ip_address {"IS NULL" if no_address else "= %s"}) AS failed_before
        FROM {_q(tokens.db_table)} t
        JOIN {_q(users.db_table)} u
            ON u.{_q(users.pk.column)} = t.{_q(tokens.get_field("user").column)}
        WHERE t.token_key = %s
    """  # noqa: S608


def _q(name: str | None) -> str:
    return connection.ops.quote_name(str(name))


def _tokens_by_key(key: str, ip_address: str | None) -> list[Any]:
    """The tokens with this key, each with its user, `silta_seats` (the user's
    memberships) and `silta_failed_before` (the address has failed before)."""
    Token, User = get_token_model(), get_user_model()
    token_names = [f.attname for f in Token._meta.concrete_fields]
    user_names = [f.attname for f in User._meta.concrete_fields]
    width, user_width = len(token_names), len(user_names)
    with connection.cursor() as cursor:
        if ip_address is None:
            cursor.execute(_token_query(True), [key])
        else:
            cursor.execute(_token_query(False), [ip_address, key])
        rows = cursor.fetchall()
    found = []
    for row in rows:
        token = Token.from_db(connection.alias, token_names, row[:width])
        token.user = User.from_db(connection.alias, user_names, row[width : width + user_width])
        seats = row[width + user_width]
        token.silta_seats = (json.loads(seats) if isinstance(seats, str) else seats) or []
        token.silta_failed_before = row[width + user_width + 1]
        found.append(token)
    return found


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
        candidates = _tokens_by_key(
            token[: CONSTANTS.TOKEN_KEY_LENGTH], self._http_request.axes_ip_address
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
