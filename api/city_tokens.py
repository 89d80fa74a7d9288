"""The city identity service's access tokens on the API, `Authorization: Bearer <token>`
(SILTA_OIDC_ENABLED with OIDC_API_AUDIENCE, config/settings.py): django-helusers'
ApiTokenAuthentication checks the token (signed by the service's current keys, issued by
OIDC_ISSUER, for one of the OIDC_API_AUDIENCE audiences, not expired, its session not
ended), and `resolve_user` finds the account by the token's subject alone, as the browser
sign-in does (cases.directory).

Around helusers, as for integration tokens (api/authentication.py): a refused token counts
as a failed sign-in from the address with django-axes (an address that keeps sending
refused tokens gets 429), a token that is not a JWT at all is refused (helusers would let
it pass unnoticed), the reasons are logged but the answer says only that the token is not
valid, in the request's language, and an identity service that cannot be reached for its
keys is a 503 with Retry-After, never a hung request or a server error.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import requests
from axes.handlers.proxy import AxesProxyHandler
from cachetools.func import ttl_cache
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from helusers.oidc import ApiTokenAuthentication, OIDCConfig
from helusers.settings import api_token_auth_settings
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from api.authentication import CREDENTIALS
from cases.directory import (
    account_for_subject,
    follow_directory_groups,
    groups_in,
    subject_uid,
)
from core.throttling import locked_until, retry_after

logger = logging.getLogger("silta.auth")

# Seconds to wait for the identity service's discovery document and keys.
KEYS_TIMEOUT = 5


class IdentityServiceUnavailable(exceptions.APIException):
    status_code = 503
    default_code = "service_unavailable"
    default_detail = gettext_lazy(
        "The city's identity service cannot be reached to check the token; try again shortly."
    )
    wait = 30  # Retry-After


class _IssuerKeys(OIDCConfig):
    """helusers' discovery of an issuer's signing keys, with a timeout (helusers waits for
    ever) and an error for an answer that is not the service's."""

    @ttl_cache(ttl=api_token_auth_settings.OIDC_CONFIG_EXPIRATION_TIME)
    def keys(self) -> dict[str, Any]:
        url = self._issuer + "/.well-known/openid-configuration"
        config = requests.get(url, timeout=KEYS_TIMEOUT)
        config.raise_for_status()
        keys = requests.get(config.json()["jwks_uri"], timeout=KEYS_TIMEOUT)
        keys.raise_for_status()
        return keys.json()


@functools.cache
def _issuer_keys(issuer: str) -> _IssuerKeys:
    # One per issuer for the process: helusers caches per authenticator instance, and DRF
    # makes a new one for every request, so it would fetch the keys for every request.
    return _IssuerKeys(issuer)


class CityTokenAuthentication(ApiTokenAuthentication):
    def get_oidc_config(self, issuer: str) -> _IssuerKeys:
        return _issuer_keys(issuer)

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.auth_scheme.lower().encode():
            return None  # another scheme, or none
        http_request = request._request
        if not AxesProxyHandler.is_allowed(http_request, CREDENTIALS):
            http_request.axes_locked_out = True
            self._failed(http_request)
            raise self._locked_out(http_request)
        try:
            result = super().authenticate(request)
            if result is None:  # not a JWT at all
                raise exceptions.AuthenticationFailed("not a JWT")
        except exceptions.AuthenticationFailed as refused:
            logger.warning(
                "bearer token refused from %s: %s", http_request.axes_ip_address, refused.detail
            )
            self._failed(http_request)
            if http_request.axes_locked_out:  # this failure reached the limit
                raise self._locked_out(http_request) from None
            raise exceptions.AuthenticationFailed(
                _("The token is not valid: it is forged, expired, or not meant for Silta.")
            ) from None
        except (requests.RequestException, ValueError, KeyError) as unreachable:
            logger.error("the identity service's keys could not be fetched: %s", unreachable)
            raise IdentityServiceUnavailable() from None
        return result

    def _failed(self, http_request):
        user_login_failed.send(sender=type(self), credentials=CREDENTIALS, request=http_request)

    def _locked_out(self, http_request):
        http_request.axes_locked_out = False
        until = locked_until(http_request, CREDENTIALS)
        return exceptions.Throttled(
            wait=retry_after(until) if until else None,
            detail=_(
                "Too many refused tokens from this address: requests are refused for a while."
            ),
        )


def resolve_user(request, payload: dict[str, Any]):
    """OIDC_API_TOKEN_AUTH's USER_RESOLVER: the account of the token's subject (made on its
    first use, as at a first sign-in). When the token carries the groups claim, the
    memberships follow it as at a browser sign-in; a token without the claim leaves them as
    the last sign-in made them (access tokens often leave the groups out). A ValueError
    (no subject, a malformed claim, an account an administrator turned off) refuses the
    token."""
    user, _social = account_for_subject(subject_uid(payload), payload)
    if not user.is_active:
        raise ValueError("the account is turned off")
    claim = getattr(settings, "HELUSERS_ADGROUPS_CLAIM", "ad_groups")
    if claim in payload:
        follow_directory_groups(user, groups_in(payload, claim))
    return user


class CityTokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for the identity service's tokens (drf-spectacular)."""

    target_class = "api.city_tokens.CityTokenAuthentication"
    name = "cityToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "An access token of the city's identity service (Helsinki Tunnistus or Azure "
                'AD), sent as "Authorization: Bearer <token>": issued for Silta\'s API '
                "audience, not expired. The account is the token's subject; its teams come "
                "from the directory groups. A refused token answers 401, an address that "
                "keeps sending refused tokens 429 with Retry-After."
            ),
        }
