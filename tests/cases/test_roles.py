"""Who may act (cases/roles.py): no user, an anonymous or a deactivated one never acts,
whatever flag a caller passes or forgets; a member acts only in their own team and role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from cases import roles
from cases import services as case_services
from cases.enums import Role
from cases.models import Membership
from core.errors import ActorNotAllowed
from criteria import services as criteria_services
from tests.factories import client_data, member, open_case, reload
from tests.snapshot import snapshot

pytestmark = pytest.mark.django_db


def _require(actor, org, **kwargs):
    return roles.require_role(
        actor, team=org.koto, roles=roles.SENDING_ROLES, action="test", **kwargs
    )


# --- no user ------------------------------------------------------------------------------


def test_require_role__no_user__refused_unless_silta_itself_is_allowed(org):
    with pytest.raises(ActorNotAllowed) as refused:
        _require(None, org)
    assert refused.value.extra == {"action": "test"}
    with pytest.raises(ActorNotAllowed):
        _require(None, org, system_allowed=False)
    assert _require(None, org, system_allowed=True) == "system"


def test_require_role__anonymous_user__refused_even_where_silta_may_act(org):
    with pytest.raises(ActorNotAllowed):
        _require(AnonymousUser(), org)
    with pytest.raises(ActorNotAllowed):
        _require(AnonymousUser(), org, system_allowed=True)


def test_service__called_without_a_user__refused_and_nothing_changes(org):
    """A caller that forgets to pass the user gets a refusal, not Silta's own rights."""
    case = open_case(org)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        case_services.case_set_coordinator(actor=None, case=case, coordinator="Kela")
    with pytest.raises(ActorNotAllowed):
        criteria_services.review_start(actor=None, case=case)
    with pytest.raises(ActorNotAllowed):
        case_services.client_create(actor=None, **client_data(first_name="Nobody"))
    with pytest.raises(ActorNotAllowed):
        case_services.client_create(actor=AnonymousUser(), **client_data(first_name="Anon"))
    assert snapshot() == before


# --- an inactive member -------------------------------------------------------------------


def test_require_role__deactivated_member__refused(org):
    assert _require(org.caseworker, org) == Role.CASEWORKER
    org.caseworker.is_active = False
    org.caseworker.save()
    with pytest.raises(ActorNotAllowed):
        _require(reload(org.caseworker), org)


def test_service__deactivated_member_calling_it_directly__refused_and_nothing_changes(org):
    case = open_case(org)
    org.caseworker.is_active = False
    org.caseworker.save()
    gone = reload(org.caseworker)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        case_services.case_set_coordinator(actor=gone, case=case, coordinator="Kela")
    with pytest.raises(ActorNotAllowed):
        case_services.case_mark_due(case=case, actor=gone)
    with pytest.raises(ActorNotAllowed):
        case_services.client_create(actor=gone, **client_data(first_name="Late"))
    with pytest.raises(ActorNotAllowed):
        case_services.client_update(actor=gone, client=case.client, street_address="Uusi 2")
    assert snapshot() == before


def test_require_immigration_unit_role__no_user_inactive_or_regional__refused(org):
    assert roles.require_immigration_unit_role(org.caseworker, action="x") == Role.CASEWORKER
    assert roles.require_immigration_unit_role(org.koto_supervisor, action="x") == Role.SUPERVISOR
    for actor in (None, AnonymousUser(), org.receiving_supervisor, org.front_desk, org.outsider):
        with pytest.raises(ActorNotAllowed):
            roles.require_immigration_unit_role(actor, action="x")
    inactive = member(org.koto, Role.CASEWORKER, is_active=False)
    with pytest.raises(ActorNotAllowed):
        roles.require_immigration_unit_role(inactive, action="x")


# --- team and role ------------------------------------------------------------------------


def test_require_role__the_role_in_that_team_only(org):
    assert _require(org.koto_supervisor, org) == Role.SUPERVISOR
    for actor in (org.receiving_supervisor, org.receiving_worker, org.outsider):
        with pytest.raises(ActorNotAllowed):
            _require(actor, org)
    # A supervisor of the team is not its front desk.
    with pytest.raises(ActorNotAllowed):
        roles.require_role(org.koto_supervisor, team=org.koto, roles=[Role.FRONT_DESK], action="x")
    assert (
        roles.require_role(org.front_desk, team=org.adult, roles=roles.BOOKING_ROLES, action="x")
        == Role.FRONT_DESK
    )


def test_is_member__an_active_member_in_one_of_the_roles(org):
    assert roles.is_member(org.caseworker, team=org.koto, roles=[Role.CASEWORKER])
    assert not roles.is_member(org.caseworker, team=org.koto, roles=[Role.SUPERVISOR])
    assert not roles.is_member(org.caseworker, team=org.adult, roles=[Role.CASEWORKER])
    assert not roles.is_member(None, team=org.koto, roles=[Role.CASEWORKER])
    assert not roles.is_member(AnonymousUser(), team=org.koto, roles=[Role.CASEWORKER])
    gone = member(org.koto, Role.CASEWORKER, is_active=False)
    assert not roles.is_member(gone, team=org.koto, roles=[Role.CASEWORKER])


def test_team_ids_of__signed_in_active_members_only(org):
    assert roles.team_ids_of(org.caseworker) == [org.koto.pk]
    assert roles.team_ids_of(org.caseworker, [Role.SUPERVISOR]) == []
    assert roles.supervised_team_ids(org.koto_supervisor) == [org.koto.pk]
    assert roles.supervised_team_ids(org.caseworker) == []
    assert roles.desk_team_ids(org.front_desk) == [org.adult.pk]
    assert roles.desk_team_ids(org.receiving_supervisor) == [org.adult.pk]
    assert roles.desk_team_ids(org.receiving_worker) == []
    assert roles.team_ids_of(None) == []
    assert roles.team_ids_of(AnonymousUser()) == []
    gone = member(org.koto, Role.CASEWORKER, is_active=False)
    assert roles.team_ids_of(gone) == []


def test_team_ids_of__a_member_of_two_teams_in_two_roles(org):
    both = member(org.koto, Role.CASEWORKER)
    Membership.objects.create(user=both, team=org.adult, role=Role.SUPERVISOR)
    Membership.objects.create(user=both, team=org.koto, role=Role.SUPERVISOR)
    assert sorted(roles.team_ids_of(both)) == sorted([org.koto.pk, org.adult.pk])
    assert sorted(roles.supervised_team_ids(both)) == sorted([org.koto.pk, org.adult.pk])


def test_roles_of__anonymous_and_inactive_users_have_none(org):
    for user in (AnonymousUser(), member(org.koto, Role.SUPERVISOR, is_active=False)):
        found = roles.Roles.of(user)
        assert found.memberships == []
        assert found.first_role == ""
        assert found.caseload_teams == found.supervised_teams == []


def test_roles_of__each_page_sees_the_teams_of_its_roles(org):
    koto = roles.Roles.of(org.koto_supervisor)
    assert koto.first_role == Role.SUPERVISOR
    assert koto.caseload_teams == [org.koto]
    assert koto.supervised_teams == [org.koto]
    assert koto.receiving_teams == koto.desk_teams == []

    regional = roles.Roles.of(org.receiving_supervisor)
    assert regional.caseload_teams == []
    assert regional.receiving_teams == [org.adult]
    assert regional.desk_teams == [org.adult]
    assert regional.supervised_teams == [org.adult]

    assert roles.Roles.of(org.receiving_worker).receiving_teams == [org.adult]
    assert roles.Roles.of(org.receiving_worker).desk_teams == []
    assert roles.Roles.of(org.front_desk).desk_teams == [org.adult]
    assert roles.Roles.of(org.front_desk).receiving_teams == []
    assert roles.Roles.of(org.caseworker).caseload_teams == [org.koto]
    assert roles.Roles.of(org.caseworker).supervised_teams == []


def test_roles_of__youth_team_is_regional_an_immigration_unit_supervisor_is_not(org):
    youth_desk = member(org.youth, Role.FRONT_DESK)
    assert roles.Roles.of(youth_desk).desk_teams == [org.youth]
    # A supervisor of an Immigration Unit team has no desk and receives no transfers.
    assert roles.Roles.of(org.koto_supervisor).desk_teams == []
    assert roles.Roles.of(org.koto_supervisor).receiving_teams == []


def test_roles_of_request__read_once_per_request(org, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = org.caseworker
    with django_assert_num_queries(1):
        first = roles.roles_of(request)
        again = roles.roles_of(request)
    assert first is again
    assert first.caseload_teams == [org.koto]


def test_roles_of__first_role_is_the_first_membership_made(org):
    both = member(org.adult, Role.FRONT_DESK)
    Membership.objects.create(user=both, team=org.koto, role=Role.CASEWORKER)
    Membership.objects.create(user=both, team=org.youth, role=Role.SUPERVISOR)
    assert roles.Roles.of(both).first_role == Role.FRONT_DESK


# A front desk serving several teams (Team.front_desk_team) ---------------------------------


@pytest.fixture
def malmi_desk(org):
    """Pohjoinen's youth team and a second adult team, both booked by the adult team's desk."""
    from cases.enums import TeamKind
    from cases.models import Team

    second = Team.objects.create(
        code="pohjoinen-aiso-2",
        name="Pohjoinen AISO 2",
        kind=TeamKind.ADULT,
        region=org.adult.region,
        front_desk_team=org.adult,
    )
    org.youth.front_desk_team = org.adult
    org.youth.save()
    return second


def test_shared_desk__role_matrix(org, malmi_desk):
    """Who works the shared desk's queue, books, and sees its teams' transfers."""
    second = malmi_desk
    second_desk = member(second, Role.FRONT_DESK)  # works at Malmi's desk too
    second_supervisor = member(second, Role.SUPERVISOR)
    lansi_desk = member(org.other_adult, Role.FRONT_DESK)
    shared = sorted([org.adult.pk, org.youth.pk, second.pk])
    # (user, desk queue teams, scope of reads)
    expected = [
        (org.front_desk, shared, shared),
        (second_desk, shared, shared),
        (second_supervisor, [second.pk], [second.pk]),  # a supervisor: their own team
        (org.receiving_supervisor, [org.adult.pk], [org.adult.pk]),
        (org.receiving_worker, [], [org.adult.pk]),
        (lansi_desk, [org.other_adult.pk], [org.other_adult.pk]),
        (org.caseworker, [], [org.koto.pk]),
    ]
    for user, desk, scope in expected:
        assert roles.desk_team_ids(user) == desk, user
        assert sorted(t.pk for t in roles.Roles.of(user).desk_teams) == desk, user
        assert roles.scope_team_ids(user) == scope, user
    # (user, may book the youth team's handover, may book the second team's)
    for user, youth, second_team in [
        (org.front_desk, True, True),
        (second_desk, True, True),
        (second_supervisor, False, True),
        (org.receiving_worker, False, False),
        (lansi_desk, False, False),
        (org.caseworker, False, False),
    ]:
        for team, allowed in ((org.youth, youth), (second, second_team)):
            if allowed:
                assert roles.require_role(user, team=team, roles=roles.BOOKING_ROLES, action="x")
            else:
                with pytest.raises(ActorNotAllowed):
                    roles.require_role(user, team=team, roles=roles.BOOKING_ROLES, action="x")
    assert (
        roles.require_role(org.front_desk, team=org.youth, roles=roles.BOOKING_ROLES, action="x")
        == Role.FRONT_DESK
    )
    # Only actions open to the front desk: sharing a desk gives no receiving worker's right.
    with pytest.raises(ActorNotAllowed):
        roles.require_role(
            org.front_desk, team=second, roles=roles.ACCEPTING_ROLES, action="accept"
        )
    assert (
        roles.require_role(second_supervisor, team=second, roles=roles.BOOKING_ROLES, action="x")
        == Role.SUPERVISOR
    )


def test_shared_desk__teams_of_a_desk(org, malmi_desk):
    second = malmi_desk
    shared = sorted([org.adult.pk, org.youth.pk, second.pk])
    assert roles.shared_desk_team_ids([second.pk]) == shared
    assert roles.shared_desk_team_ids([org.adult.pk]) == shared
    assert roles.shared_desk_team_ids([org.other_adult.pk]) == [org.other_adult.pk]
    assert roles.shared_desk_team_ids([]) == []
    assert sorted(roles.desk_ids_of([second.pk, org.youth.pk, org.other_adult.pk])) == sorted(
        [org.adult.pk, org.adult.pk, org.other_adult.pk]
    )
