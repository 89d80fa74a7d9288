"""Käyttöloki: every read of client data in the admin leaves its rows, denied attempts too,
and nothing is shown if the rows cannot be written."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.urls import reverse

from audit.access import log_access
from audit.models import AccessLog
from tests.factories import open_case
from tests.web.test_admin import staff

pytestmark = pytest.mark.django_db


def test_access_log__list_writes_one_row_per_client_shown(org, client):
    cases = [open_case(org) for _ in range(3)]
    client.force_login(staff(org.caseworker, "view_case"))
    response = client.get(reverse("admin:cases_case_changelist"))
    assert response.status_code == 200
    rows = AccessLog.objects.filter(action="admin_list")
    assert {(r.client_id, r.case_id) for r in rows} == {(c.client_id, c.pk) for c in cases}
    assert {(r.actor, r.actor_role, r.actor_team, r.outcome, r.purpose) for r in rows} == {
        (org.caseworker, "caseworker", "koto2", "allowed", "case_management")
    }


def test_access_log__detail_view_writes_a_row(org, client):
    case = open_case(org)
    client.force_login(staff(org.caseworker, "view_case", "change_case"))
    response = client.get(reverse("admin:cases_case_change", args=[case.pk]))
    assert response.status_code == 200
    row = AccessLog.objects.get(action="admin_view")
    assert (row.client_id, row.case_id, row.outcome) == (case.client_id, case.pk, "allowed")


def test_access_log__other_teams_case__denied_logged_and_nothing_shown(org, client):
    case = open_case(org, last_name="Secretname")
    client.force_login(staff(org.outsider, "view_case", "view_client"))
    response = client.get(reverse("admin:cases_case_change", args=[case.pk]), follow=True)
    assert b"Secretname" not in response.content
    row = AccessLog.objects.get()
    assert (row.actor, row.client_id, row.outcome) == (org.outsider, case.client_id, "denied")
    client.get(reverse("admin:cases_client_change", args=[case.client_id]), follow=True)
    assert AccessLog.objects.filter(outcome="denied").count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_access_log__cannot_be_written__request_fails_and_shows_no_data(org, client, owner_sql):
    open_case(org, last_name="Secretname")
    client.force_login(staff(org.caseworker, "view_case"))
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
        client.get(reverse("admin:cases_case_changelist"))


def test_access_log__database_refuses_update_and_delete(org, client):
    case = open_case(org)
    client.force_login(staff(org.caseworker, "view_case", "change_case"))
    client.get(reverse("admin:cases_case_change", args=[case.pk]))
    row = AccessLog.objects.get()
    for sql in (
        "UPDATE audit_accesslog SET outcome = 'denied' WHERE id = %s",
        "DELETE FROM audit_accesslog WHERE id = %s",
    ):
        # The app's role has no UPDATE or DELETE on the log; the trigger that refuses even the
        # owner is tested in test_db_roles.py.
        with (
            pytest.raises(DatabaseError, match="permission denied"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [row.pk])
    assert AccessLog.objects.get().outcome == "allowed"


def test_access_log__a_logged_client_case_or_actor_cannot_be_deleted(org):
    """The log's references are checked by its writers, not by foreign-key triggers
    (migration 0009): the ORM still refuses to delete what a log row names."""
    case = open_case(org)
    log_access(user=org.caseworker, action="api_read", subjects=[(case.client_id, case.pk)])
    for named in (case, case.client, org.caseworker):
        with pytest.raises(ProtectedError) as refused, transaction.atomic():
            named.delete()
        assert any(isinstance(row, AccessLog) for row in refused.value.protected_objects)
    assert AccessLog.objects.filter(case=case, client=case.client, actor=org.caseworker).exists()
