"""Reminders and escalations: who is told, when (Finnish working days), and only once."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.enums import Role
from notifications.models import (
    Notification,
    NotificationPreference,
    OutboxMessage,
    ReminderPolicy,
)
from tests.factories import member, open_case, transfer_in_state
from transfers.enums import TransferState
from transfers.reminders import due_sweep, reminder_sweep

pytestmark = pytest.mark.django_db
HELSINKI = ZoneInfo("Europe/Helsinki")


def at(year, month, day, hour=8):
    return dt.datetime(year, month, day, hour, tzinfo=HELSINKI)


def notes(kind, **lookup):
    return Notification.objects.filter(kind=kind, **lookup)


def test_reminder__review_due_in_30_and_7_days__caseworker_once_each(org):
    NotificationPreference.objects.create(user=org.caseworker, email=True)
    with time_machine.travel(at(2026, 3, 2), tick=False):
        case = open_case(org, started_months_ago=23)
    due = case.review_due_on
    for days in (30, 7):
        with time_machine.travel(
            at(due.year, due.month, due.day) - dt.timedelta(days=days), tick=False
        ):
            reminder_sweep()
            reminder_sweep()  # however often it runs
    sent = notes("review_due_soon", case_id=case.pk)
    assert sorted(n.params["days"] for n in sent) == [7, 30]
    assert {n.recipient for n in sent} == {org.caseworker}
    emails = OutboxMessage.objects.filter(channel="email", payload__kind="review_due_soon")
    assert sorted(m.payload["params"]["days"] for m in emails) == [7, 30]
    assert {m.payload["reference"] for m in emails} == {case.reference}


def test_reminder__offsets_are_data(org):
    ReminderPolicy.objects.filter(kind="review_due_soon").update(offsets="14")
    case = open_case(org, started_months_ago=23)
    with time_machine.travel(
        dt.datetime.combine(case.review_due_on - dt.timedelta(days=14), dt.time(8), HELSINKI),
        tick=False,
    ):
        reminder_sweep()
    assert [n.params["days"] for n in notes("review_due_soon", case_id=case.pk)] == [14]


def test_reminder__missed_day_is_caught_up_but_not_repeated(org):
    case = open_case(org, started_months_ago=23)
    late = case.review_due_on - dt.timedelta(days=7) + dt.timedelta(days=2)
    with time_machine.travel(dt.datetime.combine(late, dt.time(8), HELSINKI), tick=False):
        reminder_sweep()
        reminder_sweep()
    assert notes("review_due_soon", case_id=case.pk, params__days=7).count() == 1


def test_escalation__overdue_10_working_days__one_digest_per_supervisor(org):
    """Due on Friday 11 Dec 2026: ten working days later, across Christmas Eve and Day, is
    Tuesday 29 Dec (counting every weekday it would be Friday 25 Dec)."""
    second_supervisor = member(org.koto, Role.SUPERVISOR)
    with time_machine.travel(at(2026, 12, 11), tick=False):
        first = open_case(org, started_months_ago=24)
        second = open_case(org, started_months_ago=24)
        assert first.review_due_on == dt.date(2026, 12, 11)
        due_sweep()
    for day in (dt.date(2026, 12, 25), dt.date(2026, 12, 28)):
        with time_machine.travel(at(day.year, day.month, day.day), tick=False):
            reminder_sweep()
    assert not notes("overdue_digest").exists()
    with time_machine.travel(at(2026, 12, 29), tick=False):
        reminder_sweep()
        reminder_sweep()
    digests = notes("overdue_digest")
    assert {n.recipient for n in digests} == {org.koto_supervisor, second_supervisor}
    assert {n.params["count"] for n in digests} == {2}
    assert digests.count() == 2
    assert {first.pk, second.pk} <= set(
        Notification.objects.filter(kind="review_due").values_list("case_id", flat=True)
    )


def test_escalation__awaiting_acceptance_5_then_10_working_days(org):
    with time_machine.travel(at(2026, 6, 15), tick=False):  # Monday before Juhannus
        transfer = transfer_in_state(org, TransferState.PROPOSED)
    # 5 working days after Mon 15 June, with Midsummer Eve (Fri 19) off: Tue 23 June.
    with time_machine.travel(at(2026, 6, 22), tick=False):
        reminder_sweep()
    assert not notes("transfer_awaiting").exists()
    with time_machine.travel(at(2026, 6, 23), tick=False):
        reminder_sweep()
    assert {n.recipient for n in notes("transfer_awaiting", transfer_id=transfer.pk)} == {
        org.receiving_worker
    }
    # Before acceptance the receiving team may not open the case: the notice points to the
    # team's incoming transfers, with the reference only.
    assert {(n.link, n.reference) for n in notes("transfer_awaiting")} == {
        ("/transfers/", transfer.case.reference)
    }
    with time_machine.travel(at(2026, 6, 30), tick=False):
        reminder_sweep()
    assert {n.recipient for n in notes("transfer_awaiting_escalated")} == {org.receiving_supervisor}


def test_escalation__booking_unconfirmed_5_working_days__front_desk_and_sender(org):
    with time_machine.travel(at(2026, 11, 2), tick=False):
        transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    with time_machine.travel(at(2026, 11, 9), tick=False):
        reminder_sweep()
    assert {n.recipient for n in notes("booking_unconfirmed", transfer_id=transfer.pk)} == {
        org.front_desk,
        org.caseworker,
    }


def test_escalation__90_days_before_cap__caseworker_and_supervisor(org):
    case = open_case(org, started_months_ago=57)
    warn_on = case.cap_on - dt.timedelta(days=90)
    with time_machine.travel(dt.datetime.combine(warn_on, dt.time(8), HELSINKI), tick=False):
        reminder_sweep()
        reminder_sweep()
    assert {n.recipient for n in notes("cap_approaching", case_id=case.pk)} == {
        org.caseworker,
        org.koto_supervisor,
    }
