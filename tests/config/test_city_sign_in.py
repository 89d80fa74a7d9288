"""Signing in with the city's account (SILTA_OIDC_ENABLED): off by default, refused to start
half configured, and, on, the API takes the identity service's access tokens (Bearer)
from a real OpenID Connect provider on loopback (tests/oidc): a valid one works, as the
token's subject with the teams its groups give; an expired, forged, foreign or malformed
one is refused with a 401 problem+json. The browser sign-in: tests/browser."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from social_django.models import UserSocialAuth

from cases.enums import EventSubject, MembershipAction, Role
from cases.models import DirectoryGroupMapping, Event, Membership
from tests.factories import make_org
from tests.oidc.fixtures import API_AUDIENCE

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import django
django.setup()
from django.conf import settings
print(settings.AUTHENTICATION_BACKENDS[1])
print(settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"][:2])
print(settings.SOCIAL_AUTH_TUNNISTAMO_OIDC_ENDPOINT, settings.SOCIAL_AUTH_TUNNISTAMO_SCOPE)
"""


def run(extra_env):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "test",
        "DJANGO_READ_DOT_ENV": "0",
        "DATABASE_URL": "sqlite://:memory:",
        "DATABASE_OWNER_URL": "",  # one role on SQLite
        **extra_env,
    }
    return subprocess.run(  # noqa: S603 (our own interpreter and probe)
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_off_by_default__local_accounts_only(client):
    assert "web.city_sign_in.CityOIDCAuth" not in settings.AUTHENTICATION_BACKENDS
    assert "api.city_tokens.CityTokenAuthentication" not in str(settings.REST_FRAMEWORK)
    assert client.post("/city/sign-in/").status_code == 404
    assert client.get("/city/complete/tunnistamo/").status_code == 404
    page = client.get("/login/").content.decode()
    assert 'name="username"' in page
    assert "/city/sign-in/" not in page


def test_on__the_backend_and_the_bearer_tokens_are_switched_on():
    result = run(
        {
            "SILTA_OIDC_ENABLED": "1",
            "OIDC_ISSUER": "https://tunnistus.example.fi/auth/realms/helsinki-tunnistus/",
            "OIDC_CLIENT_ID": "silta",
            "OIDC_CLIENT_SECRET": "secret",
            "OIDC_SCOPES": "ad_groups",
            "OIDC_API_AUDIENCE": "silta-api",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "web.city_sign_in.CityOIDCAuth",
        # The integration tokens stay first; the city's after them, before the session.
        "['api.authentication.ApiTokenAuthentication', 'api.city_tokens.CityTokenAuthentication']",
        "https://tunnistus.example.fi/auth/realms/helsinki-tunnistus ['ad_groups']",
    ]


def test_on_without_an_api_audience__no_bearer_tokens():
    result = run(
        {
            "SILTA_OIDC_ENABLED": "1",
            "OIDC_ISSUER": "https://login.example.fi",
            "OIDC_CLIENT_ID": "silta",
            "OIDC_CLIENT_SECRET": "secret",
        }
    )
    assert result.returncode == 0, result.stderr
    assert "CityTokenAuthentication" not in result.stdout


def test_half_configured__refuses_to_start_and_names_what_is_missing():
    result = run({"SILTA_OIDC_ENABLED": "1", "OIDC_CLIENT_ID": "silta"})
    assert result.returncode != 0
    assert "these are empty: OIDC_ISSUER, OIDC_CLIENT_SECRET" in result.stderr


# --- Bearer tokens from a real provider ---------------------------------------------------

city = pytest.mark.django_db(transaction=True, serialized_rollback=True)

KOTO2_CASEWORKERS = "Sg_KUVA_Silta_Koto2_Vastuutyontekijat"
KOTO2_SUPERVISORS = "Sg_KUVA_Silta_Koto2_Esihenkilot"


@pytest.fixture
def directory(db):
    org = make_org()
    DirectoryGroupMapping.objects.create(
        directory_group=KOTO2_CASEWORKERS, team=org.koto, role=Role.CASEWORKER
    )
    DirectoryGroupMapping.objects.create(
        directory_group=KOTO2_SUPERVISORS, team=org.koto, role=Role.SUPERVISOR
    )
    return org


def _api(silta, token, path="/api/v1/cases/"):
    return httpx.get(silta.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=20)


def _refused(answer):
    assert answer.status_code == 401, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json()["code"] == "authentication_failed"
    assert "WWW-Authenticate" in answer.headers


def _segments(token):
    header, payload, signature = token.split(".")
    return header, json.loads(base64.urlsafe_b64decode(payload + "==")), signature


def _encode(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


@city
def test_a_valid_token__works_as_its_subject_with_the_teams_its_groups_give(
    directory, city_provider, city_silta
):
    kaisa = city_provider.add("kaisa", [KOTO2_CASEWORKERS.upper(), "Sg_Some_Other_Group"])
    token = city_provider.access_token(kaisa)
    assert _segments(token)[1]["aud"] == API_AUDIENCE

    answer = _api(city_silta, token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["count"] == 0

    link = UserSocialAuth.objects.get(provider="tunnistamo", uid=kaisa.sub)
    assert link.user.username.startswith("u-")  # helusers' name from the subject
    assert not link.user.has_usable_password()
    assert list(Membership.objects.filter(user=link.user).values_list("team", "role")) == [
        (directory.koto.pk, Role.CASEWORKER)
    ]
    joined = Event.objects.get(subject=EventSubject.MEMBERSHIP)
    assert joined.action == MembershipAction.JOIN
    assert joined.client_id is None and joined.actor_id is None
    assert joined.params["member"] == link.user.pk
    assert joined.params["directory_groups"] == [KOTO2_CASEWORKERS.lower()]

    # The keys are fetched once for the process, not for every request (helusers alone
    # would fetch them again for each one).
    keys_fetched = city_provider.requests_to("/jwks")
    for _ in range(3):
        assert _api(city_silta, token).status_code == 200
    assert city_provider.requests_to("/jwks") == keys_fetched == 1
    # Nothing changed, nothing recorded again; one account for the subject.
    assert Event.objects.filter(subject=EventSubject.MEMBERSHIP).count() == 1
    assert UserSocialAuth.objects.filter(uid=kaisa.sub).count() == 1


@city
def test_an_expired_token__is_refused(directory, city_provider, city_silta):
    pekka = city_provider.add("pekka", [KOTO2_CASEWORKERS])
    token = city_provider.access_token(pekka, client="api-client-short-lived")
    _header, claims, _signature = _segments(token)
    assert claims["exp"] - claims["iat"] == 1
    time.sleep(max(0.0, claims["exp"] - time.time()) + 1.5)
    _refused(_api(city_silta, token))
    assert not UserSocialAuth.objects.filter(uid=pekka.sub).exists()


@city
def test_forged_tokens__are_refused_and_an_address_that_keeps_sending_them_waits(
    directory, city_provider, city_silta
):
    liisa = city_provider.add("liisa", [KOTO2_CASEWORKERS])
    token = city_provider.access_token(liisa)
    header, claims, signature = _segments(token)

    # Her own token, promoted to supervisor: the signature no longer matches.
    promoted = {**claims, "ad_groups": [KOTO2_SUPERVISORS]}
    _refused(_api(city_silta, f"{header}.{_encode(promoted)}.{signature}"))

    # Signed with a key of the forger's own, naming the provider's key id and issuer.
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = json.loads(base64.urlsafe_b64decode(header + "=="))["kid"]
    forged = jwt.encode(promoted, own_key, algorithm="RS256", headers={"kid": kid})
    _refused(_api(city_silta, forged))

    # Unsigned ("alg": "none").
    unsigned = f"{_encode({'alg': 'none', 'typ': 'JWT'})}.{_encode(promoted)}."
    _refused(_api(city_silta, unsigned))

    # Not a token at all.
    _refused(_api(city_silta, "not-a-token"))

    # From another issuer, signed by it: the fifth refused token from this address
    # (AXES_FAILURE_LIMIT), so the address is refused for the cool-off, even with a valid
    # token, as for integration tokens.
    elsewhere = jwt.encode(
        {**claims, "iss": "https://login.example.com"}, own_key, algorithm="RS256"
    )
    for refused in (_api(city_silta, elsewhere), _api(city_silta, token)):
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "throttled"
        assert int(refused.headers["Retry-After"]) > 0

    assert not UserSocialAuth.objects.filter(uid=liisa.sub).exists()
    assert not Event.objects.filter(subject=EventSubject.MEMBERSHIP).exists()


@city
def test_a_token_meant_for_another_audience__is_refused(directory, city_provider, city_silta):
    """The signature and issuer are right, but the token was not issued for Silta's API
    (here: the same user's ID token for the client application)."""
    olli = city_provider.add("olli", [KOTO2_CASEWORKERS])
    # The same sign-in's ID token, whose audience is the client application.
    id_token = city_provider.tokens(olli)["id_token"]
    assert _segments(id_token)[1]["aud"] == "api-client"
    _refused(_api(city_silta, id_token))


@city
def test_the_schema_declares_the_bearer_scheme_when_on(city_silta):
    schema = httpx.get(city_silta.url + "/api/v1/schema/?format=json", timeout=30)
    assert schema.status_code == 200, schema.text[:500]
    schemes = schema.json()["components"]["securitySchemes"]
    assert schemes["cityToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["cityToken"]["description"],
    }
    assert "tokenAuth" in schemes


@city
def test_a_sign_in_cancelled_or_broken__back_to_the_sign_in_page_with_a_message(city_silta):
    """The identity service answers that the user cancelled (error=access_denied), or a
    return arrives that this browser never started (no state in its session): the
    sign-in page, with a message in the user's language, never a server error."""
    for answer, message in [
        ("error=access_denied", "Kirjautuminen kaupungin tunnuksella peruttiin."),
        ("code=made-up&state=made-up", "Kirjautuminen kaupungin tunnuksella ei onnistunut."),
    ]:
        with httpx.Client(base_url=city_silta.url, timeout=20) as browser:
            back = browser.get(f"/city/complete/tunnistamo/?{answer}")
            assert back.status_code == 302, back.text[:300]
            assert back.headers["location"] == "/login/"
            page = browser.get("/login/")
            assert message in page.text
