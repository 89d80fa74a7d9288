"""Routing's edges (cases/routing.py): inactive teams are never chosen, a region without a
youth team routes the young to its adult team, the reason for a manual choice is said,
and a 29 February birthday counts from 1 March."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from cases.enums import TeamKind
from cases.models import Region, Team
from cases.routing import route
from core.errors import RoutingNeedsManualChoice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


ON = dt.date(2026, 11, 28)
YOUNG = dt.date(2000, 1, 1)
ADULT = dt.date(1970, 1, 1)


@pytest.fixture
def pohjoinen(db):
    region = Region.objects.get(code="pohjoinen")
    adult = Team.objects.create(
        code="p-aiso", name="Pohjoinen AISO", kind=TeamKind.ADULT, region=region
    )
    youth = Team.objects.create(
        code="p-nuoret", name="Pohjoinen nuoret", kind=TeamKind.YOUTH, region=region,
        max_client_age=30,
    )  # fmt: skip
    return adult, youth


def test_route__young_to_youth_team_adult_to_adult_team(pohjoinen):
    adult, youth = pohjoinen
    assert route(postal_code="00700", date_of_birth=YOUNG, on=ON) == youth
    assert route(postal_code="00700", date_of_birth=ADULT, on=ON) == adult


def test_route__inactive_youth_team__the_young_go_to_the_adult_team(pohjoinen):
    adult, youth = pohjoinen
    youth.is_active = False
    youth.save()
    assert route(postal_code="00700", date_of_birth=YOUNG, on=ON) == adult


def test_route__inactive_adult_team__a_person_chooses_and_is_told_why(pohjoinen):
    adult, _youth = pohjoinen
    adult.is_active = False
    adult.save()
    with pytest.raises(RoutingNeedsManualChoice) as raised:
        route(postal_code="00700", date_of_birth=ADULT, on=ON)
    assert "no active adult team" in raised.value.detail
    assert str(adult.region) in raised.value.detail


def test_route__no_youth_team__the_young_go_to_the_adult_team(pohjoinen):
    adult, youth = pohjoinen
    youth.delete()
    assert route(postal_code="00700", date_of_birth=YOUNG, on=ON) == adult


def test_route__an_immigration_unit_team_of_the_region_is_never_chosen(pohjoinen):
    adult, _youth = pohjoinen
    Team.objects.create(
        code="koto9", name="Koto 9", kind=TeamKind.IMMIGRATION_UNIT, region=adult.region
    )
    assert route(postal_code="00700", date_of_birth=ADULT, on=ON) == adult


def test_route__the_reason_says_whether_the_code_is_missing_or_unknown(pohjoinen):
    with pytest.raises(RoutingNeedsManualChoice) as missing:
        route(postal_code="", date_of_birth=ADULT, on=ON)
    assert "no postal code" in missing.value.detail
    with pytest.raises(RoutingNeedsManualChoice) as unknown:
        route(postal_code="99999", date_of_birth=ADULT, on=ON)
    assert "not in the routing table" in unknown.value.detail


def test_route__born_29_february__turns_30_on_1_march(pohjoinen):
    adult, youth = pohjoinen
    born = dt.date(1996, 2, 29)
    assert route(postal_code="00700", date_of_birth=born, on=dt.date(2026, 2, 28)) == youth
    assert route(postal_code="00700", date_of_birth=born, on=dt.date(2026, 3, 1)) == adult
