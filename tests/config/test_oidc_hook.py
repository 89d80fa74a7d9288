"""The OpenID Connect hook: off by default; on, it signs users in through the provider
and accepts the provider's tokens on the API; half configured, it refuses to start."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)  # sessions, on an in-memory SQLite
from django.conf import settings
from django.test import Client
response = Client(HTTP_HOST="localhost").get("/oidc/authenticate/")
print(response.status_code, response["Location"].split("?")[0])
print("client_id=silta-test" in response["Location"])
print(settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"][1])
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


def test_oidc__on_redirects_to_the_provider_and_accepts_its_tokens():
    result = run(
        {
            "SILTA_OIDC_ENABLED": "1",
            "OIDC_RP_CLIENT_ID": "silta-test",
            "OIDC_RP_CLIENT_SECRET": "secret",
            "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://login.example.fi/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": "https://login.example.fi/token",
            "OIDC_OP_USER_ENDPOINT": "https://login.example.fi/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": "https://login.example.fi/jwks",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "302 https://login.example.fi/authorize",
        "True",
        "mozilla_django_oidc.contrib.drf.OIDCAuthentication",
    ]


def test_oidc__half_configured_refuses_to_start_and_names_what_is_missing():
    result = run({"SILTA_OIDC_ENABLED": "1", "OIDC_RP_CLIENT_ID": "silta-test"})
    assert result.returncode != 0
    assert "OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT" in result.stderr


def test_oidc__off_by_default(client):
    assert client.get("/oidc/authenticate/").status_code == 404
