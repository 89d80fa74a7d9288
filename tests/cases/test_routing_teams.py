"""Routing with several teams of a kind per region (cases/routing.py): the routing table
names a postal code's adult and youth team; where it names none, the region's only active
team of the kind; several and none named, a person chooses. One test per branch."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from cases.enums import TeamKind
from cases.models import PostalArea, Region, Team
from cases.routing import route
from core.errors import RoutingNeedsManualChoice

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 11, 28)
YOUNG = dt.date(2000, 1, 1)  # 26
ADULT = dt.date(1970, 1, 1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _team(code: str, kind: str, region: Region, **kwargs) -> Team:
    if kind == TeamKind.YOUTH:
        kwargs.setdefault("max_client_age", 30)
    return Team.objects.create(code=code, name=code, kind=kind, region=region, **kwargs)


def _name(postal_code: str, **teams: Team | None) -> PostalArea:
    area = PostalArea.objects.get(postal_code=postal_code)
    for column, team in teams.items():
        setattr(area, column, team)
    area.save()
    return area


@pytest.fixture
def north(db):
    """The North with two adult teams (Malmi: 00700, Oulunkylä: 00640) and one youth team."""
    region = Region.objects.get(code="pohjoinen")
    one = _team("aiso-1", TeamKind.ADULT, region)
    two = _team("aiso-2", TeamKind.ADULT, region)
    youth = _team("nuoret", TeamKind.YOUTH, region)
    _name("00700", adult_team=one)
    _name("00640", adult_team=two)
    return one, two, youth


@pytest.fixture
def east(db):
    """The East with one adult team and youth teams in Kontula (00940) and Vuosaari (00980)."""
    region = Region.objects.get(code="ita")
    adult = _team("ita-aiso", TeamKind.ADULT, region)
    kontula = _team("nuoret-kontula", TeamKind.YOUTH, region)
    vuosaari = _team("nuoret-vuosaari", TeamKind.YOUTH, region)
    _name("00940", youth_team=kontula)
    _name("00980", youth_team=vuosaari)
    return adult, kontula, vuosaari


def test_route__two_adult_teams__each_postal_code_to_the_team_the_table_names(north):
    one, two, _youth = north
    assert route(postal_code="00700", date_of_birth=ADULT, on=ON) == one
    assert route(postal_code="00640", date_of_birth=ADULT, on=ON) == two


def test_route__two_adult_teams__the_region_s_only_youth_team_still_takes_the_young(north):
    _one, _two, youth = north
    assert route(postal_code="00700", date_of_birth=YOUNG, on=ON) == youth
    assert route(postal_code="00640", date_of_birth=YOUNG, on=ON) == youth


def test_route__two_youth_teams__each_postal_code_to_its_youth_team(east):
    _adult, kontula, vuosaari = east
    assert route(postal_code="00940", date_of_birth=YOUNG, on=ON) == kontula
    assert route(postal_code="00980", date_of_birth=YOUNG, on=ON) == vuosaari


def test_route__two_youth_teams__an_adult_goes_to_the_region_s_adult_team(east):
    adult, _kontula, _vuosaari = east
    assert route(postal_code="00980", date_of_birth=ADULT, on=ON) == adult


def test_route__several_adult_teams_none_named__a_person_chooses_and_is_told_why(north):
    with pytest.raises(RoutingNeedsManualChoice) as raised:
        route(postal_code="00720", date_of_birth=ADULT, on=ON)  # Pukinmäki: not named
    assert raised.value.extra["postal_code"] == "00720"
    assert "several adult teams" in raised.value.detail
    assert "Pohjoinen" in raised.value.detail


def test_route__several_youth_teams_none_named__the_young_need_a_choice(east):
    with pytest.raises(RoutingNeedsManualChoice) as raised:
        route(postal_code="00920", date_of_birth=YOUNG, on=ON)  # Myllypuro: not named
    assert "several youth teams" in raised.value.detail


def test_route__several_youth_teams_none_named__an_adult_is_not_held_up(east):
    adult, _kontula, _vuosaari = east
    assert route(postal_code="00920", date_of_birth=ADULT, on=ON) == adult


def test_route__several_youth_teams__only_those_whose_age_limit_fits_count(east):
    _adult, kontula, vuosaari = east
    vuosaari.max_client_age = 25
    vuosaari.save()
    # 26 years old: only Kontula's limit (30) takes them, so there is nothing to choose.
    assert route(postal_code="00920", date_of_birth=YOUNG, on=ON) == kontula


def test_route__the_named_team_wins_over_the_region_s_others_of_the_kind(east):
    _adult, kontula, _vuosaari = east
    # Kontula is named for 00940 although Vuosaari's code sorts after it: not row order.
    _name("00940", youth_team=kontula)
    assert route(postal_code="00940", date_of_birth=YOUNG, on=ON) == kontula


def test_route__named_adult_team_inactive__a_person_chooses(north):
    one, _two, _youth = north
    one.is_active = False
    one.save()
    with pytest.raises(RoutingNeedsManualChoice) as raised:
        route(postal_code="00700", date_of_birth=ADULT, on=ON)
    assert "not an active team" in raised.value.detail
    assert "aiso-1" in raised.value.detail


def test_route__named_youth_team_inactive__the_young_need_a_choice_adults_do_not(east):
    adult, _kontula, vuosaari = east
    vuosaari.is_active = False
    vuosaari.save()
    with pytest.raises(RoutingNeedsManualChoice):
        route(postal_code="00980", date_of_birth=YOUNG, on=ON)
    assert route(postal_code="00980", date_of_birth=ADULT, on=ON) == adult


def test_route__named_team_of_the_wrong_kind__a_person_chooses(north):
    one, _two, _youth = north
    # The admin and the API refuse this (PostalArea.clean); routing never trusts it.
    PostalArea.objects.filter(postal_code="00700").update(youth_team=one)
    with pytest.raises(RoutingNeedsManualChoice) as raised:
        route(postal_code="00700", date_of_birth=ADULT, on=ON)
    assert "not an active team of this kind" in raised.value.detail


def test_route__named_adult_team_is_a_youth_or_immigration_unit_team__a_person_chooses(north):
    _one, _two, youth = north
    koto = Team.objects.create(
        code="koto-p", name="Koto P", kind=TeamKind.IMMIGRATION_UNIT, region=youth.region
    )
    # Neither is an adult team, whatever the table says: an adult is never sent to one.
    for named in (youth, koto):
        PostalArea.objects.filter(postal_code="00700").update(adult_team=named)
        with pytest.raises(RoutingNeedsManualChoice) as raised:
            route(postal_code="00700", date_of_birth=ADULT, on=ON)
        assert "not an active team of this kind" in raised.value.detail
        assert str(named) in raised.value.detail


def test_route__none_named_one_team_of_the_kind__that_team(db):
    region = Region.objects.get(code="lansi")
    adult = _team("lansi-aiso", TeamKind.ADULT, region)
    assert route(postal_code="00440", date_of_birth=ADULT, on=ON) == adult


def test_route__none_named_and_no_adult_team__a_person_chooses(db):
    with pytest.raises(RoutingNeedsManualChoice) as raised:
        route(postal_code="00440", date_of_birth=ADULT, on=ON)
    assert "no active adult team" in raised.value.detail


def test_route__inactive_teams_of_the_region_are_not_candidates(north):
    one, two, _youth = north
    two.is_active = False
    two.save()
    # 00720 is not named: of the two adult teams only one is active, so it is the one.
    assert route(postal_code="00720", date_of_birth=ADULT, on=ON) == one


# The table's rules (the admin and the API) -------------------------------------------------


def test_postal_area__the_named_team_must_be_of_the_kind_and_the_area_s_region(north, east):
    one, _two, youth = north
    ita_adult, _kontula, _vuosaari = east
    with pytest.raises(ValidationError) as wrong_kind:
        PostalArea(postal_code="00701", region=one.region, adult_team=youth).clean()
    assert set(wrong_kind.value.message_dict) == {"adult_team"}
    with pytest.raises(ValidationError) as wrong_region:
        PostalArea(postal_code="00701", region=one.region, adult_team=ita_adult).clean()
    assert set(wrong_region.value.message_dict) == {"adult_team"}
    with pytest.raises(ValidationError) as youth_wrong:
        PostalArea(postal_code="00701", region=one.region, youth_team=one).clean()
    assert set(youth_wrong.value.message_dict) == {"youth_team"}
    PostalArea(postal_code="00701", region=one.region, adult_team=one, youth_team=youth).clean()


# Teams as they are: no database rule of one team per kind and region ----------------------


def test_team__a_region_may_have_several_active_teams_of_a_kind(north):
    assert Team.objects.filter(region__code="pohjoinen", kind=TeamKind.ADULT).count() == 2


def test_team__a_front_desk_serves_several_teams__one_level_regional_only(north, east):
    one, two, youth = north
    two.front_desk_team = one
    two.full_clean()
    two.save()
    youth.front_desk_team = one
    youth.full_clean()
    youth.save()
    assert {team.desk for team in (one, two, youth)} == {one}
    assert one.desk == one
    with pytest.raises(ValidationError):  # a chain: one's desk is served itself
        one.front_desk_team = two
        one.full_clean()
    one.front_desk_team = None
    ita_adult, _kontula, _vuosaari = east
    ita_adult.front_desk_team = two  # two is served by one: not a desk of its own
    with pytest.raises(ValidationError):
        ita_adult.full_clean()
    koto = Team.objects.create(
        code="koto2", name="Koto 2", kind=TeamKind.IMMIGRATION_UNIT, region=one.region
    )
    ita_adult.front_desk_team = koto
    with pytest.raises(ValidationError):
        ita_adult.full_clean()
    with pytest.raises(ValidationError):
        one.front_desk_team = one
        one.full_clean()
    with transaction.atomic(), pytest.raises(IntegrityError):
        Team.objects.filter(pk=one.pk).update(front_desk_team=one)


# The data migration (cases 0011) ------------------------------------------------------------


def _migration():
    import importlib

    return importlib.import_module("cases.migrations.0011_postal_areas_name_their_teams")


def test_migration__names_the_region_s_only_team_of_each_kind_and_leaves_several(north):
    one, _two, youth = north
    PostalArea.objects.update(adult_team=None, youth_team=None)
    lansi = _team("lansi-aiso", TeamKind.ADULT, Region.objects.get(code="lansi"))
    _team("old", TeamKind.ADULT, lansi.region, is_active=False)  # inactive: not counted

    _migration().name_the_teams(apps, None)

    north_areas = PostalArea.objects.filter(region__code="pohjoinen")
    assert set(north_areas.values_list("adult_team", flat=True)) == {None}  # two: a person
    assert set(north_areas.values_list("youth_team", flat=True)) == {youth.pk}
    west = PostalArea.objects.filter(region__code="lansi")
    assert set(west.values_list("adult_team", flat=True)) == {lansi.pk}
    assert set(west.values_list("youth_team", flat=True)) == {None}  # no youth team
    assert not PostalArea.objects.filter(region__code="etela", adult_team__isnull=False).exists()
    # A team the table already names is kept.
    _name("00700", adult_team=one, youth_team=None)
    _migration().name_the_teams(apps, None)
    assert PostalArea.objects.get(postal_code="00700").adult_team == one

    _migration().empty_the_columns(apps, None)
    assert not PostalArea.objects.filter(adult_team__isnull=False).exists()
    assert not PostalArea.objects.filter(youth_team__isnull=False).exists()


# The routing table through the API (administrators write it) ------------------------------


def test_api__an_administrator_names_a_postal_code_s_teams_by_code(north, east):
    from django.contrib.auth import get_user_model

    from tests.factories import as_user

    _one, two, youth = north
    ita_adult, _kontula, _vuosaari = east
    admin = as_user(get_user_model().objects.create_superuser("routing-admin", password="x"))
    area = PostalArea.objects.get(postal_code="00720")
    url = f"/api/v1/postal-areas/{area.pk}/"

    answer = admin.patch(url, {"adult_team": "aiso-2"}, format="json")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["adult_team"], answer.json()["youth_team"]) == ("aiso-2", None)
    assert route(postal_code="00720", date_of_birth=ADULT, on=ON) == two

    wrong_kind = admin.patch(url, {"youth_team": "aiso-1"}, format="json")
    assert wrong_kind.status_code == 400
    assert "youth_team" in wrong_kind.json()["errors"]
    wrong_region = admin.patch(url, {"adult_team": ita_adult.code}, format="json")
    assert wrong_region.status_code == 400
    assert "adult_team" in wrong_region.json()["errors"]
    assert PostalArea.objects.get(pk=area.pk).adult_team == two  # nothing written

    cleared = admin.patch(url, {"adult_team": None}, format="json")
    assert cleared.status_code == 200
    with pytest.raises(RoutingNeedsManualChoice):
        route(postal_code="00720", date_of_birth=ADULT, on=ON)
    team = admin.get(f"/api/v1/teams/{youth.pk}/").json()
    assert team["front_desk_team"] is None
