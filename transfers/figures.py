"""The figures the source report could not produce (its chapter 4): how long cases and
transfers stay in each state, why transfers come back, how often the receiving team has
to ask, the waste of missed handovers and unused interpreters, each worker's caseload and
the flow of transfers with its trend.

Every figure is an aggregate computed by PostgreSQL for the teams a supervisor supervises:
the rows returned grow with months, regions, teams and states, never with cases. Codes
only (states, reasons, region codes, team and worker names): no client data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from cases.enums import EventSubject
from cases.models import Case, Event, Region, Team, TeamStateCount
from cases.selectors import OPEN_CASE_STATES
from core import clock

from .enums import BookingStatus, InterpreterStatus, MessageKind, TransferState
from .models import HandoverBooking, Transfer, TransferMessage


def _start(since: dt.date) -> dt.datetime:
    return dt.datetime.combine(since, dt.time.min, tzinfo=clock.tz())


def _month(value: dt.datetime | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.astimezone(clock.tz()).date()
    return value.replace(day=1)


def _transfers_of(team_ids: list[int]) -> Q:
    return Q(sending_team_id__in=team_ids) | Q(receiving_team_id__in=team_ids)


# Time in each state, from the event rows: a state lasts from the transition into it to
# the next transition of the same case (or transfer). Events that change no state (a new
# responsible worker, an edited summary) have the same state before and after and are left
# out. A period is counted in the month it ended; a state not yet left is not counted.
_TIME_IN_STATE = """
WITH periods AS (
    SELECT e.{key} AS subject_id, e.to_state AS state, e.created_at AS entered,
           LEAD(e.created_at) OVER (
               PARTITION BY e.{key} ORDER BY e.created_at, e.id
           ) AS left_at
    FROM {event} e
    WHERE e.subject = %(subject)s AND e.{key} IN ({scope})
      AND e.to_state <> '' AND e.to_state IS DISTINCT FROM e.from_state
)
SELECT (date_trunc('month', p.left_at AT TIME ZONE %(tz)s))::date AS month,
       r.code AS region,
       p.state,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY EXTRACT(EPOCH FROM p.left_at - p.entered) / 86400.0
       ) AS median_days,
       percentile_cont(0.9) WITHIN GROUP (
           ORDER BY EXTRACT(EPOCH FROM p.left_at - p.entered) / 86400.0
       ) AS p90_days,
       count(*) AS periods
FROM periods p
JOIN {owner} o ON o.id = p.subject_id
JOIN {team} t ON t.id = o.{team_column}
LEFT JOIN {region} r ON r.id = t.region_id
WHERE p.left_at IS NOT NULL AND p.left_at >= %(start)s
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""


@dataclass(frozen=True)
class StateTime:
    subject: str  # "case" or "transfer"
    month: dt.date
    region: str  # region code; "" when the team has none
    state: str
    median_days: float
    p90_days: float
    periods: int


def _percentile(values: list[float], fraction: float) -> float:
    """PostgreSQL's percentile_cont: linear between the two nearest of the sorted values."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _time_in_state_embedded(team_ids: list[int], *, since: dt.date) -> list[StateTime]:
    """The same figure on the embedded database (`make run`, SQLite), which has neither
    window percentiles nor time zones: the periods are read in order and counted here. The
    demo's few thousand events take milliseconds; production runs the SQL above."""
    start = _start(since)
    found: list[StateTime] = []
    for subject, key, owners, team in (
        (EventSubject.CASE, "case_id", Case.objects.filter(team_id__in=team_ids), "team"),
        (
            EventSubject.TRANSFER,
            "transfer_id",
            Transfer.objects.filter(_transfers_of(team_ids)),
            "receiving_team",
        ),
    ):
        region_of = dict(owners.values_list("pk", f"{team}__region__code"))
        rows = (
            Event.objects.filter(subject=subject, **{f"{key}__in": list(region_of)})
            .exclude(to_state="")
            .order_by(key, "created_at", "id")
            .values_list(key, "from_state", "to_state", "created_at")
        )
        periods: dict[tuple[dt.date, str, str], list[float]] = {}
        entered: tuple[int, str, dt.datetime] | None = None
        for owner_id, from_state, to_state, at in rows:
            if to_state == from_state:
                continue
            if entered is not None and entered[0] == owner_id and at >= start:
                group = (_month(at), region_of[owner_id] or "", entered[1])
                periods.setdefault(group, []).append((at - entered[2]).total_seconds() / 86400)
            entered = (owner_id, to_state, at)
        found.extend(
            StateTime(
                subject=str(subject),
                month=month,
                region=region,
                state=state,
                median_days=round(_percentile(days, 0.5), 1),
                p90_days=round(_percentile(days, 0.9), 1),
                periods=len(days),
            )
            for (month, region, state), days in sorted(periods.items())
        )
    return found


def time_in_state(team_ids: list[int], *, since: dt.date) -> list[StateTime]:
    """Median and 90th percentile of the days spent in each case state (region of the
    case's team) and transfer state (region of the receiving team), per month in which the
    state was left, since `since`: percentile_cont over the event rows, in PostgreSQL."""
    if connection.vendor != "postgresql":
        return _time_in_state_embedded(team_ids, since=since)
    found: list[StateTime] = []
    # Table names from the models; every value goes in as a query parameter.
    case_scope = f"SELECT id FROM {Case._meta.db_table} WHERE team_id = ANY(%(teams)s)"  # noqa: S608
    transfer_scope = (
        f"SELECT id FROM {Transfer._meta.db_table} "  # noqa: S608
        "WHERE sending_team_id = ANY(%(teams)s) OR receiving_team_id = ANY(%(teams)s)"
    )
    for subject, key, scope, owner, team_column in (
        (EventSubject.CASE, "case_id", case_scope, Case._meta.db_table, "team_id"),
        (
            EventSubject.TRANSFER,
            "transfer_id",
            transfer_scope,
            Transfer._meta.db_table,
            "receiving_team_id",
        ),
    ):
        sql = _TIME_IN_STATE.format(
            key=key,
            event=Event._meta.db_table,
            scope=scope,
            owner=owner,
            team=Team._meta.db_table,
            team_column=team_column,
            region=Region._meta.db_table,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                {
                    "subject": str(subject),
                    "teams": list(team_ids),
                    "tz": str(clock.tz()),
                    "start": _start(since),
                },
            )
            found.extend(
                StateTime(
                    subject=str(subject),
                    month=month,
                    region=region or "",
                    state=state,
                    median_days=round(float(median), 1),
                    p90_days=round(float(p90), 1),
                    periods=periods,
                )
                for month, region, state, median, p90, periods in cursor.fetchall()
            )
    return found


def returns_by_reason(team_ids: list[int], *, since: dt.date) -> list[dict[str, Any]]:
    """Transfers returned to the sender, per month and coded reason."""
    rows = (
        Transfer.objects.filter(_transfers_of(team_ids), returned_at__gte=_start(since))
        .annotate(month=TruncMonth("returned_at", tzinfo=clock.tz()))
        .values("month", "return_reason")
        .annotate(n=Count("id"))
        .order_by("month", "return_reason")
    )
    return [
        {"month": _month(row["month"]), "reason": row["return_reason"], "count": row["n"]}
        for row in rows
    ]


def information_requests(team_ids: list[int], *, since: dt.date) -> list[dict[str, Any]]:
    """Questions the receiving teams asked the sender before deciding, per month and the
    team that asked."""
    rows = (
        TransferMessage.objects.filter(
            Q(transfer__sending_team_id__in=team_ids) | Q(transfer__receiving_team_id__in=team_ids),
            kind=MessageKind.QUESTION,
            created_at__gte=_start(since),
        )
        .annotate(month=TruncMonth("created_at", tzinfo=clock.tz()))
        .values("month", "team__name")
        .annotate(n=Count("id"))
        .order_by("month", "team__name")
    )
    return [
        {"month": _month(row["month"]), "team": row["team__name"], "count": row["n"]}
        for row in rows
    ]


def waste(team_ids: list[int], *, since: dt.date) -> list[dict[str, Any]]:
    """The report's waste measure per month (of the appointment) and receiving team: the
    handover appointments that ended (held, missed or cancelled), those the client did not
    come to (hukkakäynti), the interpreters booked for them and those left unused (booked
    or requested, then released because the appointment did not take place)."""
    ended = [BookingStatus.HELD, BookingStatus.NO_SHOW, BookingStatus.CANCELLED]
    rows = (
        HandoverBooking.objects.filter(
            Q(transfer__sending_team_id__in=team_ids) | Q(transfer__receiving_team_id__in=team_ids),
            status__in=ended,
            starts_at__gte=_start(since),
        )
        .annotate(month=TruncMonth("starts_at", tzinfo=clock.tz()))
        .values("month", "transfer__receiving_team__name")
        .annotate(
            appointments=Count("id"),
            no_shows=Count("id", filter=Q(status=BookingStatus.NO_SHOW)),
            interpreters=Count("id", filter=~Q(interpreter_status=InterpreterStatus.NOT_NEEDED)),
            interpreters_unused=Count(
                "id", filter=Q(interpreter_status=InterpreterStatus.RELEASED)
            ),
        )
        .order_by("month", "transfer__receiving_team__name")
    )
    return [
        {
            "month": _month(row["month"]),
            "team": row["transfer__receiving_team__name"],
            "appointments": row["appointments"],
            "no_shows": row["no_shows"],
            "interpreters": row["interpreters"],
            "interpreters_unused": row["interpreters_unused"],
        }
        for row in rows
    ]


def caseload(team_ids: list[int]) -> list[dict[str, Any]]:
    """Open cases per responsible worker and team, the largest first. On PostgreSQL from
    the counts the database keeps per team, worker and state (cases.TeamStateCount): a
    few rows a worker, however many cases the team has carried."""
    counted: QuerySet[Any]
    total: Count | Sum
    if connection.vendor == "postgresql":
        counted, worker, total = TeamStateCount.objects.all(), "worker", Sum("n")
    else:  # the embedded database (make run) has no triggers keeping the counts
        counted, worker, total = Case.objects.all(), "responsible_worker", Count("id")
    rows = (
        counted.filter(team_id__in=team_ids, state__in=OPEN_CASE_STATES)
        .values(
            team_name=F("team__name"),
            username=F(f"{worker}__username"),
            first_name=F(f"{worker}__first_name"),
            last_name=F(f"{worker}__last_name"),
        )
        .annotate(total=total)
        .filter(total__gt=0)
        .order_by("-total", "team_name", "username")
    )
    return [
        {
            "team": row["team_name"],
            "worker": " ".join(part for part in (row["first_name"], row["last_name"]) if part)
            or row["username"],
            "count": row["total"],
        }
        for row in rows
    ]


def _months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def transfers_trend(team_ids: list[int], *, since: dt.date) -> dict[str, Any]:
    """Transfers completed per month (every month since `since`, none left out) and their
    least-squares trend: the fitted value per month and the slope in transfers a month."""
    counts = {
        _month(row["month"]): row["n"]
        for row in Transfer.objects.filter(
            _transfers_of(team_ids),
            state=TransferState.COMPLETED,
            completed_at__gte=_start(since),
        )
        .annotate(month=TruncMonth("completed_at", tzinfo=clock.tz()))
        .values("month")
        .annotate(n=Count("id"))
        .order_by("month")
    }
    months = _months_between(since, clock.today())
    values = [counts.get(month, 0) for month in months]
    n = len(values)
    slope, intercept = 0.0, float(values[0]) if values else 0.0
    if n > 1:
        mean_x, mean_y = (n - 1) / 2, sum(values) / n
        slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values)) / sum(
            (x - mean_x) ** 2 for x in range(n)
        )
        intercept = mean_y - slope * mean_x
    return {
        "months": [
            {"month": month, "count": value, "trend": round(intercept + slope * x, 1)}
            for x, (month, value) in enumerate(zip(months, values, strict=True))
        ],
        "slope": round(slope, 2),
    }
