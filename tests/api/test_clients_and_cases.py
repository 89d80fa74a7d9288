"""Clients and cases through the API: scope lives in the queryset, every read leaves an
access-log row first, and another team's ids answer 404 with no data."""

import pytest
from django.db import DatabaseError

from audit.models import AccessLog
from cases.enums import CaseState, Role, TeamKind
from cases.models import Region, Team
from tests.factories import as_user, case_in_state, make_org, member, open_case
from transfers import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    return make_org()


@pytest.fixture
def other_unit(db):
    """Koto 1, another Immigration Unit team, with its own caseworker."""
    team = Team.objects.create(
        code="koto1",
        name="Koto-tiimi 1",
        kind=TeamKind.IMMIGRATION_UNIT,
        region=Region.objects.get(code="lansi"),
    )
    return member(team, Role.CASEWORKER)


def test_cases__own_team_listed_with_allowed_actions_and_logged(org):
    case = case_in_state(org, CaseState.REVIEW_DUE)
    response = as_user(org.caseworker).get("/api/v1/cases/")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["reference"], row["state"]) == (case.reference, "review_due")
    assert row["allowed_actions"] == ["close", "start_review"]
    log = AccessLog.objects.get()
    assert (log.action, log.client_id, log.case_id, log.outcome) == (
        "api_list",
        case.client_id,
        case.pk,
        "allowed",
    )


@pytest.mark.parametrize(
    "path", ["/api/v1/cases/{case}/", "/api/v1/cases/{case}/history/", "/api/v1/clients/{client}/"]
)
def test_other_team__every_id_answers_404_without_data_and_is_logged_denied(org, other_unit, path):
    case = open_case(org, last_name="Secretname")
    response = as_user(other_unit).get(path.format(case=case.pk, client=case.client_id))
    assert response.status_code == 404
    assert b"Secretname" not in response.content
    assert response.json()["code"] == "not_found"
    log = AccessLog.objects.get()
    assert (log.actor, log.client_id, log.outcome) == (other_unit, case.client_id, "denied")


def test_other_team__lists_and_filters_show_nothing(org, other_unit):
    open_case(org, last_name="Secretname")
    api = as_user(other_unit)
    for path in (
        "/api/v1/cases/",
        "/api/v1/cases/?state=active",
        "/api/v1/clients/",
        "/api/v1/clients/?language=ara",
    ):
        response = api.get(path)
        assert response.json()["count"] == 0, path
        assert b"Secretname" not in response.content


def test_receiving_team__sees_the_case_only_after_accepting(org):
    transfer = case_in_state(org, CaseState.TRANSFER_PENDING).transfers.get()
    api = as_user(org.receiving_worker)
    assert api.get("/api/v1/cases/").json()["count"] == 0
    assert api.get(f"/api/v1/clients/{transfer.case.client_id}/").status_code == 404
    services.transfer_accept(
        actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
    )
    assert api.get("/api/v1/cases/").json()["count"] == 1
    assert api.get(f"/api/v1/clients/{transfer.case.client_id}/").status_code == 200


def test_case_history__events_oldest_first(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    history = as_user(org.caseworker).get(f"/api/v1/cases/{case.pk}/history/").json()
    assert [(e["action"], e["to_state"]) for e in history] == [
        ("open", "active"),
        ("mark_due", "review_due"),
        ("start_review", "in_review"),
    ]
    assert AccessLog.objects.filter(action="api_history", case=case).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_access_log_cannot_be_written__no_data_leaves(org, owner_sql):
    open_case(org, last_name="Secretname")
    # Only the schema's owner may add a trigger to the log (the app's role may not).
    owner_sql(
        """
        CREATE FUNCTION silta_test_refuse() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'log storage unavailable'; END; $$ LANGUAGE plpgsql;
        CREATE TRIGGER silta_test_refuse BEFORE INSERT ON audit_accesslog
            FOR EACH ROW EXECUTE FUNCTION silta_test_refuse();
        """,
        undo_with="""
        DROP TRIGGER silta_test_refuse ON audit_accesslog;
        DROP FUNCTION silta_test_refuse();
        """,
    )
    with pytest.raises(DatabaseError, match="log storage unavailable"):
        as_user(org.caseworker).get("/api/v1/clients/")


@pytest.mark.parametrize("path", ["/api/v1/cases/", "/api/v1/clients/"])
def test_lists__query_count_fixed_for_page_size_1_and_50(org, path, django_assert_max_num_queries):
    for _ in range(50):
        open_case(org)
    api = as_user(org.caseworker)
    with django_assert_max_num_queries(8) as one:
        api.get(f"{path}?page_size=1")
    with django_assert_max_num_queries(8) as fifty:
        response = api.get(f"{path}?page_size=50")
    assert len(response.json()["results"]) == 50
    assert len(fifty.captured_queries) == len(one.captured_queries)
