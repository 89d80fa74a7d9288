"""A short schemathesis run against /api/v1/schema/: no input makes the API answer 500 or
break its own schema. `make fuzz` runs the long version."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from cases.enums import CaseState
from tests.factories import case_in_state, make_org, transfer_in_state
from transfers.enums import TransferState

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
EXAMPLES = int(os.environ.get("SILTA_FUZZ_EXAMPLES", "15"))


@pytest.fixture
def token(db):
    from knox.models import AuthToken

    org = make_org()
    # Objects for the fuzzer's ids to find: a case in review, a proposed transfer.
    case_in_state(org, CaseState.IN_REVIEW)
    transfer_in_state(org, TransferState.PROPOSED)
    # The WSGI handler closes the database connection after each request; inside the
    # test's transaction it must not (Django's test client does the same).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield AuthToken.objects.create(user=org.caseworker)[1]
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
