"""API tokens (django-rest-knox): only a hash is stored, each expires, rotation and
revocation are commands, a refused token is a 401 naming the scheme, and an address that
keeps sending refused tokens is refused for the cool-off (django-axes)."""

import datetime as dt
import hashlib
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(days=90)  # SILTA_API_TOKEN_DAYS' default
URL = "/api/v1/regions/"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def integration(django_user_model):
    return django_user_model.objects.create_user("booking-integration")


def issue(username, **options):
    out = io.StringIO()
    call_command("issue_api_token", username, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue().strip()


def get(token, ip="192.0.2.20", **headers):
    client = APIClient(REMOTE_ADDR=ip)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get(URL, **headers)


def assert_refused(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response["Content-Type"] == "application/problem+json"


def test_token__works_and_only_its_hash_is_stored(integration, clock):
    token = issue("booking-integration")
    assert token.startswith("silta_")
    assert get(token).status_code == 200

    row = AuthToken.objects.get(user=integration)
    assert row.digest == hashlib.sha512(token.encode()).hexdigest()
    assert row.expiry == START + TTL
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM knox_authtoken")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert token not in stored
    assert token[15:] not in stored  # knox keeps the first 15 characters to look it up
    assert "authtoken_token" not in connection.introspection.table_names()


def test_token__the_command_prints_the_token_once_and_says_when_it_expires(integration, clock):
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_api_token", "booking-integration", stdout=out, stderr=err)
    assert len(out.getvalue().split()) == 1
    assert "2026-05-31" in err.getvalue()  # 90 days on, in Helsinki
    with pytest.raises(CommandError, match="already has a token"):
        call_command("issue_api_token", "booking-integration", stderr=io.StringIO())
    with pytest.raises(CommandError, match="No active user"):
        call_command("issue_api_token", "nobody", stderr=io.StringIO())


def test_token__expires_after_its_lifetime(integration, clock):
    token = issue("booking-integration")
    clock.shift(TTL - dt.timedelta(seconds=1))
    assert get(token).status_code == 200
    clock.shift(dt.timedelta(seconds=2))
    assert_refused(get(token))
    assert not AuthToken.objects.filter(user=integration).exists()  # knox drops it
    assert issue("booking-integration")  # and a new one can be issued without --rotate


def test_token__the_lifetime_comes_from_the_settings(integration, clock, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": dt.timedelta(days=7)}
    token = issue("booking-integration")
    clock.shift(dt.timedelta(days=7, seconds=1))
    assert_refused(get(token))


def test_rotation__revokes_the_old_token_at_once(integration, clock):
    old = issue("booking-integration")
    new = issue("booking-integration", rotate=True)
    assert new != old
    assert_refused(get(old))
    assert get(new).status_code == 200


def test_rotation__with_grace_the_old_token_works_until_the_switch_over_ends(integration, clock):
    old = issue("booking-integration")
    new = issue("booking-integration", rotate=True, grace_hours=2)
    clock.shift(dt.timedelta(hours=1))
    assert get(old).status_code == 200
    clock.shift(dt.timedelta(hours=1, seconds=1))
    assert_refused(get(old))
    assert get(new).status_code == 200


def test_revocation__every_token_of_the_user_and_the_expired_ones(
    integration, clock, django_user_model
):
    first = issue("booking-integration")
    second = issue("booking-integration", rotate=True, grace_hours=1)
    other = django_user_model.objects.create_user("case-export")
    kept = issue("case-export")
    call_command("revoke_api_tokens", "booking-integration", stdout=io.StringIO())
    assert_refused(get(first))
    assert_refused(get(second))
    assert get(kept).status_code == 200

    AuthToken.objects.create(user=other, expiry=dt.timedelta(days=1))
    clock.shift(dt.timedelta(days=2))
    call_command("revoke_api_tokens", expired=True, stdout=io.StringIO())
    assert AuthToken.objects.filter(user=other).count() == 1  # the valid one stays
    with pytest.raises(CommandError):
        call_command("revoke_api_tokens", stdout=io.StringIO())


@pytest.mark.parametrize(
    "header",
    [
        None,  # no credentials: a 401 that names the scheme, not a 403
        "Token silta_" + "0" * 64,  # forged
        "Token not-a-token-at-all",
        "Token",  # no token after the scheme
        "Token a b",
    ],
)
def test_refused__missing_forged_or_malformed_tokens_are_401(integration, clock, header):
    issue("booking-integration")
    client = APIClient(REMOTE_ADDR="192.0.2.21")
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    assert_refused(client.get(URL))


def test_refused__a_real_tokens_prefix_with_a_forged_rest_is_401(integration, clock):
    token = issue("booking-integration")
    assert_refused(get(token[:15] + "f" * (len(token) - 15)))


def test_refused__an_inactive_users_token_is_401(integration, clock):
    token = issue("booking-integration")
    integration.is_active = False
    integration.save()
    assert_refused(get(token))


def test_throttle__an_address_sending_refused_tokens_is_locked_out(integration, clock, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    token = issue("booking-integration")
    statuses = [get(f"silta_{n:064x}", ip="198.51.100.9").status_code for n in range(3)]
    assert statuses == [401, 401, 429]

    locked = get(token, ip="198.51.100.9", HTTP_ACCEPT_LANGUAGE="en")
    assert locked.status_code == 429  # even the right token: it is not checked
    assert locked["Content-Type"] == "application/problem+json"
    assert locked.json()["code"] == "throttled"
    assert "refused tokens" in locked.json()["detail"]
    assert locked["Retry-After"] == str(15 * 60 + 1)
    # Another address, and the same one after the cool-off, get in.
    assert get(token, ip="198.51.100.10").status_code == 200
    clock.shift(dt.timedelta(minutes=15, seconds=1))
    assert get(token, ip="198.51.100.9").status_code == 200


def test_throttle__refused_tokens_never_lock_other_addresses_or_the_account(
    integration, clock, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    token = issue("booking-integration")
    for n in range(6):  # from six addresses, one refused token each
        get(f"silta_{n:064x}", ip=f"198.51.100.{n + 20}")
    assert get(token, ip="198.51.100.30").status_code == 200


def test_requests__no_write_to_the_token_per_request(integration, clock):
    token = issue("booking-integration")
    client = APIClient(REMOTE_ADDR="192.0.2.22")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.get(URL)
    clock.shift(dt.timedelta(days=1))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []
    assert AuthToken.objects.get(user=integration).expiry == START + TTL  # not refreshed


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migration__an_existing_plain_token_keeps_working_stored_as_a_hash(integration, clock):
    """The data migration carries each key of DRF's plain-text table over as its hash (a
    database migrated before knox has that table; this one, made after, is given one)."""
    import importlib

    from django.apps import apps

    from audit import db_roles

    migration = importlib.import_module("api.migrations.0002_api_tokens_hashed")
    key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's format: 40 hex characters
    # Migrations run as the schema's owner (the suite runs as the app's role).
    with db_roles.as_owner():
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
                "created timestamptz NOT NULL, user_id integer NOT NULL)"
            )
            cursor.execute(
                "INSERT INTO authtoken_token VALUES (%s, now(), %s)", [key, integration.pk]
            )
            cursor.execute(
                "INSERT INTO django_migrations (app, name, applied) "
                "VALUES ('authtoken', '0001_initial', now())"
            )
        with connection.schema_editor() as editor:
            migration.hash_existing_tokens(apps, editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'authtoken'")
        assert cursor.fetchone() == (0,)
    row = AuthToken.objects.get(user=integration)
    assert row.digest == hashlib.sha512(key.encode()).hexdigest()
    assert row.expiry == START + TTL
    assert get(key).status_code == 200


def test_schema__describes_the_token_scheme(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    assert scheme["type"] == "apiKey" and scheme["in"] == "header"
    assert scheme["name"] == "Authorization"
    assert "Token <token>" in scheme["description"]
    assert {"tokenAuth": []} in schema["paths"][URL]["get"]["security"]
