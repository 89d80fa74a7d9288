"""A household reviewed together: one page with every member's readiness (the criteria not
met and not assessed yet named, a link to each member's review), one access-log row per
member shown, and the household's transfer proposed from there, all or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from audit.models import AccessLog
from cases import services as case_services
from cases.enums import CaseState, Role
from cases.models import Case
from criteria.selectors import open_review_of
from tests.factories import assess_all_met, case_in_state, make_client, member, reload
from tests.web.test_clients import other_unit_worker
from transfers.models import Transfer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"


def family(org, *, spouse_ready=True):
    parent = case_in_state(org, CaseState.IN_REVIEW, first_name="Amina", last_name="Mäkinen")
    assess_all_met(org, parent)
    spouse = case_in_state(org, CaseState.IN_REVIEW, first_name="Omar", last_name="Mäkinen")
    if spouse_ready:
        assess_all_met(org, spouse)
    child = make_client(
        org, first_name="Sara", last_name="Mäkinen", date_of_birth=dt.date(2016, 1, 1)
    )
    case_services.household_link(
        actor=org.caseworker, client=parent.client, member=spouse.client, relation="spouse"
    )
    case_services.household_link(
        actor=org.caseworker, client=parent.client, member=child, relation="child"
    )
    return parent, spouse, child


def test_household_review__each_member_with_readiness_and_a_link_to_their_review(client, org):
    parent, spouse, child = family(org, spouse_ready=False)
    client.force_login(org.caseworker)
    page = client.get(reverse("web:household-review", args=[parent.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for case in (parent, spouse):
        assert reverse("web:review", args=[open_review_of(case).pk]) in html
    assert "Sara Mäkinen" in html and "moves with the family" in html
    assert "1 of 2 members' cases ready for transfer." in html
    # The spouse's unassessed criteria are named; nothing is proposed until all are ready.
    assert "Not assessed yet" in html and "Settled housing" in html
    assert "once every member is ready" in html
    assert 'action="' + reverse("web:household-propose", args=[parent.pk]) not in html
    rows = AccessLog.objects.filter(actor=org.caseworker, action="web_read")
    assert {parent.client_id, spouse.client_id, child.pk} <= set(
        rows.values_list("client_id", flat=True)
    )


def test_household_review__every_member_ready__proposed_together_from_the_page(client, org):
    parent, spouse, _child = family(org)
    client.force_login(org.caseworker)
    html = client.get(reverse("web:household-review", args=[spouse.pk])).content.decode()
    assert "2 of 2 members' cases ready for transfer." in html
    assert 'action="' + reverse("web:household-propose", args=[spouse.pk]) in html
    page = client.post(
        reverse("web:household-propose", args=[spouse.pk]),
        {"household-consent_basis": "consent"},
    )
    assert page.status_code == 302
    assert page.url == reverse("web:case", args=[spouse.pk])
    assert {reload(c).state for c in (parent, spouse)} == {CaseState.TRANSFER_PENDING}
    assert len({t.household_id for t in Transfer.objects.all()}) == 1


def test_household_review__missing_consent__beside_the_field_nothing_written(client, org):
    parent, _spouse, _child = family(org)
    client.force_login(org.caseworker)
    page = client.post(reverse("web:household-propose", args=[parent.pk]), {})
    assert page.status_code == 400
    assert 'id="id_household-consent_basis_error"' in page.content.decode()
    assert not Transfer.objects.exists()


def test_household_review__a_member_not_ready__refused_naming_who(client, org):
    parent, _spouse, _child = family(org, spouse_ready=False)
    client.force_login(org.caseworker)
    page = client.post(
        reverse("web:household-propose", args=[parent.pk]),
        {"household-consent_basis": "consent"},
        follow=True,
    )
    assert "Omar Mäkinen: not ready" in page.content.decode()
    assert not Transfer.objects.exists()


def test_household_review__a_member_outside_the_scope_is_counted_not_named(client, org):
    parent, spouse, _child = family(org)
    Case.objects.filter(pk=spouse.pk).update(team=other_unit_worker().memberships.get().team)
    client.force_login(org.caseworker)
    html = client.get(reverse("web:household-review", args=[parent.pk])).content.decode()
    assert "Omar" not in html
    assert "1 more member, not in your caseload." in html
    assert not AccessLog.objects.filter(client_id=spouse.client_id).exists()


def test_household_review__the_case_page_links_to_it(client, org):
    parent, _spouse, _child = family(org)
    client.force_login(org.caseworker)
    html = client.get(reverse("web:case", args=[parent.pk])).content.decode()
    assert reverse("web:household-review", args=[parent.pk]) in html


def test_household_review__no_household__back_to_the_case(client, org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    client.force_login(org.caseworker)
    page = client.get(reverse("web:household-review", args=[case.pk]))
    assert page.status_code == 302 and page.url == reverse("web:case", args=[case.pk])


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.CASEWORKER])
def test_household_review__read_by_the_case_team_only(client, org, role):
    parent, _spouse, _child = family(org)
    outsider = other_unit_worker()
    client.force_login(outsider)
    assert client.get(reverse("web:household-review", args=[parent.pk])).status_code == 404
    insider = member(org.koto, role)
    client.force_login(insider)
    assert client.get(reverse("web:household-review", args=[parent.pk])).status_code == 200
