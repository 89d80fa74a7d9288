"""Changing a client's facts moves the first review date by the rules (with both dates in
the history, never past the cap), households link clients with their relation, and the
search finds a client by name without dots, identity code, reference or date of birth."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection, transaction

from cases import services as case_services
from cases.enums import CaseAction, CaseState, ClientAction, HouseholdRelation
from cases.models import Case, Client, Event, HouseholdMember, search_form
from cases.selectors import (
    cases_matching,
    cases_visible_to,
    clients_without_case_matching,
    household_members_of,
    search_terms,
)
from core import clock
from core.errors import ActorNotAllowed, Conflict, InvalidInput
from criteria import services as criteria_services
from tests.database import wait_until_blocked
from tests.factories import case_in_state, make_client, open_case, reload

pytestmark = pytest.mark.django_db


def reunited_stable(**extra):
    return {
        "reunited_family": True,
        "sponsor_in_finland_since": clock.today() - relativedelta(years=10),
        "family_situation_stable": True,
        **extra,
    }


# The review date follows the facts ----------------------------------------------------------


def test_client_update__family_stabilises__review_moves_to_one_year_with_both_dates(org):
    case = open_case(
        org,
        started_months_ago=3,
        reunited_family=True,
        sponsor_in_finland_since=clock.today() - relativedelta(years=10),
    )
    before = case.review_due_on
    assert before == case.integration_started_on + relativedelta(months=24)

    criteria_services.client_update(
        actor=org.caseworker, client=case.client, family_situation_stable=True
    )

    case = reload(case)
    assert case.review_due_on == case.integration_started_on + relativedelta(months=12)
    event = Event.objects.get(case=case, action=CaseAction.REVIEW_DATE_CHANGED)
    assert event.params["from"] == before.isoformat()
    assert event.params["to"] == case.review_due_on.isoformat()
    assert event.params["fields"] == ["family_situation_stable"]
    assert event.actor == org.caseworker
    # The new date is still ahead: the case waits for it, the review is not due yet.
    assert case.review_due_on > clock.today()
    assert case.state == CaseState.ACTIVE
    assert not Event.objects.filter(case=case, action=CaseAction.MARK_DUE).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_client_update__a_review_made_due_meanwhile__its_date_is_left_alone(org):
    """The facts change while another writer makes the case's review due: the update
    waits for the case and, finding it no longer active, leaves the date that writer set
    (the rules recompute only an active case's date)."""
    case = open_case(
        org,
        started_months_ago=3,
        reunited_family=True,
        sponsor_in_finland_since=clock.today() - relativedelta(years=10),
    )
    outcome: dict[str, object] = {}

    def update() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            criteria_services.client_update(
                actor=org.caseworker, client=case.client, family_situation_stable=True
            )
            outcome["updated"] = True
        except Exception as exc:  # asserted below
            outcome["updated"] = exc
        finally:
            connection.close()

    with transaction.atomic():
        # Another writer holds the case (as the services lock it) and makes its review
        # due today while the update waits for it.
        Case.objects.select_for_update(no_key=True).get(pk=case.pk)
        thread = threading.Thread(target=update)
        thread.start()
        wait_until_blocked(outcome, "the update")
        Case.objects.filter(pk=case.pk).update(
            state=CaseState.REVIEW_DUE, review_due_on=clock.today()
        )
    thread.join(timeout=60)
    assert outcome["updated"] is True
    assert reload(case.client).family_situation_stable is True
    case = reload(case)
    assert (case.state, case.review_due_on) == (CaseState.REVIEW_DUE, clock.today())
    assert not Event.objects.filter(case=case, action=CaseAction.REVIEW_DATE_CHANGED).exists()


def test_client_update__a_date_falling_today__the_review_is_due_at_once(org):
    """The new first-review date is today itself (the family's year has just run out):
    the review is due now, not tomorrow."""
    case = open_case(
        org,
        started_months_ago=12,
        reunited_family=True,
        sponsor_in_finland_since=clock.today() - relativedelta(years=10),
    )
    assert case.integration_started_on + relativedelta(months=12) == clock.today()
    criteria_services.client_update(
        actor=org.caseworker, client=case.client, family_situation_stable=True
    )
    case = reload(case)
    assert (case.review_due_on, case.state) == (clock.today(), CaseState.REVIEW_DUE)


def test_client_update__the_family_no_longer_stable__review_moves_back_to_two_years(org):
    case = open_case(
        org,
        started_months_ago=3,
        reunited_family=True,
        sponsor_in_finland_since=clock.today() - relativedelta(years=10),
    )
    two_years = case.integration_started_on + relativedelta(months=24)
    criteria_services.client_update(
        actor=org.caseworker, client=case.client, family_situation_stable=True
    )
    criteria_services.client_update(
        actor=org.caseworker, client=case.client, family_situation_stable=False
    )
    assert reload(case).review_due_on == two_years
    changed = Event.objects.filter(case=case, action=CaseAction.REVIEW_DATE_CHANGED)
    assert [e.params["to"] for e in changed.order_by("id")][-1] == two_years.isoformat()


def test_client_update__a_date_already_come__the_review_is_due_at_once(org):
    case = open_case(
        org,
        started_months_ago=13,
        **{k: v for k, v in reunited_stable().items() if k != "family_situation_stable"},
    )
    criteria_services.client_update(
        actor=org.caseworker, client=case.client, family_situation_stable=True
    )
    case = reload(case)
    assert case.state == CaseState.REVIEW_DUE
    assert case.review_due_on < clock.today()
    assert list(case.events.values_list("action", flat=True).order_by("id"))[-2:] == [
        CaseAction.REVIEW_DATE_CHANGED,
        CaseAction.MARK_DUE,
    ]


def test_client_update__facts_that_do_not_move_the_date__no_date_event(org):
    case = open_case(org, started_months_ago=3)
    criteria_services.client_update(
        actor=org.caseworker, client=case.client, street_address="Kaivokatu 2"
    )
    assert not Event.objects.filter(case=case, action=CaseAction.REVIEW_DATE_CHANGED).exists()
    assert Event.objects.filter(
        client=case.client, action=ClientAction.UPDATE, params__fields=["street_address"]
    ).exists()


def test_client_update__date_set_by_a_review__left_to_the_worker(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    next_on = clock.today() + relativedelta(months=6)
    criteria_services.review_complete_not_ready(
        actor=org.caseworker, review=case.reviews.get(), next_review_on=next_on
    )
    criteria_services.client_update(actor=org.caseworker, client=case.client, **reunited_stable())
    assert reload(case).review_due_on == next_on


def test_client_update__without_the_threshold__the_date_stays(org):
    """cases.services.client_update alone (no checklist threshold) changes only facts."""
    case = open_case(org, started_months_ago=3)
    before = case.review_due_on
    case_services.client_update(actor=org.caseworker, client=case.client, **reunited_stable())
    assert reload(case).review_due_on == before


# Households ----------------------------------------------------------------------------------


def test_household_link__creates_the_household_with_relations_and_events(org):
    parent = make_client(org, first_name="Amina")
    child = make_client(org, first_name="Sara", date_of_birth=dt.date(2015, 3, 1))
    household = case_services.household_link(
        actor=org.caseworker, client=parent, member=child, relation=HouseholdRelation.CHILD
    )
    members = household_members_of(parent)
    assert [(m.client_id, m.relation) for m in members] == [
        (parent.pk, HouseholdRelation.PARENT),
        (child.pk, HouseholdRelation.CHILD),
    ]
    assert household_members_of(child)[0].household_id == household.pk
    assert Event.objects.filter(action=ClientAction.HOUSEHOLD_JOIN).count() == 2


def test_household_link__member_in_another_household__refused_nothing_written(org):
    a, b, c = (make_client(org, first_name=name) for name in ("A", "B", "C"))
    case_services.household_link(actor=org.caseworker, client=a, member=b, relation="spouse")
    with pytest.raises(Conflict):
        case_services.household_link(actor=org.caseworker, client=c, member=b, relation="child")
    assert not HouseholdMember.objects.filter(client=c).exists()


def test_household_link__a_client_outside_the_scope__refused_as_not_found(org):
    mine = make_client(org)
    other_team = open_case(org, first_name="Other")
    other_team_case = Case.objects.get(pk=other_team.pk)
    # The other client is visible only to another Immigration Unit team's worker.
    Case.objects.filter(pk=other_team_case.pk).update(
        team=org.koto.__class__.objects.create(
            code="koto4", name="Koto-tiimi 4", kind="immigration_unit", region=org.koto.region
        )
    )
    with pytest.raises(InvalidInput) as refused:
        case_services.household_link(
            actor=org.caseworker, client=mine, member=other_team.client, relation="child"
        )
    assert "member" in refused.value.errors
    assert not HouseholdMember.objects.exists()


def test_household_link__a_receiving_worker_may_not(org):
    a, b = make_client(org), make_client(org, first_name="B")
    with pytest.raises((ActorNotAllowed, InvalidInput)):
        case_services.household_link(
            actor=org.receiving_worker, client=a, member=b, relation="child"
        )


def test_client_create_in_household__a_bad_relation__nothing_written(org):
    parent = make_client(org)
    clients_before = Client.objects.count()
    with pytest.raises(InvalidInput):
        case_services.client_create_in_household(
            actor=org.caseworker,
            household_of=parent,
            relation="cousin",
            first_name="X",
            last_name="Y",
            date_of_birth=dt.date(2010, 1, 1),
            language="ara",
        )
    assert Client.objects.count() == clients_before


def test_household_leave__the_last_two_part__the_household_ends(org):
    a, b = make_client(org), make_client(org, first_name="B")
    case_services.household_link(actor=org.caseworker, client=a, member=b, relation="child")
    case_services.household_leave(actor=org.caseworker, client=b)
    assert household_members_of(a) == []
    assert not HouseholdMember.objects.exists()


# Search --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("010594Y123W", "identity_code"),
        (" 010594y123w", "identity_code"),
        ("SILTA-000123", "reference"),
        ("silta-123", "reference"),
        ("123", "reference"),
        ("17.5.1980", "date_of_birth"),
        ("1980-05-17", "date_of_birth"),
        ("Mäkinen", "name"),
        ("", "none"),
    ],
)
def test_search_terms__reads_what_was_typed(text, kind):
    assert search_terms(text).kind == kind


def test_search_form__folds_finnish_letters():
    assert search_form("  Äijä  Öhman-Åberg ") == "aija ohman-aberg"


def test_cases_matching__name_without_dots_identity_code_reference_birth_date(org):
    mine = open_case(
        org,
        first_name="Päivi",
        last_name="Mäkinen",
        personal_identity_code="010594Y123W",
        date_of_birth=dt.date(1994, 5, 1),
    )
    open_case(org, first_name="Ahmed", last_name="Ali")
    scope = cases_visible_to(org.caseworker)
    for text in ("makinen", "paivi mak", "MÄKINEN", "010594y123w", mine.reference, "1.5.1994"):
        assert list(cases_matching(scope, text)) == [mine], text
    assert list(cases_matching(scope, "010594Y123")) == []  # exact only, not a prefix


def test_cases_matching__outside_the_scope__nothing(org):
    open_case(org, last_name="Mäkinen")
    assert not cases_matching(cases_visible_to(org.outsider), "makinen").exists()


def test_clients_without_case_matching__a_client_just_registered(org):
    client = make_client(org, last_name="Öberg")
    assert list(clients_without_case_matching(org.caseworker, "oberg")) == [client]
    assert not clients_without_case_matching(org.outsider, "oberg").exists()
