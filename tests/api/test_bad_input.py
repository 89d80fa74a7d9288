"""Bad input to the API is a 400 problem+json naming the parameter or field, never a 500,
and nothing is written: a NUL in a query parameter, the path or anywhere in a JSON body
(a value, a key, nested), a body nested too deeply, dates out of range."""

import json

import pytest
from django.utils import translation

from cases.enums import CaseState
from cases.models import Case, Client, Event
from core.untrusted import MAX_JSON_DEPTH
from tests.factories import as_user, case_in_state, make_client

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def api():
    def signed_in(user):
        client = as_user(user)
        client.raise_request_exception = False
        return client

    return signed_in


def _client_body(**overrides):
    body = {"first_name": "Amina", "last_name": "Testinen", "date_of_birth": "1980-05-17"}
    return {**body, "language": "ara", **overrides}


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/supervisor/overdue-reviews/?worker=%00", "worker"),
        ("/api/v1/supervisor/overdue-reviews/?team=x%00", "team"),
        ("/api/v1/supervisor/stalled-transfers/?team=%00", "team"),
        ("/api/v1/supervisor/cases-at-cap/?team=%00", "team"),
        ("/api/v1/cases/?team__code=%00", "team__code"),
        ("/api/v1/clients/?language=%00&ordering=id", "language"),
    ],
)
def test_nul_in_a_query_parameter__400_naming_it(api, org, url, parameter):
    """The supervisor's filters answered 500 (PostgreSQL refuses NUL in a query)."""
    case_in_state(org, CaseState.REVIEW_DUE)
    answer = api(org.koto_supervisor).get(url)
    assert answer.status_code == 400
    assert answer["Content-Type"] == PROBLEM
    assert answer.json()["code"] == "invalid"
    assert list(answer.json()["errors"]) == [parameter]


def test_nul_in_the_path__400(api, org):
    answer = api(org.caseworker).get("/api/v1/cases/1%00/")
    assert answer.status_code == 400
    assert answer["Content-Type"] == PROBLEM


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ({"first_name": "Amina\x00"}, "first_name"),
        ({"street_address": "Malminkaari\x001"}, "street_address"),
        ({"nested": {"deeper": ["ok", "\x00"]}}, "nested.deeper[1]"),
        ({"key\x00": "value"}, "key\ufffd"),
    ],
)
def test_nul_in_a_json_body__400_naming_the_field_and_nothing_written(api, org, extra, where):
    clients, events = Client.objects.count(), Event.objects.count()
    with translation.override("en"):
        answer = api(org.caseworker).post(
            "/api/v1/clients/", _client_body(**extra), format="json", HTTP_ACCEPT_LANGUAGE="en"
        )
    assert answer.status_code == 400
    assert answer["Content-Type"] == PROBLEM
    assert answer.json()["errors"] == {where: ["Text may not contain the NUL character (U+0000)."]}
    assert (Client.objects.count(), Event.objects.count()) == (clients, events)


def test_nul_in_several_fields__each_named(api, org):
    answer = api(org.caseworker).post(
        "/api/v1/clients/",
        _client_body(first_name="A\x00", last_name="B\x00", language="ara"),
        format="json",
    )
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"first_name", "last_name"}


def test_unpaired_surrogate_in_a_json_body__400_naming_the_field(api, org):
    body = json.dumps(_client_body()).replace('"Amina"', '"\\ud800"')
    answer = api(org.caseworker).generic(
        "POST", "/api/v1/clients/", body, content_type="application/json"
    )
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["first_name"]


def test_json_nested_at_the_limit__parsed(api, org):
    body = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    answer = api(org.caseworker).generic(
        "POST", "/api/v1/clients/", body, content_type="application/json"
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"  # read, then refused: a list is not a client


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_json_nested_deeper_than_the_limit__400_before_parsing(api, org, depth):
    clients = Client.objects.count()
    body = "[" * depth + "]" * depth
    answer = api(org.caseworker).generic(
        "POST", "/api/v1/clients/", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 400
    assert answer["Content-Type"] == PROBLEM
    assert answer.json()["code"] == "parse_error"
    assert answer.json()["detail"] == "The JSON body is nested more than 32 levels deep."
    assert Client.objects.count() == clients


@pytest.mark.parametrize("started", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_case_open__integration_start_out_of_range__400_naming_the_field(api, org, started):
    """Year 9999 answered 500: the review date 24 months later overflowed."""
    client = make_client(org)
    cases = Case.objects.count()
    answer = api(org.caseworker).post(
        "/api/v1/cases/",
        {
            "client": client.pk,
            "team": org.koto.code,
            "responsible_worker": org.caseworker.username,
            "integration_started_on": started,
        },
        format="json",
    )
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["integration_started_on"]
    assert Case.objects.count() == cases


@pytest.mark.parametrize("born", ["0001-01-01", "9999-12-31", "1899-12-31"])
def test_client_create__date_of_birth_out_of_range__400_naming_the_field(api, org, born):
    clients = Client.objects.count()
    answer = api(org.caseworker).post(
        "/api/v1/clients/", _client_body(date_of_birth=born), format="json"
    )
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["date_of_birth"]
    assert Client.objects.count() == clients
