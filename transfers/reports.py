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
from typing import cast

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from cases.enums import CaseState
from cases.models import Case
from core import clock, workdays
from transfers.enums import TransferState
from transfers.models import Transfer

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


def _first_offset(kind: str, default: int) -> int:
    from notifications.models import ReminderPolicy

    policy = ReminderPolicy.objects.filter(kind=kind, enabled=True).first()
    offsets = policy.offset_list if policy else []
    return offsets[0] if offsets else default


def waiting_transfers(team_ids, today: dt.date | None = None) -> list[Waiting]:
    """Open transfers sent or addressed to these teams that wait for someone: acceptance
    (proposed) or a confirmed booking (accepted, booking requested). Longest wait first."""
    from notifications.models import ReminderKind

    today = today or clock.today()
    acceptance = _first_offset(ReminderKind.ACCEPTANCE_TEAM, DEFAULT_ACCEPTANCE_DAYS)
    booking = _first_offset(ReminderKind.BOOKING_UNCONFIRMED, DEFAULT_BOOKING_DAYS)
    transfers = (
        Transfer.objects.filter(
            Q(sending_team_id__in=team_ids) | Q(receiving_team_id__in=team_ids),
            state__in=[
                TransferState.PROPOSED,
                TransferState.ACCEPTED,
                TransferState.BOOKING_REQUESTED,
            ],
        )
        .select_related("case", "sending_team", "receiving_team", "receiving_worker")
        .order_by("id")
    )
    rows = []
    for transfer in transfers:
        if transfer.state == TransferState.PROPOSED:
            stage, since, threshold = "acceptance", transfer.proposed_at, acceptance
        else:
            stage = "booking"
            # an accepted transfer has accepted_at
            since = cast(dt.datetime, transfer.booking_requested_at or transfer.accepted_at)
            threshold = booking
        local = since.astimezone(clock.tz()).date()
        rows.append(
            Waiting(
                transfer=transfer,
                stage=stage,
                since=since,
                working_days=workdays.working_days_between(local, today),
                threshold=threshold,
            )
        )
    rows.sort(key=lambda row: (row.since, row.transfer.pk))
    return rows


def stalled_transfers(team_ids, today: dt.date | None = None) -> list[Waiting]:
    return [row for row in waiting_transfers(team_ids, today) if row.stalled]


def figures(team_ids, *, since: dt.date) -> dict:
    """Counts for these teams: cases per state now; transfers completed per month and
    region; median days from the review date to the completed handover; the criteria most
    often not met in reviews completed since `since`. No client data."""
    from criteria.models import AssessmentStatus, CriterionAssessment

    start = dt.datetime.combine(since, dt.time.min, tzinfo=clock.tz())
    by_state = dict(
        Case.objects.filter(team_id__in=team_ids)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
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
