"""A household's readiness and proposal in the service (transfers.services.household), in
the detail the mutation run (`make mutate`) showed untested: why each member is not ready
(in the words the household's review page and the API show), who moves with the family,
the team and the reason each member's transfer records, and which transfers act together."""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.utils import translation

from cases import services as case_services
from cases.enums import CaseState, TeamKind
from cases.models import Case, HouseholdMember, PostalArea, Team
from core import clock
from core.errors import (
    ActorNotAllowed,
    Conflict,
    CriteriaNotMet,
    InvalidInput,
    TransitionNotAllowed,
)
from tests.factories import (
    assess_all_met,
    case_in_state,
    make_client,
    reload,
)
from transfers import services
from transfers.enums import TransferState
from transfers.models import Transfer
from transfers.services import household as household_services

pytestmark = pytest.mark.django_db


def ready_case(org, **client):
    case = case_in_state(org, CaseState.IN_REVIEW, **client)
    assess_all_met(org, case)
    return case


def linked(org, first, *others, relation="spouse"):
    household = None
    for other in others:
        other_client = other if not isinstance(other, Case) else other.client
        household = case_services.household_link(
            actor=org.caseworker, client=first.client, member=other_client, relation=relation
        )
    return household


def readiness_by_name(org, household):
    with translation.override("en"):
        rows, hidden = household_services.household_members_readiness(
            actor=org.caseworker, household=household
        )
    return {r.member.client.first_name: r for r in rows}, hidden


@pytest.mark.parametrize(
    "state, why",
    [
        (CaseState.ACTIVE, "the review has not been started"),
        (CaseState.REVIEW_DUE, "the review has not been started"),
        (CaseState.TRANSFER_PENDING, "a transfer is already proposed"),
    ],
)
def test_readiness__a_member_not_in_review__named_with_why(org, state, why):
    parent = ready_case(org, first_name="Amina", last_name="Mäkinen")
    spouse = case_in_state(org, state, first_name="Omar", last_name="Mäkinen")
    household = linked(org, parent, spouse)
    rows, hidden = readiness_by_name(org, household)
    assert hidden == 0
    assert rows["Omar"].why == why
    assert (rows["Omar"].case, rows["Omar"].ready) == (spouse, False)
    assert (rows["Amina"].why, rows["Amina"].ready) == (None, True)
    with translation.override("en"):
        found, problems = household_services.household_readiness(
            actor=org.caseworker, household=household
        )
    assert problems == [f"Omar Mäkinen: {why}"]
    assert [case for _m, case in found] == [parent]
    with translation.override("en"), pytest.raises(CriteriaNotMet) as refused:
        services.household_transfer_propose(
            consent_basis="consent", actor=org.caseworker, household=household
        )
    assert f"Omar Mäkinen: {why}" in refused.value.detail
    assert not Transfer.objects.filter(case=parent).exists()


def test_readiness__an_adult_without_an_open_case__not_ready_a_child_moves_with_the_family(org):
    parent = ready_case(org, first_name="Amina", last_name="Mäkinen")
    spouse = case_in_state(org, CaseState.CLOSED, first_name="Omar", last_name="Mäkinen")
    child = make_client(org, first_name="Sara", date_of_birth=dt.date(2016, 1, 1))
    household = linked(org, parent, spouse)
    linked(org, parent, child, relation="child")
    rows, _hidden = readiness_by_name(org, household)
    assert (rows["Omar"].why, rows["Omar"].case, rows["Omar"].ready) == (
        "no open case",
        None,
        False,
    )
    assert rows["Omar"].moves_with_family is False
    assert (rows["Sara"].why, rows["Sara"].case, rows["Sara"].ready) == (None, None, False)
    assert rows["Sara"].moves_with_family is True
    assert rows["Amina"].moves_with_family is False
    with translation.override("en"):
        _found, problems = household_services.household_readiness(
            actor=org.caseworker, household=household
        )
    assert problems == ["Omar Mäkinen: no open case"]


def test_readiness__no_member_with_an_open_case__says_so(org):
    adult = case_in_state(org, CaseState.CLOSED, first_name="Amina")
    child = make_client(org, first_name="Sara", date_of_birth=dt.date(2016, 1, 1))
    household = linked(org, adult, child, relation="child")
    HouseholdMember.objects.filter(client=adult.client).update(relation="child")
    with translation.override("en"):
        found, problems = household_services.household_readiness(
            actor=org.caseworker, household=household
        )
    assert (found, problems) == ([], ["no member has an open case"])


def test_readiness__not_ready__the_blockers_then_the_unmet_criteria_by_name(org):
    parent = ready_case(org, first_name="Amina", last_name="Mäkinen")
    spouse = case_in_state(
        org,
        CaseState.IN_REVIEW,
        first_name="Omar",
        last_name="Mäkinen",
        family_reunification_pending=True,
    )
    household = linked(org, parent, spouse)
    rows, _hidden = readiness_by_name(org, household)
    omar = rows["Omar"]
    assert omar.blockers == ("Family reunification is pending",)
    assert omar.why.startswith("not ready: Family reunification is pending, ")
    assert "Settled housing" in omar.unassessed
    assert omar.not_met == ()
    assert omar.why == "not ready: " + ", ".join(omar.blockers + omar.unassessed)
    assert omar.review is not None and omar.review.case_id == spouse.pk


def test_readiness__a_ppt_client_without_a_coordinator__not_ready(org):
    parent = ready_case(org, first_name="Amina", last_name="Mäkinen")
    spouse = ready_case(org, first_name="Omar", last_name="Mäkinen")
    household = linked(org, parent, spouse)
    spouse.client.__class__.objects.filter(pk=spouse.client_id).update(is_ppt=True)
    rows, _hidden = readiness_by_name(org, household)
    assert rows["Omar"].why == "a PPT client needs a named coordinator"
    assert rows["Amina"].why is None


def test_readiness__visible_members_in_another_teams_caseload__named_not_ready(org):
    """The receiving team sees the household it accepted, but proposes for no one."""
    household, parent, spouse = _family(org)
    first, _second = services.household_transfer_propose(
        consent_basis="consent", actor=org.caseworker, household=household
    )
    services.transfer_accept_together(
        actor=org.receiving_worker, transfer=first, receiving_worker=org.receiving_worker
    )
    with translation.override("en"):
        rows, hidden = household_services.household_members_readiness(
            actor=org.receiving_supervisor, household=household
        )
    assert ({r.case for r in rows}, hidden) == ({parent, spouse}, 0)
    assert {r.why for r in rows} == {"the case is in another team's caseload"}


def test_propose__the_routed_team_by_default_a_member_routed_elsewhere_says_why(org):
    """A young adult whom routing sends to the youth team moves with the household to the
    adult team; their transfer records why. The routed member's transfer needs no reason."""
    parent = ready_case(org, first_name="Amina", last_name="Mäkinen")
    young = ready_case(
        org,
        first_name="Omar",
        last_name="Mäkinen",
        date_of_birth=clock.today() - relativedelta(years=20),
    )
    household = linked(org, parent, young, relation="child")
    with translation.override("en"):
        transfers = services.household_transfer_propose(
            consent_basis="consent", actor=org.caseworker, household=household
        )
    by_case = {t.case_id: reload(t) for t in transfers}
    assert by_case[parent.pk].receiving_team == org.adult
    assert by_case[parent.pk].override_reason == ""
    assert by_case[young.pk].receiving_team == org.adult
    assert by_case[young.pk].override_reason == "Moves with the household to the same team."


def test_propose__a_chosen_team_and_reason__every_member_records_the_reason(org):
    household, _parent, _spouse = _family(org)
    transfers = services.household_transfer_propose(
        consent_basis="consent",
        actor=org.caseworker,
        household=household,
        receiving_team=org.other_adult,
        override_reason="The family moves to Länsi next month",
    )
    assert {(t.receiving_team, t.override_reason) for t in map(reload, transfers)} == {
        (org.other_adult, "The family moves to Länsi next month")
    }


def test_propose__routing_cannot_choose__refused_beside_the_team_nothing_written(org):
    household, parent, _spouse = _family(org)
    PostalArea.objects.filter(postal_code=parent.client.postal_code).delete()
    with pytest.raises(InvalidInput) as refused:
        services.household_transfer_propose(
            consent_basis="consent", actor=org.caseworker, household=household
        )
    assert "receiving_team" in refused.value.errors
    assert not Transfer.objects.exists()


def _family(org):
    parent = ready_case(org, first_name="Amina", last_name="Mäkinen")
    spouse = ready_case(org, first_name="Omar", last_name="Mäkinen")
    return linked(org, parent, spouse), parent, spouse


def test_propose_for__a_client_in_no_household__conflict(org):
    lone = ready_case(org)
    with pytest.raises(Conflict):
        services.household_transfer_propose_for(
            actor=org.caseworker, client=lone.client, consent_basis="consent"
        )
    assert not Transfer.objects.exists()


def test_propose_for__a_child_without_a_case__proposes_the_familys_cases(org):
    household, parent, spouse = _family(org)
    child = make_client(org, first_name="Sara", date_of_birth=dt.date(2016, 1, 1))
    linked(org, parent, child, relation="child")
    transfers = services.household_transfer_propose_for(
        actor=org.caseworker, client=child, consent_basis="consent"
    )
    assert sorted(t.case_id for t in transfers) == sorted([parent.pk, spouse.pk])
    assert {t.household_id for t in transfers} == {household.pk}


def test_propose_for__only_the_sending_team_s_roles(org):
    _household, parent, _spouse = _family(org)
    with pytest.raises(ActorNotAllowed):
        services.household_transfer_propose_for(
            actor=org.receiving_supervisor, client=parent.client, consent_basis="consent"
        )
    assert not Transfer.objects.exists()


def test_propose_for__no_member_with_an_open_case__not_ready(org):
    adult = case_in_state(org, CaseState.CLOSED, first_name="Amina")
    child = make_client(org, first_name="Sara", date_of_birth=dt.date(2016, 1, 1))
    linked(org, adult, child, relation="child")
    with translation.override("en"), pytest.raises(CriteriaNotMet) as refused:
        services.household_transfer_propose_for(
            actor=org.caseworker, client=child, consent_basis="consent"
        )
    assert "no member has an open case" in refused.value.detail


def test_siblings__a_transfer_of_no_household_is_alone_closed_ones_left_out(org):
    household, _parent, _spouse = _family(org)
    first, second = services.household_transfer_propose(
        consent_basis="consent", actor=org.caseworker, household=household
    )
    lone = services.transfer_propose(
        consent_basis="consent",
        actor=org.caseworker,
        review=ready_case(org, first_name="Leila").reviews.get(completed_at__isnull=True),
    )
    assert household_services.household_siblings(lone) == [lone]
    assert household_services.household_siblings(second) == sorted(
        [first, second], key=lambda t: t.pk
    )
    services.transfer_cancel(actor=org.caseworker, transfer=first, reason="Moved away")
    assert household_services.household_siblings(second) == [second]
    assert household_services.household_siblings(second, state=TransferState.ACCEPTED) == [second]


def test_together__a_transfer_already_acted_on_alone__its_own_refusal(org):
    """Accepting one that is no longer proposed does not accept its proposed siblings."""
    household, _parent, _spouse = _family(org)
    first, second = services.household_transfer_propose(
        consent_basis="consent", actor=org.caseworker, household=household
    )
    services.transfer_accept(
        actor=org.receiving_worker, transfer=first, receiving_worker=org.receiving_worker
    )
    with pytest.raises(TransitionNotAllowed):
        services.transfer_accept_together(
            actor=org.receiving_worker, transfer=first, receiving_worker=org.receiving_worker
        )
    assert reload(second).state == TransferState.PROPOSED
    accepted = services.transfer_accept_together(
        actor=org.receiving_worker, transfer=second, receiving_worker=org.receiving_worker
    )
    assert accepted.pk == second.pk and accepted.state == TransferState.ACCEPTED


def test_together__returns_the_transfer_asked_for_not_the_last_sibling(org):
    household, _parent, _spouse = _family(org)
    first, second = sorted(
        services.household_transfer_propose(
            consent_basis="consent", actor=org.caseworker, household=household
        ),
        key=lambda t: t.pk,
    )
    returned = services.transfer_return_together(
        actor=org.receiving_worker, transfer=first, reason="missing_information", text="Unclear"
    )
    assert returned.pk == first.pk
    assert {reload(t).state for t in (first, second)} == {TransferState.RETURNED}


def test_readiness__members_outside_the_scope__counted_exactly(org):
    """The household's review and its refusal say how many members the worker may not
    see: here one of two."""
    parent = ready_case(org, first_name="Amina", last_name="Mäkinen")
    spouse = ready_case(org, first_name="Omar", last_name="Mäkinen")
    household = linked(org, parent, spouse)
    other = Team.objects.create(
        code="koto4", name="Koto-tiimi 4", kind=TeamKind.IMMIGRATION_UNIT, region=org.koto.region
    )
    Case.objects.filter(pk=spouse.pk).update(team=other)
    rows, hidden = readiness_by_name(org, household)
    assert (set(rows), hidden) == ({"Amina"}, 1)
    with translation.override("en"):
        _found, problems = household_services.household_readiness(
            actor=org.caseworker, household=household
        )
    assert problems == ["1 member of the household is not in your caseload"]


def test_readiness__in_review_without_an_open_review__not_ready_never_an_error(org):
    """A case in review always has its open review (starting one, and returning a
    transfer, open it); a row that says otherwise is not trusted: the member is named not
    ready, and the household's review is shown, not a server error."""
    parent = ready_case(org, first_name="Amina", last_name="Mäkinen")
    spouse = ready_case(org, first_name="Omar", last_name="Mäkinen")
    household = linked(org, parent, spouse)
    spouse.reviews.update(completed_at=clock.now())
    rows, _hidden = readiness_by_name(org, household)
    assert (rows["Omar"].why, rows["Omar"].review, rows["Omar"].ready) == (
        "the case is “In review”",
        None,
        False,
    )
    assert rows["Amina"].ready


def test_propose__a_member_routing_cannot_place__moves_with_the_household(org):
    """A member whose postal code is not in the routing table goes to the household's team
    with the others; their transfer records why (no routed team)."""
    parent = ready_case(org, first_name="Amina", last_name="Mäkinen")
    spouse = ready_case(org, first_name="Omar", last_name="Mäkinen", postal_code="00640")
    PostalArea.objects.filter(postal_code="00640").delete()
    household = linked(org, parent, spouse)
    with translation.override("en"):
        transfers = services.household_transfer_propose(
            consent_basis="consent", actor=org.caseworker, household=household
        )
    by_case = {t.case_id: reload(t) for t in transfers}
    assert (by_case[parent.pk].receiving_team, by_case[parent.pk].override_reason) == (
        org.adult,
        "",
    )
    assert by_case[spouse.pk].receiving_team == org.adult
    assert by_case[spouse.pk].routed_team is None
    assert by_case[spouse.pk].override_reason == "Moves with the household to the same team."


def test_together__returns_the_transfer_asked_for_among_thousands_of_transfers(org):
    """As in production, where transfer ids run into the thousands: the transfer asked for
    is found among its siblings by its id's value."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('transfers_transfer', 'id'))"
            " FROM generate_series(1, 1000)"
        )
    household, _parent, _spouse = _family(org)
    first, second = sorted(
        services.household_transfer_propose(
            consent_basis="consent", actor=org.caseworker, household=household
        ),
        key=lambda t: t.pk,
    )
    assert first.pk > 1000
    asked_for = Transfer.objects.get(pk=second.pk)  # as a page or the API reads it
    accepted = services.transfer_accept_together(
        actor=org.receiving_worker, transfer=asked_for, receiving_worker=org.receiving_worker
    )
    assert (accepted.pk, accepted.state) == (second.pk, TransferState.ACCEPTED)
    assert reload(first).state == TransferState.ACCEPTED
