"""The due sweep: set-based, with its event rows and notifications, idempotent."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.enums import CaseState
from cases.models import Event
from core import clock
from notifications.models import Notification, NotificationPreference, OutboxMessage
from tests.factories import open_case, reload
from transfers.reminders import due_sweep

pytestmark = pytest.mark.django_db


def test_due_sweep__due_cases_fall_due_with_event_and_notification(org):
    due_today = open_case(org, started_months_ago=24)
    overdue = open_case(org, started_months_ago=26)
    not_yet = open_case(org, started_months_ago=20)
    assert due_today.review_due_on == clock.today()

    assert due_sweep() == 2

    assert reload(due_today).state == CaseState.REVIEW_DUE
    assert reload(overdue).state == CaseState.REVIEW_DUE
    assert reload(not_yet).state == CaseState.ACTIVE
    for case in (due_today, overdue):
        event = Event.objects.get(case=case, action="mark_due")
        assert (event.from_state, event.to_state, event.actor, event.actor_role) == (
            "active",
            "review_due",
            None,
            "system",
        )
        note = Notification.objects.get(case_id=case.pk)
        assert (note.recipient, note.kind, note.on_date) == (
            org.caseworker,
            "review_due",
            case.review_due_on,
        )
    assert not Event.objects.filter(case=not_yet, action="mark_due").exists()


def test_due_sweep__second_run_changes_nothing(org):
    open_case(org, started_months_ago=25)
    due_sweep()
    events, notes = Event.objects.count(), Notification.objects.count()
    assert due_sweep() == 0
    assert (Event.objects.count(), Notification.objects.count()) == (events, notes)


def test_due_sweep__set_based_a_fixed_number_of_statements_per_batch(org):
    for _ in range(7):
        open_case(org, started_months_ago=25)
    with CaptureQueriesContext(connection) as few:
        due_sweep(batch=100)
    for _ in range(30):
        open_case(org, started_months_ago=25)
    with CaptureQueriesContext(connection) as many:
        due_sweep(batch=100)
    # 30 cases cost the same statements as 7: no per-row save().
    assert len(many) == len(few)


def test_due_sweep__batches_cover_everything(org):
    cases = [open_case(org, started_months_ago=25) for _ in range(5)]
    assert due_sweep(batch=2) == 5
    assert {reload(c).state for c in cases} == {CaseState.REVIEW_DUE}


def test_due_sweep__email_copy_only_for_those_who_want_it(org):
    NotificationPreference.objects.create(user=org.caseworker, email=True)
    case = open_case(org, started_months_ago=25)
    due_sweep()
    message = OutboxMessage.objects.get()
    assert message.channel == "email"
    assert message.payload["reference"] == case.reference
    assert message.payload["link"] == f"/cases/{case.pk}/"
    assert message.key.endswith(f":{org.caseworker.pk}")


def test_due_sweep__runs_for_a_given_day(org):
    case = open_case(org, started_months_ago=23)
    assert due_sweep(today=case.review_due_on - dt.timedelta(days=1)) == 0
    assert due_sweep(today=case.review_due_on) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_due_sweep__two_sweeps_at_once__each_case_moves_and_is_logged_once():
    import threading

    from django.db import connection as thread_connection

    from tests.factories import make_org

    org = make_org()
    cases = [open_case(org, started_months_ago=25) for _ in range(60)]
    barrier = threading.Barrier(2)
    moved = []

    def sweep():
        try:
            barrier.wait(timeout=10)
            moved.append(due_sweep(batch=7))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(moved) == 60
    assert {reload(c).state for c in cases} == {CaseState.REVIEW_DUE}
    assert Event.objects.filter(action="mark_due").count() == 60
    assert Notification.objects.filter(kind="review_due").count() == 60
