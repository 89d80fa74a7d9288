"""Clients in the web app: register (alone or into a household), change the facts (the
review date follows, and the page says so), open a case, link a household, and search the
caseload; bad input stays beside its field in the user's language with nothing written;
another team's client is never revealed."""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse

from audit.models import AccessLog, AccessOutcome
from cases.enums import CaseAction, CaseState, HouseholdRelation, Role, TeamKind
from cases.models import Case, Client, Event, HouseholdMember, Team
from core import clock
from tests.factories import case_in_state, make_client, member, open_case, reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def signed_in(user, language="en"):
        client.force_login(user)
        client.cookies["django_language"] = language
        return client

    return signed_in


def register_data(**overrides):
    data = {
        "first_name": "Päivi",
        "last_name": "Mäkinen",
        "date_of_birth": "1994-05-01",
        "personal_identity_code": "010594y123w",
        "language": "ara",
        "street_address": "Malminkaari 1",
        "postal_code": "00700",
        "post_office": "Helsinki",
        "housing_situation": "settled",
        "children_count": "1",
    }
    data.update(overrides)
    return data


def other_unit_worker():
    team = Team.objects.create(
        code="koto4",
        name="Koto-tiimi 4",
        kind=TeamKind.IMMIGRATION_UNIT,
        region=Team.objects.get(code="koto2").region,
    )
    return member(team, Role.CASEWORKER)


# Register -----------------------------------------------------------------------------------


def test_register__stores_the_code_normalised_and_opens_the_clients_page(web, org):
    page = web(org.caseworker).post(reverse("web:client-new"), register_data())
    client = Client.objects.get()
    assert page.status_code == 302
    assert page.url == reverse("web:client", args=[client.pk])
    assert client.personal_identity_code == "010594Y123W"
    assert AccessLog.objects.filter(actor=org.caseworker, client=client).exists()


@pytest.mark.parametrize(
    ("language", "born", "words"),
    [
        ("fi", "2999-01-01", "Syntymäaika ei voi olla tulevaisuudessa."),
        ("sv", "2999-01-01", "framtiden"),
        ("en", "1899-12-31", "A date of birth cannot be before 1900."),
    ],
)
def test_register__a_birth_date_out_of_range__beside_the_field_kept_nothing_written(
    web, org, language, born, words
):
    page = web(org.caseworker, language).post(
        reverse("web:client-new"), register_data(date_of_birth=born, first_name="Typed")
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert words in html
    assert 'id="id_date_of_birth_error"' in html
    assert 'value="Typed"' in html and f'value="{born}"' in html
    assert not Client.objects.exists()


def test_register__identity_code_of_a_client_in_scope__offers_that_client(web, org):
    existing = make_client(
        org, personal_identity_code="010594Y123W", date_of_birth=dt.date(1994, 5, 1)
    )
    page = web(org.caseworker).post(reverse("web:client-new"), register_data())
    assert page.status_code == 400
    assert reverse("web:client", args=[existing.pk]) in page.content.decode()
    assert Client.objects.count() == 1


def test_register__identity_code_outside_the_scope__neutral_answer_names_no_one(web, org):
    open_case(
        org,
        first_name="Qzhidden",
        last_name="Qzperson",
        personal_identity_code="010594Y123W",
        date_of_birth=dt.date(1994, 5, 1),
    )
    outsider = other_unit_worker()
    page = web(outsider).post(reverse("web:client-new"), register_data())
    html = page.content.decode()
    assert page.status_code == 400
    assert "Contact your supervisor" in html
    assert "Qzhidden" not in html and "Qzperson" not in html
    assert Client.objects.count() == 1
    assert AccessLog.objects.filter(actor=outsider, outcome=AccessOutcome.DENIED).exists()


def test_register__into_a_household__both_or_nothing(web, org):
    parent = make_client(org)
    page = web(org.caseworker).post(
        reverse("web:client-new") + f"?household_of={parent.pk}",
        register_data(relation="child", client_relation="parent", household_of=str(parent.pk)),
    )
    assert page.status_code == 302
    child = Client.objects.get(first_name="Päivi")
    assert HouseholdMember.objects.get(client=child).relation == HouseholdRelation.CHILD
    assert HouseholdMember.objects.get(client=parent).relation == HouseholdRelation.PARENT


def test_register__a_receiving_worker_may_not(web, org):
    assert web(org.receiving_worker).get(reverse("web:client-new")).status_code == 403


# Change the facts ---------------------------------------------------------------------------


def test_edit__the_family_stabilises__the_page_says_the_review_date_moved(web, org):
    case = open_case(
        org,
        started_months_ago=3,
        reunited_family=True,
        sponsor_in_finland_since=clock.today() - relativedelta(years=10),
    )
    old = case.review_due_on
    data = register_data(
        personal_identity_code="", reunited_family="on", family_situation_stable="on"
    )
    data["sponsor_in_finland_since"] = case.client.sponsor_in_finland_since.isoformat()
    page = web(org.caseworker).post(
        reverse("web:client-edit", args=[case.client_id]), data, follow=True
    )
    html = page.content.decode()
    new = reload(case).review_due_on
    assert new == case.integration_started_on + relativedelta(months=12)
    assert "The review date changed" in html
    event = Event.objects.get(case=case, action=CaseAction.REVIEW_DATE_CHANGED)
    assert (event.params["from"], event.params["to"]) == (old.isoformat(), new.isoformat())
    assert "Review date recomputed" in html  # in the history, with both dates


def test_edit__a_fact_in_error__nothing_changes(web, org):
    case = open_case(org)
    page = web(org.caseworker, "fi").post(
        reverse("web:client-edit", args=[case.client_id]),
        register_data(date_of_birth="2999-01-01", personal_identity_code=""),
    )
    assert page.status_code == 400
    assert "Syntymäaika ei voi olla tulevaisuudessa." in page.content.decode()
    assert reload(case.client).first_name == "Amina"


def test_edit__another_teams_client__not_found_and_logged(web, org):
    case = open_case(org)
    outsider = other_unit_worker()
    page = web(outsider).get(reverse("web:client-edit", args=[case.client_id]))
    assert page.status_code == 404
    assert AccessLog.objects.filter(actor=outsider, outcome=AccessOutcome.DENIED).exists()


# Open a case --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("started", "words"),
    [
        ("2999-01-01", "The integration period cannot start in the future."),
        ("1999-12-31", "The integration period cannot start before 2000."),
    ],
)
def test_open_case__start_out_of_range__beside_the_field_nothing_written(web, org, started, words):
    client = make_client(org)
    page = web(org.caseworker).post(
        reverse("web:client-open-case", args=[client.pk]),
        {
            "open-team": org.koto.pk,
            "open-responsible_worker": org.caseworker.pk,
            "open-integration_started_on": started,
        },
    )
    assert page.status_code == 400
    assert words in page.content.decode()
    assert not Case.objects.exists()


def test_open_case__opens_with_the_first_review_date(web, org):
    client = make_client(org)
    started = clock.today() - relativedelta(months=2)
    page = web(org.caseworker).post(
        reverse("web:client-open-case", args=[client.pk]),
        {
            "open-team": org.koto.pk,
            "open-responsible_worker": org.caseworker.pk,
            "open-integration_started_on": started.isoformat(),
        },
        follow=True,
    )
    case = Case.objects.get(client=client)
    assert page.redirect_chain[-1][0] == reverse("web:case", args=[case.pk])
    assert case.review_due_on == started + relativedelta(months=24)


def test_close_case__from_the_case_page(web, org):
    case = open_case(org)
    page = web(org.caseworker).post(
        reverse("web:case-close", args=[case.pk]), {"close-reason": "moved_away"}
    )
    assert page.status_code == 302
    assert reload(case).state == CaseState.CLOSED


# The household on the pages -----------------------------------------------------------------


def test_household_add__by_case_reference__both_pages_show_members_and_states(web, org):
    parent = open_case(org, first_name="Amina")
    child = open_case(org, first_name="Sara", date_of_birth=dt.date(2015, 3, 1))
    browser = web(org.caseworker)
    page = browser.post(
        reverse("web:client-household", args=[parent.client_id]),
        {
            "household-member": child.reference,
            "household-relation": "child",
            "household-client_relation": "parent",
        },
    )
    assert page.status_code == 302
    html = browser.get(reverse("web:case", args=[parent.pk])).content.decode()
    assert "Sara" in html and child.reference in html and "Child" in html
    assert AccessLog.objects.filter(
        actor=org.caseworker, client_id=child.client_id, action="web_read"
    ).exists()


def test_household_add__unknown_member__beside_the_field(web, org):
    parent = make_client(org)
    page = web(org.caseworker).post(
        reverse("web:client-household", args=[parent.pk]),
        {
            "household-member": "SILTA-999999",
            "household-relation": "child",
            "household-client_relation": "parent",
        },
    )
    assert page.status_code == 400
    assert "No client in your caseload" in page.content.decode()


def test_household__a_member_outside_the_scope_is_counted_not_named(web, org):
    a = open_case(org, first_name="Amina")
    b = open_case(org, first_name="Hiddenname")
    from cases import services as case_services

    case_services.household_link(
        actor=org.caseworker, client=a.client, member=b.client, relation="spouse"
    )
    Case.objects.filter(pk=b.pk).update(team=other_unit_worker().memberships.get().team)
    html = web(org.caseworker).get(reverse("web:case", args=[a.pk])).content.decode()
    assert "Hiddenname" not in html
    assert "1 more member, not in your caseload." in html


# Search -------------------------------------------------------------------------------------


def test_search__name_without_dots__finds_and_logs_each_client_shown(web, org):
    found = case_in_state(org, CaseState.ACTIVE, first_name="Päivi", last_name="Mäkinen")
    open_case(org, first_name="Ahmed", last_name="Ali")
    page = web(org.caseworker).get(reverse("web:caseload"), {"q": "paivi makinen"})
    html = page.content.decode()
    assert page.status_code == 200
    assert found.reference in html and "Ali" not in html
    rows = AccessLog.objects.filter(actor=org.caseworker, action="web_search")
    assert list(rows.values_list("client_id", flat=True)) == [found.client_id]


@pytest.mark.parametrize("query", ["010594y123w", "1.5.1994", "SILTA-{pk:06d}"])
def test_search__identity_code_birth_date_reference(web, org, query):
    found = open_case(org, personal_identity_code="010594Y123W", date_of_birth=dt.date(1994, 5, 1))
    page = web(org.caseworker).get(reverse("web:caseload"), {"q": query.format(pk=found.pk)})
    assert found.reference in page.content.decode()


def test_search__another_teams_client__not_shown(web, org):
    open_case(org, last_name="Mäkinen")
    outsider = other_unit_worker()
    page = web(outsider).get(reverse("web:caseload"), {"q": "makinen"})
    assert "Mäkinen" not in page.content.decode()
    assert not AccessLog.objects.filter(actor=outsider, client__isnull=False).exists()


def test_search__a_client_with_no_case_yet(web, org):
    client = make_client(org, last_name="Öberg")
    page = web(org.caseworker).get(reverse("web:caseload"), {"q": "oberg"})
    assert reverse("web:client", args=[client.pk]) in page.content.decode()


# The role matrix of the new pages -------------------------------------------------------------

ROLES = (
    "caseworker",
    "koto_supervisor",
    "receiving_worker",
    "front_desk",
    "receiving_supervisor",
    "outsider",
)
UNIT = {"caseworker", "koto_supervisor"}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix__client_pages(web, org, role):
    """The Immigration Unit's workers register, read, change and search; a regional
    team before any transfer sees no such client (404, logged) and may not register (403)."""
    case = open_case(org)
    browser = web(getattr(org, role))
    answers = {
        "register": browser.get(reverse("web:client-new")).status_code,
        "client": browser.get(reverse("web:client", args=[case.client_id])).status_code,
        "edit": browser.get(reverse("web:client-edit", args=[case.client_id])).status_code,
        "search": browser.get(reverse("web:caseload"), {"q": "amina"}).status_code,
    }
    if role in UNIT:
        assert answers == {"register": 200, "client": 200, "edit": 200, "search": 200}
    else:
        assert answers == {"register": 403, "client": 404, "edit": 404, "search": 403}
        assert AccessLog.objects.filter(
            actor=getattr(org, role), client=case.client, outcome=AccessOutcome.DENIED
        ).exists()
