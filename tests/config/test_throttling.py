"""Sign-in throttling (django-axes): after repeated failures an account and an address are
refused for the cool-off, the right password included; the refusal is a page in the user's
language (429, when to try again); it is logged; an administrator can lift it; the admin's
sign-in is covered too, and sign-in through OpenID Connect is left alone."""

import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.core.management import call_command
from django.test import Client
from django.utils import formats, timezone, translation

from core.throttling import is_single_sign_on

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LIMIT = 5
COOL_OFF = dt.timedelta(minutes=15)


@pytest.fixture(autouse=True)
def _throttling(settings):
    # The shipped defaults, stated here so that the test says what it checks.
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = COOL_OFF
    settings.SILTA_LOCKOUT_PARAMETERS = ["username", "ip_address"]


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def worker(django_user_model):
    return django_user_model.objects.create_user("maija", password="oikea-salasana-1")


def sign_in(username, password, *, ip="192.0.2.10", path="/login/", **headers):
    client = Client(REMOTE_ADDR=ip, **headers)
    response = client.post(path, {"username": username, "password": password})
    return client, response


def signed_in(client):
    return "_auth_user_id" in client.session


def fail(times, username="maija", **kwargs):
    return [sign_in(username, "väärä", **kwargs)[1].status_code for _ in range(times)]


def test_web__after_the_limit_even_the_right_password_is_refused_until_the_cool_off(worker, clock):
    assert fail(LIMIT - 1) == [200] * (LIMIT - 1)  # the form again, "wrong password"
    assert fail(1) == [429]  # the failure that reaches the limit is told at once

    clock.shift(COOL_OFF - dt.timedelta(seconds=1))
    client, response = sign_in("maija", "oikea-salasana-1")
    assert response.status_code == 429
    assert not signed_in(client)
    assert response["Retry-After"] == "2"  # the lockout's last instant still counts

    clock.shift(dt.timedelta(seconds=2))
    client, response = sign_in("maija", "oikea-salasana-1")
    assert response.status_code == 302
    assert signed_in(client)


def test_web__failures_below_the_limit_lock_nothing(worker, clock):
    fail(LIMIT - 1)
    client, response = sign_in("maija", "oikea-salasana-1")
    assert response.status_code == 302 and signed_in(client)


def test_web__an_account_is_locked_whatever_address_the_guesses_come_from(worker, clock):
    for n in range(LIMIT):
        sign_in("maija", "väärä", ip=f"198.51.100.{n + 1}")
    client, response = sign_in("maija", "oikea-salasana-1", ip="203.0.113.50")
    assert response.status_code == 429 and not signed_in(client)


def test_web__an_address_is_locked_whatever_accounts_it_tries(worker, clock, django_user_model):
    django_user_model.objects.create_user("pekka", password="pekan-salasana-2")
    for n in range(LIMIT):
        sign_in(f"guess{n}", "väärä", ip="192.0.2.66")
    client, response = sign_in("pekka", "pekan-salasana-2", ip="192.0.2.66")
    assert response.status_code == 429 and not signed_in(client)
    # The same account from another address, and another account, are not affected.
    client, response = sign_in("pekka", "pekan-salasana-2", ip="192.0.2.67")
    assert response.status_code == 302 and signed_in(client)


@pytest.mark.parametrize(
    ("language", "heading", "contact"),
    [
        ("fi", "Kirjautuminen on estetty hetkeksi", "ota yhteyttä Siltan pääkäyttäjään"),
        ("sv", "Inloggningen är spärrad en stund", "kontakta Siltas administratör"),
        ("en", "Signing in is blocked for a while", "contact the administrator of Silta"),
    ],
)
def test_web__the_lockout_page_is_in_the_users_language_and_says_when(
    worker, clock, language, heading, contact
):
    fail(LIMIT)
    _, response = sign_in("maija", "oikea-salasana-1", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 429
    assert response["Content-Language"] == language
    page = response.content.decode()
    assert heading in page
    assert contact in page
    with translation.override(language):
        until = formats.date_format(timezone.localtime(START + COOL_OFF), "SHORT_DATETIME_FORMAT")
    assert until in page
    assert "oikea-salasana-1" not in page


def test_admin__the_admin_sign_in_is_locked_likewise(django_user_model, clock):
    django_user_model.objects.create_superuser("root", password="pääkäyttäjän-salasana")
    refused = [sign_in("root", "väärä", path="/admin/login/")[1].status_code for _ in range(LIMIT)]
    assert refused == [200] * (LIMIT - 1) + [429]
    client, response = sign_in("root", "pääkäyttäjän-salasana", path="/admin/login/")
    assert response.status_code == 429 and not signed_in(client)

    clock.shift(COOL_OFF + dt.timedelta(seconds=1))
    client, response = sign_in("root", "pääkäyttäjän-salasana", path="/admin/login/")
    assert response.status_code == 302 and signed_in(client)


def test_admin__failures_on_the_admin_and_the_web_sign_in_add_up(worker, clock):
    fail(LIMIT - 1)
    assert fail(1, path="/admin/login/") == [429]
    assert sign_in("maija", "oikea-salasana-1")[1].status_code == 429


def reset_by_command(username, django_user_model):
    call_command("axes_reset_username", username, stdout=open(os.devnull, "w"))  # noqa: SIM115


def reset_in_the_admin(username, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="x")
    client = Client()
    client.force_login(admin)
    attempts = AccessAttempt.objects.filter(username=username)
    response = client.post(
        "/admin/axes/accessattempt/",
        {
            "action": "delete_selected",
            "_selected_action": [a.pk for a in attempts],
            "post": "yes",
        },
    )
    assert response.status_code == 302


@pytest.mark.parametrize("reset", [reset_by_command, reset_in_the_admin])
def test_admin__an_administrator_lifts_the_lockout(worker, clock, django_user_model, reset):
    fail(LIMIT)
    assert sign_in("maija", "oikea-salasana-1")[1].status_code == 429
    reset("maija", django_user_model)
    client, response = sign_in("maija", "oikea-salasana-1")
    assert response.status_code == 302 and signed_in(client)


def test_log__the_lockout_is_logged_and_every_failure_kept(worker, clock, caplog):
    with caplog.at_level(logging.WARNING, logger="silta.auth"):
        fail(LIMIT)
        sign_in("maija", "oikea-salasana-1")
    locked = [r.getMessage() for r in caplog.records if "locked out" in r.getMessage()]
    assert len(locked) == 2  # when the limit was reached, and the refused sign-in after it
    assert "'maija'" in locked[0] and "192.0.2.10" in locked[0]
    assert "oikea-salasana-1" not in caplog.text
    failures = AccessFailureLog.objects.filter(username="maija").order_by("attempt_time")
    assert [f.locked_out for f in failures] == [False] * (LIMIT - 1) + [True]
    assert {f.ip_address for f in failures} == {"192.0.2.10"}
    # The record an administrator sees: the running count, with the password never stored.
    attempt = AccessAttempt.objects.get(username="maija")
    assert attempt.failures_since_start == LIMIT
    assert "väärä" not in attempt.post_data


def test_log__nothing_secret_is_kept_of_the_failed_form(worker, clock):
    Client(REMOTE_ADDR="192.0.2.10").post(
        "/login/",
        {"username": "maija", "password": "väärä-salasana", "csrfmiddlewaretoken": "s3cr3t"},
    )
    kept = AccessAttempt.objects.get(username="maija").post_data
    assert "väärä-salasana" not in kept and "s3cr3t" not in kept


def test_proxy__behind_a_reverse_proxy_the_address_it_saw_is_locked(
    worker, clock, settings, django_user_model
):
    settings.SILTA_TRUSTED_PROXIES = 1
    django_user_model.objects.create_user("pekka", password="pekan-salasana-2")
    proxy = "10.0.0.2"
    # An attacker on the city's network who writes a fresh public address in front each time.
    for n in range(LIMIT):
        sign_in(f"guess{n}", "väärä", ip=proxy, HTTP_X_FORWARDED_FOR=f"8.8.{n}.8, 10.20.0.9")
    _, response = sign_in(
        "pekka", "pekan-salasana-2", ip=proxy, HTTP_X_FORWARDED_FOR="1.1.1.1, 10.20.0.9"
    )
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.20.0.9"}
    # Everyone else behind the same proxy still signs in.
    client, response = sign_in(
        "pekka", "pekan-salasana-2", ip=proxy, HTTP_X_FORWARDED_FOR="10.20.0.10"
    )
    assert response.status_code == 302 and signed_in(client)


def test_proxy__without_a_declared_proxy_the_header_is_not_believed(worker, clock):
    for n in range(LIMIT):
        sign_in(f"guess{n}", "väärä", ip="192.0.2.10", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.10"}


CITY_SETTINGS = {
    "OIDC_ISSUER": "https://login.example.fi",
    "OIDC_CLIENT_ID": "silta-test",
    "OIDC_CLIENT_SECRET": "secret",
}


def test_oidc__axes_comes_first_and_the_city_backend_stays_when_switched_on():
    probe = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.AUTHENTICATION_BACKENDS)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "test",
        "DJANGO_READ_DOT_ENV": "0",
        "SILTA_OIDC_ENABLED": "1",
        **CITY_SETTINGS,
    }
    result = subprocess.run(  # noqa: S603 (our own interpreter and probe)
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        [
            "axes.backends.AxesStandaloneBackend",
            "web.city_sign_in.CityOIDCAuth",
            "django.contrib.auth.backends.ModelBackend",
        ]
    )


def test_oidc__a_sign_in_with_the_city_account_is_neither_refused_nor_counted_here():
    """social-auth passes its strategy to authenticate(); the sign-in form passes only a
    username and a password. The whole city sign-in from a locked address, through a real
    identity service: tests/browser/test_city_sign_in.py."""
    assert is_single_sign_on(None, {"strategy": object(), "backend": object(), "response": {}})
    assert not is_single_sign_on(None, {"username": "maija", "password": "oikea-salasana-1"})
    assert not is_single_sign_on(None, None)
