"""Signing staff in with the city's identity service (Helsinki Tunnistus or Azure AD, through
OpenID Connect), switched on by SILTA_OIDC_ENABLED (config/settings.py).

The browser goes through social-auth-app-django with django-helusers' backend for the
city's service; the steps of social-auth's pipeline that are Silta's own are here:
`account` (the account of the token's subject, cases.directory), `memberships` (the
memberships that follow the user's directory groups; no session and the "no access" page
for a user whom no group gives anything) and `end_session_address` (signing out of Silta
signs out of the identity service). `SignInErrors` turns a sign-in the service or
the browser broke off into the sign-in page with a message in the user's language.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth import logout
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from helusers.tunnistamo_oidc import TunnistamoOIDCAuth
from social_core.backends.open_id_connect import OpenIdConnectAuth
from social_core.exceptions import AuthCanceled
from social_django.middleware import SocialAuthExceptionMiddleware

from cases.directory import (
    account_for_subject,
    follow_directory_groups,
    has_access,
)

logger = logging.getLogger("silta.auth")


class CityOIDCAuth(TunnistamoOIDCAuth):
    """django-helusers' backend for the city's identity service (its name, `tunnistamo`,
    names the settings: SOCIAL_AUTH_TUNNISTAMO_*), made to fit social-auth-core 7:

    - social-auth-core 7 fetches the signing keys per key-set address
      (`get_remote_jwks_keys(uri)`); helusers 1.3's override takes no address and would
      fail every sign-in with a TypeError. Its one change, RS256 for a key that names no
      algorithm, is kept.
    - Signing out of Silta ends the session at the identity service too (the address is
      kept in the session at sign-in, `end_session_address`), and the service sends the
      browser back to Silta's sign-in page (helusers would name its own URL, which Silta
      does not mount).
    """

    def get_remote_jwks_keys(self, uri: str | None = None) -> list[dict[str, Any]]:
        keys = OpenIdConnectAuth.get_remote_jwks_keys(self, uri)
        for key in keys:
            key.setdefault("alg", "RS256")
        return keys

    def get_end_session_url(self, request: HttpRequest, id_token: str) -> str | None:
        url = super().get_end_session_url(request, id_token)
        if not url:
            return None
        scheme, netloc, path, query, fragment = urlsplit(url)
        params = dict(parse_qsl(query))
        params.setdefault("post_logout_redirect_uri", request.build_absolute_uri(reverse("login")))
        params.setdefault("client_id", self.setting("KEY"))
        return urlunsplit((scheme, netloc, path, urlencode(params), fragment))


def account(backend: Any, uid: str, response: dict[str, Any] | None = None, **kwargs: Any):
    """Pipeline step: the account of the directory subject `uid` (after helusers made it a
    UUID), found by the subject alone and made on the first sign-in. Whoever was signed in
    in this browser is signed out first: a city sign-in never links the subject to
    another account."""
    request = backend.strategy.request
    if request is not None and request.user.is_authenticated:
        logout(request)
    claims = {**(backend.id_token or {}), **(response or {})}
    user, social = account_for_subject(uid, claims)
    return {"user": user, "social": social, "is_new": False, "new_association": False}


def memberships(backend: Any, user: Any, response: dict[str, Any] | None = None, **kwargs: Any):
    """Pipeline step: the user's memberships follow their directory groups (each change in
    the event log). A user whom no group gives a team (nor the admin) is not signed in:
    the browser goes to the page that says so, in the user's language."""
    groups = backend.get_user_groups(response or {}) or []
    changes = follow_directory_groups(user, groups)
    if changes:
        logger.info(
            "city sign-in: user %s memberships changed: %s",
            user.pk,
            ", ".join(f"{c.action} {c.team or c.admin_group} {c.to_role}".strip() for c in changes),
        )
    if not has_access(user):
        logger.info("city sign-in: user %s has no group that gives access to Silta", user.pk)
        return redirect("no-access")
    return None


def end_session_address(backend: Any, user: Any, response: dict[str, Any], **kwargs: Any):
    """Pipeline step: keep the identity service's end-session address in the session, so
    that signing out of Silta signs out there too (web.views.auth.SiltaLogoutView). What
    helusers' `store_end_session_url` does; it reads the request from the pipeline's
    arguments, which social-auth-core 7 no longer passes."""
    request = backend.strategy.request
    id_token = response.get("id_token")
    if request is None or not id_token:
        return None
    url = backend.get_end_session_url(request, id_token)
    if url:
        request.session["social_auth_end_session_url"] = url
    return None


class SignInErrors(SocialAuthExceptionMiddleware):
    """A city sign-in the identity service refused, the user cancelled or the browser broke
    (an expired or replayed answer, a lost session) goes back to the sign-in page with a
    message in the user's language; the reason goes to the log (social-auth's), never a
    server error page. Applies to the sign-in's own addresses only."""

    def raise_exception(self, request: HttpRequest, exception: Exception) -> bool:
        return False

    def get_message(self, request: HttpRequest, exception: Exception) -> str:
        logger.warning("city sign-in failed: %s: %s", type(exception).__name__, exception)
        if isinstance(exception, AuthCanceled):
            return _("Signing in with the city's account was cancelled.")
        return _(
            "Signing in with the city's account did not succeed. Try again; if it keeps "
            "failing, contact the administrator of Silta."
        )

    def get_redirect_uri(self, request: HttpRequest, exception: Exception) -> str:
        return reverse("login")
