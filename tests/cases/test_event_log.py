"""The event log is append-only, down to the database."""

import pytest
from django.db import DatabaseError, connection, transaction

from cases.enums import CaseState
from cases.models import Event
from tests.factories import case_in_state

pytestmark = pytest.mark.django_db


def test_event_log__database_refuses_update_and_delete(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    event = Event.objects.filter(case=case).first()
    for sql in (
        "UPDATE cases_event SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM cases_event WHERE id = %s",
    ):
        # The app's role has no UPDATE or DELETE on the log; the trigger that refuses even the
        # owner is tested in tests/audit/test_db_roles.py.
        with (
            pytest.raises(DatabaseError, match="permission denied"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert Event.objects.get(pk=event.pk).reason == event.reason


def test_event_log__orm_refuses_update_and_delete(org):
    case = case_in_state(org, CaseState.REVIEW_DUE)
    event = Event.objects.filter(case=case).first()
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).delete()


def test_event_log__one_row_per_transition_with_actor_and_states(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    rows = list(Event.objects.filter(case=case, subject="case").order_by("id"))
    assert [(e.action, e.from_state, e.to_state) for e in rows] == [
        ("open", "", "active"),
        ("mark_due", "active", "review_due"),
        ("start_review", "review_due", "in_review"),
    ]
    assert rows[1].actor is None and rows[1].actor_role == "system"
    assert rows[2].actor == org.caseworker and rows[2].actor_role == "caseworker"
