"""The request id: a proxy's X-Request-ID is kept only when it is well formed; anything
else (too long, a NUL, letters outside ASCII, empty) gets a new id, the given one goes to a
warning line only, cut and marked untrusted, and the request answers as it would have
(never a 500), with its access-log row written."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from audit.models import AccessLog, AccessOutcome
from cases.enums import CaseState
from tests.factories import case_in_state

pytestmark = pytest.mark.django_db

WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")

VALID = {
    "short token": "req-42",
    "uuid": "0b6f1c1e-6a51-4bb8-9d0e-0c2b7c5a9f1e",
    "hex uuid": "0b6f1c1e6a514bb89d0e0c2b7c5a9f1e",
    "64 characters": "a" * 64,
}
INVALID = {
    "65 characters": "b" * 65,
    "10,000 characters": "c" * 10_000,
    # django-guid's own UUID check would take this one (it drops hyphens): 232 characters.
    "uuid with 200 hyphens": "-" * 200 + "0b6f1c1e6a514bb89d0e0c2b7c5a9f1e",
    "NUL": "req\x00-42",
    "unicode": "pyyntö-42",
    "newline (forged log line)": "req-42\nERROR forged",
    "space": "req 42",
    "empty": "",
}


@pytest.fixture
def scene(org):
    case = case_in_state(org, CaseState.ACTIVE)
    caseworker, outsider = Client(), Client()
    caseworker.force_login(org.caseworker)
    outsider.force_login(org.outsider)
    return {
        # (who, path, expected status, expected access-log outcome)
        "web page": (caseworker, f"/cases/{case.pk}/", 200, AccessOutcome.ALLOWED),
        "API call": (caseworker, f"/api/v1/cases/{case.pk}/", 200, AccessOutcome.ALLOWED),
        "refused web page": (outsider, f"/cases/{case.pk}/", 404, AccessOutcome.DENIED),
        "refused API call": (outsider, f"/api/v1/cases/{case.pk}/", 404, AccessOutcome.DENIED),
    }


SURFACES = ["web page", "API call", "refused web page", "refused API call"]


def _request(scene, surface: str, request_id: str):
    who, path, status, outcome = scene[surface]
    before = AccessLog.objects.count()
    response = who.get(path, headers={"X-Request-ID": request_id})
    assert response.status_code == status, (surface, request_id[:80], response.status_code)
    rows = list(AccessLog.objects.order_by("id")[before:])
    assert rows, f"{surface}: no access-log row written"
    assert {row.outcome for row in rows} == {outcome}
    return response, rows


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("name", list(VALID))
def test_well_formed_id__kept_in_the_answer_and_the_access_log(scene, surface, name, caplog):
    given = VALID[name]
    with caplog.at_level(logging.WARNING, logger="silta.request_id"):
        response, rows = _request(scene, surface, given)
    assert response["X-Request-ID"] == given
    assert {row.request_id for row in rows} == {given}
    assert not [r for r in caplog.records if r.name == "silta.request_id"]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("name", list(INVALID))
def test_malformed_id__a_new_one__no_500__the_row_still_written(scene, surface, name, caplog):
    given = INVALID[name]
    with caplog.at_level(logging.WARNING, logger="silta.request_id"):
        response, rows = _request(scene, surface, given)
    new = response["X-Request-ID"]
    assert WELL_FORMED.fullmatch(new) and new != given
    assert {row.request_id for row in rows} == {new}
    warnings = [r for r in caplog.records if r.name == "silta.request_id"]
    if not given:
        # No id given: django-guid makes one, nothing to warn about.
        assert not warnings
        return
    # The given id is in the log line only: cut to 64 characters, escaped, marked untrusted,
    # beside the request's new id, and the line's own request id is the new one.
    (warning,) = warnings
    line = warning.getMessage()
    assert "untrusted" in line and new in line
    assert line.endswith(ascii(given[:64]))
    assert "\n" not in line and "\x00" not in line
    assert not (set(line) - set(map(chr, range(32, 127))))


def test_the_view_itself_sees_the_new_id(scene):
    """Whatever reads the id during the request (log lines, access-log rows, a task queued
    for the worker) reads the checked one: here, while the page renders."""
    from django.test.signals import template_rendered
    from django_guid import get_guid

    seen = []

    def capture(**kwargs):
        seen.append(get_guid())

    who, path, _status, _outcome = scene["web page"]
    template_rendered.connect(capture)
    try:
        response = who.get(path, headers={"X-Request-ID": "x" * 100})
    finally:
        template_rendered.disconnect(capture)
    assert seen and set(seen) == {response["X-Request-ID"]}
