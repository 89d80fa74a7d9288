"""A client's household through the API: read (members in scope named with readiness, the
others counted, one access-log row per member shown), link, leave, and the household's
transfer proposed together; role by endpoint, with nothing changed when refused."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AccessLog
from cases import services as case_services
from cases.enums import CaseState, Role, TeamKind
from cases.models import Case, HouseholdMember, Region, Team
from tests.api.test_matrix import (
    CW,
    KS,
    ROLES,
    user_of,
    without_access_log,
)
from tests.factories import (
    as_user,
    assess_all_met,
    case_in_state,
    make_client,
    make_org,
    member,
    transfer_in_state,
)
from tests.snapshot import snapshot
from transfers.enums import TransferState
from transfers.models import Transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    """The role matrix's world: with a caseworker of a second Immigration Unit team."""
    org = make_org()
    other_unit = Team.objects.create(
        code="koto1",
        name="Koto-tiimi 1",
        kind=TeamKind.IMMIGRATION_UNIT,
        region=Region.objects.get(code="lansi"),
    )
    org.other_caseworker = member(other_unit, Role.CASEWORKER)
    return org


def family(org, *, spouse_ready=True, linked=True):
    parent = case_in_state(org, CaseState.IN_REVIEW, first_name="Amina", last_name="Mäkinen")
    assess_all_met(org, parent)
    spouse = case_in_state(org, CaseState.IN_REVIEW, first_name="Omar", last_name="Mäkinen")
    if spouse_ready:
        assess_all_met(org, spouse)
    if linked:
        case_services.household_link(
            actor=org.caseworker, client=parent.client, member=spouse.client, relation="spouse"
        )
    return parent, spouse


def household_of(org, role, case):
    return as_user(user_of(org, role)).get(f"/api/v1/clients/{case.client_id}/household/")


# Reading --------------------------------------------------------------------------------------


def test_household__members_with_readiness_and_a_row_per_member(org):
    parent, spouse = family(org, spouse_ready=False)
    child = make_client(org, first_name="Sara", date_of_birth=dt.date(2016, 1, 1))
    case_services.household_link(
        actor=org.caseworker, client=parent.client, member=child, relation="child"
    )
    api = as_user(org.caseworker)
    body = api.get(
        f"/api/v1/clients/{parent.client_id}/household/", HTTP_ACCEPT_LANGUAGE="en"
    ).json()
    by_name = {m["first_name"]: m for m in body["members"]}
    assert body["client"] == parent.client_id and body["household"] is not None
    assert body["ready"] is False and body["members_outside_scope"] == 0
    assert by_name["Amina"]["ready"] is True and by_name["Amina"]["not_ready_because"] is None
    assert by_name["Amina"]["case"]["reference"] == parent.reference
    assert by_name["Omar"]["ready"] is False
    assert "Settled housing" in by_name["Omar"]["not_assessed"]
    assert by_name["Sara"]["moves_with_family"] is True and by_name["Sara"]["case"] is None
    logged = AccessLog.objects.filter(actor=org.caseworker, action="api_read")
    assert set(logged.values_list("client_id", flat=True)) == {
        parent.client_id,
        spouse.client_id,
        child.pk,
    }


def test_household__a_member_outside_the_scope_is_counted_not_named(org):
    parent, spouse = family(org)
    Case.objects.filter(pk=spouse.pk).update(team=org.other_caseworker.memberships.get().team)
    response = household_of(org, CW, parent)
    assert b"Omar" not in response.content
    body = response.json()
    assert body["members_outside_scope"] == 1 and body["ready"] is False
    assert not AccessLog.objects.filter(client_id=spouse.client_id).exists()


def test_household__a_client_in_none(org):
    parent, _spouse = family(org, linked=False)
    body = household_of(org, CW, parent).json()
    assert body == {
        "client": parent.client_id,
        "household": None,
        "members": [],
        "members_outside_scope": 0,
        "ready": False,
    }


READ = {CW: 200, KS: 200, "receiving_worker": 404, "front_desk": 404}


@pytest.mark.parametrize("role", ROLES)
def test_household__read_matrix(org, role):
    parent, _spouse = family(org)
    response = household_of(org, role, parent)
    assert response.status_code == READ.get(role, 404)
    if response.status_code != 200:
        assert b"Amina" not in response.content


# Writing --------------------------------------------------------------------------------------


def _link(org):
    parent, spouse = family(org, linked=False)
    return parent, {"member": spouse.client_id, "relation": "spouse"}, "link"


def _leave(org):
    parent, _spouse = family(org)
    return parent, {}, "leave"


def _propose(org):
    parent, _spouse = family(org)
    return parent, {"consent_basis": "consent"}, "propose-transfer"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("build", [_link, _leave, _propose], ids=["link", "leave", "propose"])
def test_household__action_matrix(org, role, build):
    case, body, action = build(org)
    before = without_access_log(snapshot())
    response = as_user(user_of(org, role)).post(
        f"/api/v1/clients/{case.client_id}/household/{action}/", body, format="json"
    )
    if role in (CW, KS):
        assert response.status_code in (200, 201), response.json()
        return
    assert response.status_code == 404, (role, response.json())
    assert without_access_log(snapshot()) == before


def test_household__a_receiving_worker_who_sees_the_clients_may_not_act__403(org):
    first, second = (transfer_in_state(org, TransferState.BOOKING_REQUESTED) for _ in range(2))
    third = case_in_state(org, CaseState.ACTIVE)
    case_services.household_link(
        actor=org.caseworker, client=first.case.client, member=third.client, relation="spouse"
    )
    before = without_access_log(snapshot())
    api = as_user(org.receiving_worker)
    base = "/api/v1/clients/{}/household/"
    assert api.get(base.format(first.case.client_id)).status_code == 200
    for path, body in [
        (base.format(second.case.client_id) + "link/", {"member": first.case.client_id}),
        (base.format(first.case.client_id) + "leave/", {}),
        (base.format(first.case.client_id) + "propose-transfer/", {"consent_basis": "consent"}),
    ]:
        response = api.post(path, {"relation": "spouse", **body}, format="json")
        assert response.status_code == 403, (path, response.json())
    assert without_access_log(snapshot()) == before


def test_household__link_then_leave(org):
    parent, spouse = family(org, linked=False)
    api = as_user(org.caseworker)
    body = api.post(
        f"/api/v1/clients/{parent.client_id}/household/link/",
        {"member": spouse.client_id, "relation": "spouse"},
        format="json",
    ).json()
    assert sorted(m["relation"] for m in body["members"]) == ["parent", "spouse"]
    again = api.post(
        f"/api/v1/clients/{parent.client_id}/household/link/",
        {"member": spouse.client_id, "relation": "spouse"},
        format="json",
    )
    assert again.status_code == 409
    left = api.post(f"/api/v1/clients/{spouse.client_id}/household/leave/", {}, format="json")
    assert left.status_code == 200 and left.json()["household"] is None
    assert not HouseholdMember.objects.exists()  # one left alone leaves too


def test_household__bad_input_beside_the_field(org):
    parent, _spouse = family(org, linked=False)
    response = as_user(org.caseworker).post(
        f"/api/v1/clients/{parent.client_id}/household/link/",
        {"member": 987654, "relation": "cousin"},
        format="json",
    )
    assert response.status_code == 400
    assert {"member", "relation"} <= set(response.json()["errors"])


def test_household__proposed_together__one_transfer_per_member_one_household(org):
    _parent, spouse = family(org)
    response = as_user(org.caseworker).post(
        f"/api/v1/clients/{spouse.client_id}/household/propose-transfer/",
        {"consent_basis": "consent"},
        format="json",
    )
    assert response.status_code == 201
    assert sorted(t["id"] for t in response.json()) == sorted(
        Transfer.objects.values_list("pk", flat=True)
    )
    assert len({t.household_id for t in Transfer.objects.all()}) == 1
    assert Transfer.objects.count() == 2


def test_household__a_member_not_ready__409_naming_who_nothing_written(org):
    parent, _spouse = family(org, spouse_ready=False)
    response = as_user(org.caseworker).post(
        f"/api/v1/clients/{parent.client_id}/household/propose-transfer/",
        {"consent_basis": "consent"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "criteria_not_met"
    assert "Omar Mäkinen: not ready" in response.json()["detail"]
    assert not Transfer.objects.exists()


def test_household__propose_for_a_client_in_none__conflict(org):
    parent, _spouse = family(org, linked=False)
    response = as_user(org.caseworker).post(
        f"/api/v1/clients/{parent.client_id}/household/propose-transfer/",
        {"consent_basis": "consent"},
        format="json",
    )
    assert response.status_code == 409
    assert not Transfer.objects.exists()
