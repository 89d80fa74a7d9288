"""The API under generated input: no request makes it answer 5xx or break its own schema.

- schemathesis over every operation of /api/v1/schema/, as a user with every role (so
  the supervisor's filters and the receiving team's actions are reached, not refused at
  the door): SILTA_FUZZ_EXAMPLES examples each (10 here; `make fuzz` runs 300 and adds
  schemathesis' coverage phase, its boundary and negative cases for every parameter).
- Every operation once more with every parameter and body field filled by hand with what
  the issue found answering 500: a NUL in every string (refused with 400, whichever field
  it is in), dates in year 1 and year 9999, huge and negative numbers.

The objects the fuzzer's ids find (a case in review, a proposed transfer, ...) are made
once for the module; each operation's test runs in a savepoint rolled back after it.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from cases.enums import CaseState, Role
from cases.models import Membership
from partners.services import referral_send
from tests.factories import case_in_state, make_org, transfer_in_state
from tests.partners.test_directory import partner
from transfers.enums import TransferState

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
LONG = "SILTA_FUZZ_EXAMPLES" in os.environ  # `make fuzz`
EXAMPLES = int(os.environ.get("SILTA_FUZZ_EXAMPLES", "10"))
# The coverage phase sends hundreds of deterministic cases per operation whatever the
# number of examples: the long run's.
schema.config.phases.coverage.enabled = LONG


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Made once: an organisation, a user with every role in it, objects in the states the
    actions need, and the user's API token. Rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        org = make_org()
        user = org.caseworker
        for team, role in [
            (org.koto, Role.SUPERVISOR),
            (org.adult, Role.RECEIVING_WORKER),
            (org.adult, Role.FRONT_DESK),
            (org.adult, Role.SUPERVISOR),
        ]:
            Membership.objects.create(user=user, team=team, role=role)
        in_review = case_in_state(org, CaseState.IN_REVIEW)
        # A partner of the handbook and a referral: the case's referrals list has a row,
        # and a fuzzed organisation id can find one that takes referrals.
        referral_send(
            actor=user,
            case=in_review,
            organisation=partner("Fuzz partner", languages="ara", email="fuzz@example.org"),
            purpose="Language club",
            shared_fields=["language"],
            consent=True,
        )
        transfer_in_state(org, TransferState.PROPOSED)
        transfer_in_state(org, TransferState.BOOKED)
        token = AuthToken.objects.create(user=user)[1]
        yield {"org": org, "token": token}
        transaction.set_rollback(True)


@pytest.fixture
def token(world, db):
    # The WSGI handler closes the database connection after each request; inside the
    # test's transaction it must not (Django's test client does the same).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield world["token"]
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
@pytest.mark.django_db
def test_api__no_server_error_and_no_response_breaking_the_schema(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        checks=[
            schemathesis.checks.not_a_server_error,
            schemathesis.checks.response_schema_conformance,
        ],
    )


# Every operation with what once answered 500 -------------------------------------------

OPENAPI: dict[str, Any] = schema.raw_schema
OPERATIONS = [
    (method.upper(), path, spec)
    for path, methods in OPENAPI["paths"].items()
    for method, spec in methods.items()
    if method in ("get", "post", "put", "patch", "delete")
]

# What a value of each kind becomes in each variant.
NASTY = {
    "nul": {"string": "a\x00b", "date": "2024-01-01\x00", "date-time": "\x00", "integer": 1},
    "year 9999, huge numbers": {
        "date": "9999-12-31",
        "date-time": "9999-12-31T23:59:59Z",
        "integer": 10**30,
        "number": 1e308,
    },
    "year 1, negative numbers": {
        "date": "0001-01-01",
        "date-time": "0001-01-01T00:00:00Z",
        "integer": -(10**30),
        "number": -1e308,
    },
}
PLAIN = {"string": "x", "date": "2024-01-01", "date-time": "2024-01-01T12:00:00Z", "integer": 1}


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        node = OPENAPI["components"]["schemas"][node["$ref"].split("/")[-1]]
    return node


def _value(node: dict, variant: str, depth: int = 0) -> Any:
    """A value for a schema node: every property of an object filled, lists of one."""
    node = _resolve(node)
    for combined in ("allOf", "oneOf", "anyOf"):
        if combined in node:
            return _value(node[combined][0], variant, depth)
    kind = node.get("type", "string")
    if kind == "object" or "properties" in node:
        if depth > 5:
            return {}
        return {
            name: _value(prop, variant, depth + 1)
            for name, prop in node.get("properties", {}).items()
            if not _resolve(prop).get("readOnly")
        }
    if kind == "array":
        return [_value(node.get("items", {}), variant, depth + 1)]
    if kind == "boolean":
        return True
    key = node.get("format") if node.get("format") in ("date", "date-time") else kind
    if "enum" in node and variant != "nul":
        return node["enum"][0]
    return NASTY[variant].get(key, PLAIN.get(key, "x"))


def _request(path: str, spec: dict, variant: str) -> tuple[str, dict, Any]:
    """(url, query, body) with every parameter and body field filled for the variant."""
    query, url = {}, path
    for parameter in spec.get("parameters", []):
        value = _value(parameter.get("schema", {}), variant)
        if parameter["in"] == "path":
            url = url.replace(f"{{{parameter['name']}}}", "1")  # an object made above
        elif parameter["in"] == "query":
            # Page 1, so that a list's filters are reached (a page past the end is a 404).
            query[parameter["name"]] = 1 if parameter["name"] == "page" else value
    content = spec.get("requestBody", {}).get("content", {})
    body = _value(content["application/json"]["schema"], variant) if content else None
    return url, query, body


def _has_text(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, dict):
        return any(_has_text(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_text(item) for item in value)
    return False


@pytest.mark.parametrize("variant", list(NASTY))
@pytest.mark.parametrize(
    ("method", "path", "spec"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
@pytest.mark.django_db
def test_api__every_operation_with_nul_far_dates_and_huge_numbers__never_a_server_error(
    world, method, path, spec, variant
):
    url, query, body = _request(path, spec, variant)
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Token {world['token']}")
    answer = api.generic(
        method,
        url,
        data=json.dumps(body) if body is not None else "",
        content_type="application/json",
        QUERY_STRING=urlencode(query),
    )
    assert answer.status_code < 500, (method, url, query, body, answer.content[:500])
    if variant == "nul" and (_has_text(query) or _has_text(body)):
        assert answer.status_code == 400, (method, url, answer.status_code)
        assert answer["Content-Type"] == "application/problem+json"
