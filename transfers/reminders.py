"""The scheduled sweeps: cases falling due, and reminders and escalations.

Both are safe to run at any time and repeatedly. The due sweep is set-based: on
PostgreSQL each batch is one statement (the UPDATE ... RETURNING feeding INSERT ... SELECT
of the event rows, the inbox rows and the e-mail rows), not a save() per row
(bench/due_sweep.py measures it against a raw UPDATE). Reminders are written once per
(subject, kind, date, recipient) by unique keys, and the relay is asked in chunks of
RELAY_CHUNK ids.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.db.models import Case as SqlCase
from django.db.models import F, Q, When
from django.db.models.functions import Coalesce
from django.urls import reverse

from cases import rules as date_rules
from cases.enums import CaseState, Role
from cases.models import REFERENCE_SQL, Case, Event, Membership, Team
from core import clock, workdays
from criteria.selectors import current_plans
from notifications.models import NotificationKind, ReminderKind, ReminderPolicy
from notifications.services import dispatch, notify_many
from transfers import client_notice, links
from transfers.enums import BookingStatus, TransferState
from transfers.models import HandoverBooking, Transfer

logger = logging.getLogger("silta.sweeps")

DUE_BATCH = 50_000
# Reminders whose day was missed (the sweep did not run) are still sent this many days late.
CATCH_UP_DAYS = 3
_LOCK_REMINDERS = 7302


def _single_flight(key: int) -> bool:
    """One sweep of a kind at a time across all workers (PostgreSQL advisory lock, held to
    the end of the transaction). SQLite serialises writers anyway."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return cursor.fetchone()[0]


def due_sweep(*, today: dt.date | None = None, batch: int = DUE_BATCH) -> int:
    """active -> review_due for every case whose review date has arrived, with one event
    row and one inbox row each (and an e-mail row for those who want one). Safe to run
    twice at once: a case moves, and is logged, once. Returns how many cases fell due."""
    today = today or clock.today()
    if not _anything_due(today):
        return 0  # the usual second run: one index-only probe, nothing else
    run_batch = _due_batch_postgresql if connection.vendor == "postgresql" else _due_batch_portable
    total, outgoing = 0, 0
    while True:
        moved, new_outgoing = run_batch(today=today, batch=batch)
        total += moved
        outgoing += new_outgoing
        if moved < batch:
            break
    dispatch(outgoing)
    logger.info("due sweep %s: %d cases fell due", today, total)
    return total


def _anything_due(today: dt.date) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM cases_case WHERE state = %s AND review_due_on <= %s LIMIT 1",
            [CaseState.ACTIVE, today],
        )
        return cursor.fetchone() is not None


# The {placeholders} are SQL built from constants in code (cases.models.REFERENCE_SQL,
# transfers.links), never from input; values go in as %(parameters)s.
_DUE_BATCH_SQL = """
WITH moved AS (
    -- The outer state test is re-checked on a row another sweep changed meanwhile, so two
    -- sweeps at once never move (or log) the same case twice.
    UPDATE cases_case SET state = %(due)s
    WHERE state = %(active)s AND id = ANY (ARRAY(
        SELECT id FROM cases_case
        WHERE state = %(active)s AND review_due_on <= %(today)s
        LIMIT %(batch)s
    ))
    RETURNING id, client_id, responsible_worker_id, review_due_on
), events AS (
    -- created_at: the database's time (its column default)
    INSERT INTO cases_event (subject, action, client_id, case_id, from_state, to_state,
        actor_role, reason, params)
    SELECT 'case', 'mark_due', client_id, id, %(active)s, %(due)s, 'system', '', '{{}}'
    FROM moved
), inbox AS (
    INSERT INTO notifications_notification (recipient_id, kind, reference, link, case_id,
        subject_key, on_date, params, created_at)
    SELECT responsible_worker_id, %(kind)s, {reference}, {link}, id, 'case:' || id,
        review_due_on, '{{}}', %(now)s
    FROM moved
    -- No ON CONFLICT: a case falls due on a given date once (its next date is always later).
), email AS (
    INSERT INTO notifications_outboxmessage (channel, key, payload, status, attempts,
        available_at, last_error, created_at)
    SELECT 'email',
        'email:' || %(kind)s || ':case:' || m.id || ':' || m.review_due_on || ':'
            || m.responsible_worker_id,
        jsonb_build_object('recipient', m.responsible_worker_id, 'kind', %(kind)s,
            'reference', {m_reference}, 'link', {m_link}, 'params', '{{}}'::jsonb),
        'pending', 0, %(now)s, '', %(now)s
    FROM moved m
    JOIN notifications_notificationpreference p
        ON p.user_id = m.responsible_worker_id AND p.email AND NOT p.email_digest
    ON CONFLICT (key) DO NOTHING
    RETURNING id
)
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM email)
""".format(
    reference=REFERENCE_SQL.format(id="id"),
    link=links.sql_case_link("id"),
    m_reference=REFERENCE_SQL.format(id="m.id"),
    m_link=links.sql_case_link("m.id"),
)


def _due_batch_postgresql(*, today: dt.date, batch: int) -> tuple[int, int]:
    """One statement per batch: the UPDATE, the event rows, the inbox rows and the e-mail
    rows together, in one round trip and one transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            _DUE_BATCH_SQL,
            {
                "active": CaseState.ACTIVE,
                "due": CaseState.REVIEW_DUE,
                "today": today,
                "batch": batch,
                "now": clock.now(),
                "kind": NotificationKind.REVIEW_DUE,
            },
        )
        moved, outgoing = cursor.fetchone()
    return moved, outgoing


def _due_batch_portable(*, today: dt.date, batch: int) -> tuple[int, int]:
    """The same batch for the quick start's embedded SQLite, in a few statements."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE cases_case SET state = %s
            WHERE state = %s AND id IN (
                SELECT id FROM cases_case
                WHERE state = %s AND review_due_on <= %s ORDER BY id LIMIT %s
            )
            RETURNING id, client_id, responsible_worker_id, review_due_on
            """,
            [CaseState.REVIEW_DUE, CaseState.ACTIVE, CaseState.ACTIVE, today, batch],
        )
        moved = cursor.fetchall()
        Event.objects.bulk_create(
            Event(
                subject="case",
                action="mark_due",
                client_id=client_id,
                case_id=case_id,
                from_state=CaseState.ACTIVE,
                to_state=CaseState.REVIEW_DUE,
                actor_role="system",
            )
            for case_id, client_id, _worker, _due in moved
        )
        outgoing = notify_many(
            [
                {
                    "recipient": worker,
                    "kind": NotificationKind.REVIEW_DUE,
                    **_about_case(case_id),
                    "subject_key": f"case:{case_id}",
                    "on_date": due,
                }
                for case_id, _client, worker, due in moved
            ],
            kick=False,
        )
    return len(moved), outgoing


# Reminders and escalations ------------------------------------------------------------------


def reminder_sweep(*, today: dt.date | None = None) -> int:
    """Every reminder and escalation of the day, in one transaction. Returns how many
    outbox rows it queued (inbox rows are written for every recipient regardless)."""
    today = today or clock.today()
    policies = {p.kind: p for p in ReminderPolicy.objects.filter(enabled=True)}
    with transaction.atomic():
        if not _single_flight(_LOCK_REMINDERS):
            return 0
        items: list[dict] = []
        outgoing = 0
        for kind, build in BUILDERS.items():
            if kind not in policies:
                continue
            for offset in policies[kind].offset_list:
                if kind == ReminderKind.CLIENT_SMS_REMINDER:
                    outgoing += client_notice.queue_reminders(today, offset)
                elif kind == ReminderKind.REVIEW_DUE_SOON and connection.vendor == "postgresql":
                    outgoing += _due_soon_postgresql(today, offset)  # the bulk of a day
                else:
                    items += build(today, offset)
        outgoing += notify_many(items, kick=False)
    dispatch(outgoing)
    logger.info("reminder sweep %s: %d outgoing", today, outgoing)
    return outgoing


def _window(today: dt.date) -> tuple[dt.date, dt.date]:
    return today - dt.timedelta(days=CATCH_UP_DAYS), today


def _due_soon(today: dt.date, days: int) -> list[dict]:
    """Review due in N days -> the responsible caseworker. Day 0 is the due sweep's own
    notice, so it is not repeated here. (On PostgreSQL, `_due_soon_postgresql` does the
    same in one statement.)"""
    if days == 0:
        return []
    first, last = _window(today)
    cases = Case.objects.filter(
        state=CaseState.ACTIVE,
        review_due_on__gte=first + dt.timedelta(days=days),
        review_due_on__lte=last + dt.timedelta(days=days),
    ).values_list("id", "responsible_worker_id", "review_due_on")
    return [
        {
            "recipient": worker,
            "kind": NotificationKind.REVIEW_DUE_SOON,
            **_about_case(case_id),
            "subject_key": f"case:{case_id}",
            "on_date": due - dt.timedelta(days=days),
            "params": {"days": days},
        }
        for case_id, worker, due in cases
    ]


_DUE_SOON_SQL = """
WITH inbox AS (
    INSERT INTO notifications_notification (recipient_id, kind, reference, link, case_id,
        subject_key, on_date, params, created_at)
    SELECT responsible_worker_id, %(kind)s, {reference}, {link}, id, 'case:' || id,
        review_due_on - %(days)s, jsonb_build_object('days', %(days)s), %(now)s
    FROM cases_case
    WHERE state = %(active)s AND review_due_on BETWEEN %(first)s AND %(last)s
    ON CONFLICT DO NOTHING
    RETURNING recipient_id, reference, link, subject_key, on_date, params
), email AS (
    INSERT INTO notifications_outboxmessage (channel, key, payload, status, attempts,
        available_at, last_error, created_at)
    SELECT 'email',
        'email:' || %(kind)s || ':' || i.subject_key || ':' || i.on_date || ':' || i.recipient_id,
        jsonb_build_object('recipient', i.recipient_id, 'kind', %(kind)s,
            'reference', i.reference, 'link', i.link, 'params', i.params),
        'pending', 0, %(now)s, '', %(now)s
    FROM inbox i
    JOIN notifications_notificationpreference p
        ON p.user_id = i.recipient_id AND p.email AND NOT p.email_digest
    ON CONFLICT (key) DO NOTHING
    RETURNING id
)
SELECT count(*) FROM email
""".format(reference=REFERENCE_SQL.format(id="id"), link=links.sql_case_link("id"))


def _due_soon_postgresql(today: dt.date, days: int) -> int:
    """`_due_soon` as one statement (inbox rows, then e-mail rows for the new ones).
    Returns how many e-mail rows it queued."""
    if days == 0:
        return 0
    first, last = _window(today)
    with connection.cursor() as cursor:
        cursor.execute(
            _DUE_SOON_SQL,
            {
                "kind": NotificationKind.REVIEW_DUE_SOON,
                "days": days,
                "now": clock.now(),
                "active": CaseState.ACTIVE,
                "first": first + dt.timedelta(days=days),
                "last": last + dt.timedelta(days=days),
            },
        )
        return cursor.fetchone()[0]


def _about_case(case_id: int) -> dict[str, Any]:
    """A reminder item's case id, reference and link."""
    return {
        "case": case_id,
        "reference": links.case_reference(case_id),
        "link": links.case_link(case_id),
    }


def _members_by_team(team_ids, *roles: str) -> dict[int, list[int]]:
    """Active members with these roles, per team: one query for the whole sweep."""
    found = defaultdict(list)
    for team_id, user_id in (
        Membership.objects.filter(team_id__in=set(team_ids), role__in=roles, user__is_active=True)
        .values_list("team_id", "user_id")
        .distinct()
    ):
        found[team_id].append(user_id)
    return found


def _desk_workers_by_team(team_ids) -> dict[int, list[int]]:
    """The front desk workers who book each team's handovers: those of every team at its
    desk (a desk may serve several teams, Team.front_desk_team). Two queries in all."""
    desk_of = dict(
        Team.objects.filter(pk__in=set(team_ids))
        .annotate(desk_pk=Coalesce("front_desk_team_id", "pk"))
        .values_list("pk", "desk_pk")
    )
    at_desk = defaultdict(list)
    for desk, user_id in (
        Membership.objects.filter(
            Q(team_id__in=set(desk_of.values())) | Q(team__front_desk_team_id__in=desk_of.values()),
            role=Role.FRONT_DESK,
            user__is_active=True,
        )
        .annotate(desk_pk=Coalesce("team__front_desk_team_id", "team_id"))
        .values_list("desk_pk", "user_id")
        .distinct()
    ):
        at_desk[desk].append(user_id)
    return {team: at_desk[desk] for team, desk in desk_of.items()}


def _overdue_digest(today: dt.date, working_days: int) -> list[dict]:
    """Reviews overdue N working days -> one daily digest per supervisor."""
    limit = workdays.add_working_days(today, -working_days)
    overdue = Case.objects.filter(state=CaseState.REVIEW_DUE, review_due_on__lte=limit)
    per_team = defaultdict(int)
    for team_id in overdue.values_list("team_id", flat=True):
        per_team[team_id] += 1
    per_supervisor = defaultdict(int)
    for team_id, supervisors in _members_by_team(per_team, Role.SUPERVISOR).items():
        for user_id in supervisors:
            per_supervisor[user_id] += per_team[team_id]
    return [
        {
            "recipient": user_id,
            "kind": NotificationKind.OVERDUE_DIGEST,
            "link": links.inbox_link(),
            "subject_key": "digest",
            "on_date": today,
            "params": {"count": count, "days": working_days},
        }
        for user_id, count in per_supervisor.items()
    ]


def _local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(clock.tz()).date()


def _awaiting(today: dt.date, working_days: int, *, roles, kind) -> list[dict]:
    first, last = _window(today)
    reached_now = []
    # A transfer waiting for the sender's answer is not awaiting acceptance (it is not in
    # `proposed`); once answered, the working days the question waited do not count.
    for transfer in Transfer.objects.filter(state=TransferState.PROPOSED):
        reached = workdays.add_working_days(
            _local_date(transfer.proposed_at), working_days + transfer.paused_working_days
        )
        if first <= reached <= last:
            reached_now.append((transfer, reached))
    people = _members_by_team({t.receiving_team_id for t, _ in reached_now}, *roles)
    return [
        {
            "recipient": user_id,
            "kind": kind,
            **_about_case(transfer.case_id),
            # Before acceptance the receiving team may not open the case: its incoming list.
            "link": links.incoming_link(),
            "transfer": transfer.pk,
            "team": transfer.receiving_team_id,
            "subject_key": f"transfer:{transfer.pk}",
            "on_date": reached,
            "params": {"days": working_days},
        }
        for transfer, reached in reached_now
        for user_id in people[transfer.receiving_team_id]
    ]


def _acceptance_team(today: dt.date, working_days: int) -> list[dict]:
    """A transfer awaiting acceptance N working days -> the receiving team."""
    return _awaiting(
        today, working_days, roles=[Role.RECEIVING_WORKER], kind=NotificationKind.TRANSFER_AWAITING
    )


def _acceptance_supervisor(today: dt.date, working_days: int) -> list[dict]:
    """... and N working days -> the receiving team's supervisor."""
    return _awaiting(
        today,
        working_days,
        roles=[Role.SUPERVISOR],
        kind=NotificationKind.TRANSFER_AWAITING_ESCALATED,
    )


def _booking_unconfirmed(today: dt.date, working_days: int) -> list[dict]:
    """A booking not confirmed in N working days -> the front desk and the sender."""
    first, last = _window(today)
    reached_now = []
    for booking in HandoverBooking.objects.filter(
        status=BookingStatus.REQUESTED, transfer__state=TransferState.BOOKING_REQUESTED
    ).select_related("transfer"):
        reached = workdays.add_working_days(_local_date(booking.requested_at), working_days)
        if first <= reached <= last:
            reached_now.append((booking, reached))
    desks = _desk_workers_by_team({b.transfer.receiving_team_id for b, _ in reached_now})
    return [
        {
            "recipient": user_id,
            "kind": NotificationKind.BOOKING_UNCONFIRMED,
            **_about_case(booking.transfer.case_id),
            "transfer": booking.transfer_id,
            "subject_key": f"booking:{booking.pk}",
            "on_date": reached,
            "params": {"days": working_days},
        }
        for booking, reached in reached_now
        for user_id in {
            *desks[booking.transfer.receiving_team_id],
            booking.transfer.sending_worker_id,
        }
    ]


def _cap_warning(today: dt.date, days: int) -> list[dict]:
    """N days before the 60-month cap -> the caseworker and the team's supervisors."""
    first, last = _window(today)
    earliest = first + dt.timedelta(days=days) - relativedelta(months=date_rules.CAP_MONTHS)
    latest = last + dt.timedelta(days=days) - relativedelta(months=date_rules.CAP_MONTHS)
    cases = Case.objects.filter(
        ~Q(state__in=[CaseState.TRANSFERRED, CaseState.CLOSED]),
        # month arithmetic is not invertible at month ends: widen, then filter exactly
        integration_started_on__gte=earliest - dt.timedelta(days=3),
        integration_started_on__lte=latest + dt.timedelta(days=3),
    )
    supervisors = _members_by_team(cases.values_list("team_id", flat=True), Role.SUPERVISOR)
    items = []
    for case in cases:
        reached = case.cap_on - dt.timedelta(days=days)
        if first <= reached <= last:
            for user_id in {case.responsible_worker_id, *supervisors[case.team_id]}:
                items.append(
                    {
                        "recipient": user_id,
                        "kind": NotificationKind.CAP_APPROACHING,
                        **_about_case(case.pk),
                        "subject_key": f"case:{case.pk}",
                        "on_date": reached,
                        "params": {"days": days},
                    }
                )
    return items


def _plan_target(today: dt.date, days: int) -> list[dict]:
    """A plan's target date in N days, and on the day (N = 0) -> the plan's owner (a worker
    of the case's team) when one is named, else the case's responsible worker: the worker
    who follows the plan up in Silta (the plan's "who does it" may be the client or a
    partner). Once per plan and date: the key names the case, the criterion and the
    target date, so a plan copied into a later review is not reminded twice, and a plan
    given a new date is reminded again for it."""
    first, last = _window(today)
    plans = (
        current_plans()
        .filter(
            plan_target_on__gte=first + dt.timedelta(days=days),
            plan_target_on__lte=last + dt.timedelta(days=days),
        )
        .annotate(
            # An owner who has left (deactivated) is no one's worker: the responsible one is told.
            follower=Coalesce(
                SqlCase(When(plan_owner_user__is_active=True, then=F("plan_owner_user"))),
                F("review__case__responsible_worker"),
            )
        )
    )
    kind = NotificationKind.PLAN_TARGET_TODAY if days == 0 else NotificationKind.PLAN_TARGET_SOON
    return [
        {
            "recipient": worker,
            "kind": kind,
            **_about_case(case_id),
            "link": reverse("web:review", args=[review_id]),
            "subject_key": f"plan:{case_id}:{criterion_id}:{target:%Y%m%d}",
            "on_date": target - dt.timedelta(days=days),
            "params": {"days": days},
        }
        for case_id, worker, criterion_id, review_id, target in plans.values_list(
            "review__case_id",
            "follower",
            "criterion_id",
            "review_id",
            "plan_target_on",
        )
        if target is not None  # current_plans() has a date; the column may be empty
    ]


BUILDERS = {
    ReminderKind.REVIEW_DUE_SOON: _due_soon,
    ReminderKind.OVERDUE_ESCALATION: _overdue_digest,
    ReminderKind.ACCEPTANCE_TEAM: _acceptance_team,
    ReminderKind.ACCEPTANCE_SUPERVISOR: _acceptance_supervisor,
    ReminderKind.BOOKING_UNCONFIRMED: _booking_unconfirmed,
    ReminderKind.CAP_WARNING: _cap_warning,
    ReminderKind.PLAN_TARGET: _plan_target,
    # Not an inbox notice: the client's text message, queued in the outbox by
    # `reminder_sweep` itself (client_notice.queue_reminders).
    ReminderKind.CLIENT_SMS_REMINDER: lambda today, days: [],
}
