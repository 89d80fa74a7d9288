"""`manage.py check --deploy` under production settings, as an operator would run it before
a release: no warning at all (HSTS, secure cookies, SSL redirect, a long secret key, DEBUG
off), and the HSTS settings really come from the environment."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

MANAGE = Path(settings.BASE_DIR) / "manage.py"

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_READ_DOT_ENV": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "silta.example.fi",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://silta.example.fi",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def _check_deploy(**overrides: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, **PRODUCTION}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py's own choice, as in production
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the browser tests' own, never a server's
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(  # noqa: S603 (manage.py of this checkout)
        [sys.executable, str(MANAGE), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy__production_settings__no_warnings():
    result = _check_deploy()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output, output


def test_check_deploy__hsts_read_from_the_environment():
    """Without the HSTS variables the check fails with exactly the HSTS warnings: the
    variables are what sets them (and the test above is not passing by accident)."""
    result = _check_deploy(
        SECURE_HSTS_SECONDS=None, SECURE_HSTS_INCLUDE_SUBDOMAINS=None, SECURE_HSTS_PRELOAD=None
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # SECURE_HSTS_SECONDS not set

    result = _check_deploy(SECURE_HSTS_INCLUDE_SUBDOMAINS="false", SECURE_HSTS_PRELOAD="false")
    assert result.returncode != 0
    assert "security.W005" in result.stderr and "security.W021" in result.stderr
    assert "security.W004" not in result.stderr
