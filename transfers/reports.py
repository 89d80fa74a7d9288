"""What a supervisor follows: overdue reviews, stalled transfers and the figures, for the
teams they supervise. Shared by the API and the web pages.

"Stalled" uses the reminder policies (notifications.ReminderPolicy, editable in the admin):
a transfer awaiting acceptance is stalled from the team reminder's first offset in working
days, a booking not confirmed from the booking reminder's first offset."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any, cast

from django.db.models import (
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncMonth

from cases.enums import CaseState
from cases.models import Case, TeamStateCount
from core import clock, workdays
from transfers.enums import TransferState
from transfers.models import WAITING_SINCE, WAITING_STATES, Transfer

DEFAULT_ACCEPTANCE_DAYS = 3
DEFAULT_BOOKING_DAYS = 2


def overdue_reviews(team_ids, today: dt.date | None = None) -> QuerySet[Case]:
    """Cases of these teams whose review date has passed and whose review is not done,
    longest overdue first."""
    today = today or clock.today()
    return (
        Case.objects.filter(
            team_id__in=team_ids,
            state__in=[CaseState.REVIEW_DUE, CaseState.IN_REVIEW],
            review_due_on__lt=today,
        )
        .select_related("team", "responsible_worker")
        .order_by("review_due_on", "id")
    )


OVERDUE_STATES = (CaseState.REVIEW_DUE, CaseState.IN_REVIEW)


def overdue_counts(
    team_ids, today: dt.date, *, team_code: str = "", worker: str = ""
) -> dict[tuple[int, int], int]:
    """How many of overdue_reviews() there are per team and responsible worker (id), the
    page's filters (a team's code, a worker's username) applied. On PostgreSQL from the
    counts the database keeps per team, worker and state (cases.TeamStateCount), less the
    cases in those states whose review date is not yet past (a window of days ahead, read
    from the index): it grows neither with the overdue backlog nor with the caseload."""
    from django.db import connection

    cases = Case.objects.filter(team_id__in=list(team_ids), state__in=OVERDUE_STATES)
    kept = TeamStateCount.objects.filter(team_id__in=list(team_ids), state__in=OVERDUE_STATES)
    if team_code:
        cases = cases.filter(team__code=team_code)
        kept = kept.filter(team__code=team_code)
    if worker:
        cases = cases.filter(responsible_worker__username=worker)
        kept = kept.filter(worker__username=worker)
    if connection.vendor != "postgresql":  # the embedded database keeps no counts
        return {
            (team, user): n
            for team, user, n in cases.filter(review_due_on__lt=today)
            .values_list("team_id", "responsible_worker_id")
            .annotate(n=Count("pk"))
        }
    counts = {
        (team, user): n
        for team, user, n in kept.values_list("team_id", "worker_id").annotate(n=Sum("n"))
    }
    not_yet = cases.filter(Q(review_due_on__gte=today) | Q(review_due_on__isnull=True))
    for team, user, n in not_yet.values_list("team_id", "responsible_worker_id").annotate(
        n=Count("pk")
    ):
        counts[(team, user)] = counts.get((team, user), 0) - n
    return {key: n for key, n in counts.items() if n > 0}


def exceptions_waiting_count(team_ids) -> int:
    """How many reviews exceptions_waiting_query() holds, counted from the open exceptions'
    index outwards (each not-met assessment whose exception is undecided, then its review,
    case and client by key), not by hashing the teams' whole caseload."""
    from cases.models import Client
    from criteria.models import AssessmentStatus, CriterionAssessment

    # The client is read only for a criterion about children (an OR stops at its first
    # true branch), not once for every open exception.
    with_children = Exists(
        Client.objects.filter(pk=OuterRef("review__case__client_id")).exclude(children_count=0)
    )
    return (
        CriterionAssessment.objects.filter(
            Q(criterion__requires_children=False) | Q(with_children),
            status=AssessmentStatus.NOT_MET,
            criterion__exception_allowed=True,
            exception_approved_at__isnull=True,
            review__completed_at__isnull=True,
            review__case__team_id__in=list(team_ids),
        )
        .values("review_id")
        .distinct()
        .count()
    )


@dataclass(frozen=True)
class Waiting:
    transfer: Transfer
    stage: str  # "acceptance" or "booking"
    since: dt.datetime
    working_days: int
    threshold: int

    @property
    def stalled(self) -> bool:
        return self.working_days >= self.threshold


def _first_offsets(defaults: dict[str, int]) -> list[int]:
    """Each kind's first offset from its first enabled policy (else its default), the
    kinds read in one query."""
    from notifications.models import ReminderPolicy

    first: dict[str, list[int]] = {}
    for policy in ReminderPolicy.objects.filter(kind__in=list(defaults), enabled=True).order_by(
        "pk"
    ):
        first.setdefault(policy.kind, policy.offset_list)
    return [(first.get(kind) or [default])[0] for kind, default in defaults.items()]


_WAITING = WAITING_STATES


def thresholds() -> tuple[int, int]:
    """The working days after which a wait for acceptance and for a booking is stalled."""
    from notifications.models import ReminderKind

    acceptance, booking = _first_offsets(
        {
            ReminderKind.ACCEPTANCE_TEAM: DEFAULT_ACCEPTANCE_DAYS,
            ReminderKind.BOOKING_UNCONFIRMED: DEFAULT_BOOKING_DAYS,
        }
    )
    return acceptance, booking


def _waiting_query(team_ids) -> QuerySet[Transfer]:
    """Open transfers of these teams that wait for someone, each with `since`: when the
    wait began (proposed; or booking requested, else accepted). Longest wait first."""
    return (
        Transfer.objects.filter(
            Q(sending_team_id__in=team_ids) | Q(receiving_team_id__in=team_ids),
            state__in=_WAITING,
        )
        .annotate(since=WAITING_SINCE)  # as the index has it (transfer_waiting_since_idx)
        .select_related("case", "sending_team", "receiving_team", "receiving_worker")
        .order_by("since", "id")
    )


def _row(transfer: Transfer, today: dt.date, acceptance: int, booking: int) -> Waiting:
    if transfer.state == TransferState.PROPOSED:
        stage, since, threshold = "acceptance", transfer.proposed_at, acceptance
    else:
        stage = "booking"
        # an accepted transfer has accepted_at
        since = cast(dt.datetime, transfer.booking_requested_at or transfer.accepted_at)
        threshold = booking
    local = since.astimezone(clock.tz()).date()
    return Waiting(
        transfer=transfer,
        stage=stage,
        since=since,
        working_days=workdays.working_days_between(local, today),
        threshold=threshold,
    )


def waiting_transfers(team_ids, today: dt.date | None = None) -> list[Waiting]:
    """Open transfers sent or addressed to these teams that wait for someone: acceptance
    (proposed) or a confirmed booking (accepted, booking requested). Longest wait first."""
    today = today or clock.today()
    acceptance, booking = thresholds()
    return [_row(t, today, acceptance, booking) for t in _waiting_query(team_ids)]


def stalled_since(today: dt.date, threshold: int) -> dt.datetime | None:
    """The moment before which a wait has lasted at least `threshold` working days on
    `today`: the start (Helsinki time) of the threshold-th working day back from today,
    today included (working_days_between(d, today) >= threshold exactly when d is before
    it). None when any wait counts (threshold 0). Walks back at most the threshold's
    working days, whatever the number of transfers."""
    if threshold <= 0:
        return None
    day, found = today, 0
    while True:
        if workdays.is_working_day(day):
            found += 1
            if found == threshold:
                return dt.datetime.combine(day, dt.time.min, tzinfo=clock.tz())
        day -= dt.timedelta(days=1)


def stalled_query(
    team_ids, today: dt.date | None = None, limits: tuple[int, int] | None = None
) -> QuerySet[Transfer]:
    """The stalled transfers as one query, filtered, sorted and counted in SQL: the
    working days are turned into a moment per stage (stalled_since), so the database
    compares a time instead of Python counting days transfer by transfer."""
    today = today or clock.today()
    acceptance, booking = limits or thresholds()
    stalled = Q()
    for states, threshold in (
        ([TransferState.PROPOSED], acceptance),
        ([TransferState.ACCEPTED, TransferState.BOOKING_REQUESTED], booking),
    ):
        before = stalled_since(today, threshold)
        stage = Q(state__in=states) if before is None else Q(state__in=states, since__lt=before)
        stalled = stage if not stalled else stalled | stage
    return _waiting_query(team_ids).filter(stalled)


def waiting_rows(
    transfers, today: dt.date | None = None, limits: tuple[int, int] | None = None
) -> list[Waiting]:
    """The report's rows for the transfers shown (a page of stalled_query)."""
    today = today or clock.today()
    acceptance, booking = limits or thresholds()
    return [_row(t, today, acceptance, booking) for t in transfers]


def stalled_transfers(team_ids, today: dt.date | None = None) -> list[Waiting]:
    return waiting_rows(stalled_query(team_ids, today), today)


def exceptions_waiting_query(team_ids) -> QuerySet:
    """Open reviews of these teams with a criterion whose exception a supervisor may
    approve, from the stored assessments (as criteria.rules decides it: not met, the
    criterion allows an exception, none approved yet, and the criterion applies to the
    client), oldest first: one query, paged and counted in SQL."""
    from criteria.models import AssessmentStatus, CriterionAssessment, Review

    # A criterion about children applies only to a client with children: asked of the
    # review's own client, read once by the outer query (one probe of the open
    # exceptions' index per review, not a join back to the review, case and client).
    waiting = (
        CriterionAssessment.objects.filter(
            review=OuterRef("pk"),
            status=AssessmentStatus.NOT_MET,
            criterion__exception_allowed=True,
            exception_approved_at__isnull=True,
        )
        .annotate(
            children=ExpressionWrapper(
                OuterRef("case__client__children_count"), output_field=IntegerField()
            )
        )
        .filter(Q(criterion__requires_children=False) | ~Q(children=0))
    )
    return (
        Review.objects.filter(Exists(waiting), case__team_id__in=list(team_ids))
        .filter(completed_at__isnull=True)
        .select_related("case__client", "case__team", "case__responsible_worker")
        .order_by("started_at", "id")
    )


def cases_per_state(team_ids) -> dict[str, int]:
    """How many of these teams' cases are in each state (the states with any). On
    PostgreSQL from the counts the database keeps (cases.TeamStateCount), not the whole
    caseload; the embedded database (make run) keeps none, so there the cases are counted."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return _cases_per_state_counted(team_ids)
    return _per_state(TeamStateCount.objects.filter(team_id__in=team_ids), Sum("n"))


def _cases_per_state_counted(team_ids) -> dict[str, int]:
    """cases_per_state on the embedded database: the cases counted."""
    return _per_state(Case.objects.filter(team_id__in=team_ids), Count("id"))


def _per_state(rows: QuerySet[Any], total: Count | Sum) -> dict[str, int]:
    return {
        state: n
        for state, n in rows.values_list("state")
        .annotate(total=total)
        .values_list("state", "total")
        if n
    }


def figures(team_ids, *, since: dt.date) -> dict:
    """Counts for these teams: cases per state now; transfers completed per month and
    region; median days from the review date to the completed handover; the criteria most
    often not met in reviews completed since `since`. No client data."""
    from criteria.models import AssessmentStatus, CriterionAssessment

    start = dt.datetime.combine(since, dt.time.min, tzinfo=clock.tz())
    by_state = cases_per_state(team_ids)
    completed = Transfer.objects.filter(
        Q(sending_team_id__in=team_ids) | Q(receiving_team_id__in=team_ids),
        state=TransferState.COMPLETED,
        completed_at__gte=start,
    )
    per_month = [
        {
            "month": row["month"].astimezone(clock.tz()).date().isoformat()[:7],
            "region": row["receiving_team__region__code"],
            "transfers": row["n"],
        }
        for row in completed.annotate(month=TruncMonth("completed_at", tzinfo=clock.tz()))
        .values("month", "receiving_team__region__code")
        .annotate(n=Count("id"))
        .order_by("month", "receiving_team__region__code")
    ]
    waits = [
        # completed_at__gte above: never None
        (cast(dt.datetime, completed_at).astimezone(clock.tz()).date() - due).days
        for completed_at, due in completed.values_list("completed_at", "case__review_due_on")
        if due is not None
    ]
    unmet = Counter(
        dict(
            CriterionAssessment.objects.filter(
                review__case__team_id__in=team_ids,
                review__completed_at__gte=start,
                status=AssessmentStatus.NOT_MET,
            )
            .values_list("criterion__code")
            .annotate(n=Count("id"))
            .values_list("criterion__code", "n")
        )
    )
    return {
        "since": since.isoformat(),
        "cases_by_state": {state: by_state.get(state, 0) for state in CaseState.values},
        "transfers_per_month": per_month,
        "median_days_due_to_transferred": statistics.median(waits) if waits else None,
        "criteria_most_often_unmet": [
            {"criterion": code, "count": n} for code, n in unmet.most_common()
        ],
    }
