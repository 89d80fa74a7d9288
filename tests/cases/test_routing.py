"""Routing: postal code to region, then youth team under 30 on the day of the proposal."""

import csv
import datetime as dt
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta

from cases.enums import TeamKind
from cases.models import PostalArea, Region, Team
from cases.routing import route
from core.errors import RoutingNeedsManualChoice

pytestmark = pytest.mark.django_db

TABLE = Path(__file__).resolve().parents[2] / "cases" / "data" / "helsinki_postal_areas.csv"
ROWS = list(csv.DictReader(TABLE.open(encoding="utf-8")))
ON = dt.date(2026, 11, 28)
ADULT_BORN = dt.date(1970, 1, 1)


@pytest.fixture
def regional_teams(db):
    teams = {}
    for region in Region.objects.all():
        teams[region.code, TeamKind.ADULT] = Team.objects.create(
            code=f"{region.code}-aiso", name=f"{region} AISO", kind=TeamKind.ADULT, region=region
        )
        teams[region.code, TeamKind.YOUTH] = Team.objects.create(
            code=f"{region.code}-nuoret",
            name=f"{region} nuoret",
            kind=TeamKind.YOUTH,
            region=region,
            max_client_age=30,
        )
    return teams


def test_routing_table__loaded_with_every_row_of_the_default_table():
    assert len(ROWS) == 84
    assert PostalArea.objects.count() == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[row["postal_code"] for row in ROWS])
def test_routing__every_postal_code_routes_to_its_region(regional_teams, row):
    team = route(postal_code=row["postal_code"], date_of_birth=ADULT_BORN, on=ON)
    assert team == regional_teams[row["region"], TeamKind.ADULT]


def test_routing__age_29_goes_to_youth_team_age_30_to_adult_team(regional_teams):
    born_29 = ON - relativedelta(years=30) + dt.timedelta(days=1)  # turns 30 tomorrow
    born_30 = ON - relativedelta(years=30)  # turns 30 today
    assert (
        route(postal_code="00700", date_of_birth=born_29, on=ON)
        == regional_teams["pohjoinen", TeamKind.YOUTH]
    )
    assert (
        route(postal_code="00700", date_of_birth=born_30, on=ON)
        == regional_teams["pohjoinen", TeamKind.ADULT]
    )


def test_routing__age_limit_is_data(regional_teams):
    youth = regional_teams["pohjoinen", TeamKind.YOUTH]
    youth.max_client_age = 25
    youth.save()
    born_27 = ON - relativedelta(years=27)
    assert route(postal_code="00700", date_of_birth=born_27, on=ON).kind == TeamKind.ADULT


def test_routing__region_change_in_table_changes_routing(regional_teams):
    area = PostalArea.objects.get(postal_code="00800")
    area.region = Region.objects.get(code="etela")
    area.save()
    assert (
        route(postal_code="00800", date_of_birth=ADULT_BORN, on=ON)
        == regional_teams["etela", TeamKind.ADULT]
    )


@pytest.mark.parametrize("postal_code", ["00099", "00002", "02100", "33100", ""])
def test_routing__unknown_postal_code__asks_for_manual_choice(regional_teams, postal_code):
    with pytest.raises(RoutingNeedsManualChoice) as raised:
        route(postal_code=postal_code, date_of_birth=ADULT_BORN, on=ON)
    assert raised.value.code == "routing_needs_manual_choice"
    assert raised.value.extra["postal_code"] == postal_code


def test_routing__region_without_adult_team__asks_for_manual_choice(regional_teams):
    regional_teams["ita", TeamKind.ADULT].delete()
    with pytest.raises(RoutingNeedsManualChoice):
        route(postal_code="00930", date_of_birth=ADULT_BORN, on=ON)
