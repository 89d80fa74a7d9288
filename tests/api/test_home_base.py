"""The home base through the API: an integration that closes a case as "no further need"
records the home base (or why none) first, as the web app's caseworker does."""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from cases.enums import CaseState
from cases.models import Event
from partners.enums import PartnerAction
from partners.models import HomeBase
from tests.factories import as_user, case_in_state, reload
from tests.partners.test_directory import partner

pytestmark = pytest.mark.django_db


def _close(api, case):
    return api.post(f"/api/v1/cases/{case.pk}/close/", {"reason": "no_further_need"}, format="json")


def test_home_base__organisation__recorded_then_the_case_closes(org):
    case = case_in_state(org, CaseState.ACTIVE)
    kulmakivi = partner("Asukastalo Kulmakivi", district="Koillinen", languages="ara,fin")
    api = as_user(org.caseworker)
    assert _close(api, case).status_code == 400  # no home base yet: refused

    answer = api.post(
        f"/api/v1/cases/{case.pk}/home-base/", {"organisation": kulmakivi.pk}, format="json"
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["organisation"] == kulmakivi.pk
    assert answer.json()["organisation_name"] == "Asukastalo Kulmakivi"
    assert HomeBase.objects.get(case=case).organisation == kulmakivi
    assert Event.objects.filter(case_id=case.pk, action=PartnerAction.HOME_BASE_RECORD).exists()
    assert AccessLog.objects.filter(case_id=case.pk, action="api_update").exists()
    assert _close(api, case).status_code == 200
    assert reload(case).state == CaseState.CLOSED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "organisation"),
        ({"reason": "   "}, "organisation"),
        ({"organisation": 999_999}, "organisation"),
        ({"reason": "x" * 2001}, "reason"),
        ({"reason": "nul\x00byte"}, "reason"),
    ],
)
def test_home_base__bad_input__400_names_the_field_and_nothing_written(org, body, field):
    case = case_in_state(org, CaseState.ACTIVE)

    answer = as_user(org.caseworker).post(
        f"/api/v1/cases/{case.pk}/home-base/", body, format="json"
    )

    assert answer.status_code == 400, answer.content
    assert field in str(answer.json())
    assert not HomeBase.objects.filter(case=case).exists()


def test_home_base__receiving_team__refused_and_nothing_written(org):
    case = case_in_state(org, CaseState.ACTIVE)

    answer = as_user(org.receiving_worker).post(
        f"/api/v1/cases/{case.pk}/home-base/", {"reason": "None nearby."}, format="json"
    )

    assert answer.status_code in (403, 404)
    assert not HomeBase.objects.filter(case=case).exists()
