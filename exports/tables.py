"""What can be exported: each supervisor list (as the supervisor page has it, but every
row, not a page) and the figures, as sheets of headers and rows.

A list's rows come from the same report queries as the page, read in chunks
(`QuerySet.iterator`), each row with the (client id, case id) it shows so that the writer
logs every chunk before writing it. The words (headers, states, reasons) are the page's own
messages, turned into text in the language active while the rows are made; dates stay
dates, for the writer to put in the language's format.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import QuerySet
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.access import Subject
from cases.enums import CaseState
from cases.models import case_reference
from cases.rules import cap_on
from cases.selectors import cases_at_cap, regions_by_code
from core import clock
from criteria.selectors import (
    criterion_names,
    extension_requests_waiting,
    overdue_plans,
    waiting_exceptions_of,
)
from transfers import figures as flow
from transfers import reports
from transfers.enums import ReturnReason, TransferState

CHUNK = 2000

Row = tuple[list[Any], Subject | None]


@dataclass(frozen=True)
class Month:
    """A calendar month: written as the language writes a month and a year."""

    first_day: dt.date


@dataclass
class Sheet:
    title: Any
    headers: list[Any]
    chunks: Callable[[], Iterator[list[Row]]]
    count: Callable[[], int]


@dataclass
class Table:
    kind: str
    title: Any
    sheets: list[Sheet] = field(default_factory=list)

    def count(self) -> int:
        return sum(sheet.count() for sheet in self.sheets)


@dataclass(frozen=True)
class Scope:
    """Whose rows: the supervised teams, the day, and the page's filters."""

    team_ids: list[int]
    on: dt.date
    params: dict[str, Any]


def _chunked(
    items: QuerySet[Any], to_rows: Callable[[list[Any]], list[Row]]
) -> Iterator[list[Row]]:
    batch: list[Any] = []
    for item in items.iterator(chunk_size=CHUNK):
        batch.append(item)
        if len(batch) == CHUNK:
            yield to_rows(batch)
            batch = []
    if batch:
        yield to_rows(batch)


def _sheet(title: Any, headers: list[Any], items: QuerySet[Any], to_rows) -> Sheet:
    return Sheet(
        title=title,
        headers=headers,
        chunks=lambda: _chunked(items, to_rows),
        count=lambda: items.count(),
    )


def _worker(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(clock.tz()) if moment else None


def _subject(case: Any) -> Subject:
    return (case.client_id, case.pk)


CASE = _("Case")
TEAM = _("Team")
WORKER = _("Worker")
STATE = _("State")


# The supervisor page's lists ---------------------------------------------------------------


# The case lists of the whole caseload read plain values, not model instances: a case
# instance costs more to build than its row costs to write (bench/export.py).
_CASE_VALUES = (
    "pk",
    "client_id",
    "team__name",
    "responsible_worker__first_name",
    "responsible_worker__last_name",
    "responsible_worker__username",
)


def _name(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def _case_states() -> dict[str, str]:
    return {value: str(label) for value, label in CaseState.choices}


def overdue(scope: Scope) -> Table:
    items = reports.overdue_reviews(scope.team_ids, scope.on)
    if scope.params.get("team"):
        items = items.filter(team__code=scope.params["team"])
    if scope.params.get("worker"):
        items = items.filter(responsible_worker__username=scope.params["worker"])

    def rows(found: list[Any]) -> list[Row]:
        states = _case_states()
        return [
            (
                [
                    case_reference(pk),
                    team,
                    _name(first, last, username),
                    due,
                    (scope.on - due).days,
                    states.get(state, state),
                ],
                (client_id, pk),
            )
            for pk, client_id, team, first, last, username, due, state in found
        ]

    title = _("Overdue reviews")
    headers = [
        CASE,
        TEAM,
        WORKER,
        pgettext_lazy("due date", "Review due"),
        _("Days overdue"),
        STATE,
    ]
    values = items.values_list(*_CASE_VALUES, "review_due_on", "state")
    return Table("overdue", title, [_sheet(title, headers, values, rows)])


def stalled(scope: Scope) -> Table:
    limits = reports.thresholds()
    items = reports.stalled_query(scope.team_ids, scope.on, limits)
    stages = {"acceptance": _("Awaiting acceptance"), "booking": _("Booking not confirmed")}

    def rows(transfers: list[Any]) -> list[Row]:
        return [
            (
                [
                    row.transfer.case.reference,
                    row.transfer.sending_team.name,
                    row.transfer.receiving_team.name,
                    str(stages[row.stage]),
                    _local(row.since),
                    row.working_days,
                ],
                (row.transfer.case.client_id, row.transfer.case_id),
            )
            for row in reports.waiting_rows(transfers, scope.on, limits)
        ]

    title = _("Stalled transfers")
    headers = [CASE, _("From"), _("To"), _("Waiting for"), _("Since"), _("Working days waited")]
    return Table("stalled", title, [_sheet(title, headers, items, rows)])


def exceptions(scope: Scope) -> Table:
    items = reports.exceptions_waiting_query(scope.team_ids)

    def rows(reviews: list[Any]) -> list[Row]:
        waiting = waiting_exceptions_of([review.pk for review in reviews])
        found: list[Row] = []
        for review in reviews:
            case = review.case
            found.append(
                (
                    [
                        case.reference,
                        case.team.name,
                        _worker(case.responsible_worker),
                        _local(review.started_at),
                        ", ".join(c["name"] for c in waiting.get(review.pk, [])),
                    ],
                    _subject(case),
                )
            )
        return found

    title = _("Exceptions waiting for a decision")
    headers = [CASE, TEAM, WORKER, _("Review started"), _("Criteria")]
    return Table("exceptions", title, [_sheet(title, headers, items, rows)])


def cap(scope: Scope) -> Table:
    items = cases_at_cap(scope.team_ids, scope.on)

    def rows(found: list[Any]) -> list[Row]:
        states = _case_states()
        return [
            (
                [
                    case_reference(pk),
                    team,
                    _name(first, last, username),
                    started,
                    cap_on(started),
                    states.get(state, state),
                ],
                (client_id, pk),
            )
            for pk, client_id, team, first, last, username, started, state in found
        ]

    title = _("Cases at the 5-year cap")
    headers = [CASE, TEAM, WORKER, _("Integration period started"), _("5-year cap"), STATE]
    values = items.values_list(*_CASE_VALUES, "integration_started_on", "state")
    return Table("cap", title, [_sheet(title, headers, values, rows)])


def extensions(scope: Scope) -> Table:
    items = extension_requests_waiting(scope.team_ids)

    def rows(requests: list[Any]) -> list[Row]:
        return [
            (
                [
                    request.review.case.reference,
                    request.review.case.team.name,
                    request.next_review_on,
                    _worker(request.requested_by),
                    _local(request.requested_at),
                    request.reason,
                ],
                _subject(request.review.case),
            )
            for request in requests
        ]

    title = _("Extensions waiting for approval")
    headers = [CASE, TEAM, _("Next review"), _("Asked by"), _("Asked"), _("Reason")]
    return Table("extensions", title, [_sheet(title, headers, items, rows)])


def plans(scope: Scope) -> Table:
    items = overdue_plans(on=scope.on, team_ids=scope.team_ids)

    def rows(assessments: list[Any]) -> list[Row]:
        return [
            (
                [
                    plan.review.case.reference,
                    f"{plan.review.case.client.last_name}, {plan.review.case.client.first_name}",
                    plan.criterion.name,
                    plan.plan_action,
                    plan.plan_owner,
                    plan.plan_target_on,
                    _worker(plan.review.case.responsible_worker),
                ],
                _subject(plan.review.case),
            )
            for plan in assessments
        ]

    title = _("Plans past their target date")
    headers = [
        CASE,
        _("Client"),
        _("Criterion"),
        _("Plan"),
        _("Who does it"),
        _("By when"),
        _("Responsible worker"),
    ]
    return Table("plans", title, [_sheet(title, headers, items, rows)])


# The figures ---------------------------------------------------------------------------------


@dataclass
class Figure:
    """One figure as a table of numbers; `chart` names the columns of the page's bar chart
    (the label columns and the value column)."""

    key: str
    title: Any
    headers: list[Any]
    rows: list[list[Any]]
    chart: tuple[list[int], int] | None = None
    note: Any = ""


def _fixed(rows: Iterable[list[Any]]) -> Callable[[], Iterator[list[Row]]]:
    found: list[Row] = [(row, None) for row in rows]
    return lambda: iter([found]) if found else iter([])


def figure_list(team_ids: list[int], *, since: dt.date, language: str) -> list[Figure]:
    """Every figure of the figures page, for these teams since `since`: the counts the page
    always had and those the report could not produce. Aggregates only (no client data)."""
    data = reports.figures(team_ids, since=since)
    states = dict(CaseState.choices)
    transfer_states = dict(TransferState.choices)
    reasons = dict(ReturnReason.choices)
    names = criterion_names(row["criterion"] for row in data["criteria_most_often_unmet"])
    regions = regions_by_code()

    def region_name(code: str) -> str:
        region = regions.get(code)
        return getattr(region, f"name_{language[:2]}", code) if region else (code or "–")

    month, region, team, worker = _("Month"), _("Region"), TEAM, WORKER
    timing = flow.time_in_state(team_ids, since=since)
    trend = flow.transfers_trend(team_ids, since=since)
    waste = flow.waste(team_ids, since=since)
    median = data["median_days_due_to_transferred"]

    def time_in_state(key: str, title: Any, subject: str, labels: dict[str, Any]) -> Figure:
        """The median and 90th percentile of the time in each state of `subject` (a case
        or a transfer), per month and region."""
        return Figure(
            key,
            title,
            [month, region, STATE, _("Median days"), _("90th percentile, days"), _("Periods")],
            [
                [
                    Month(t.month),
                    region_name(t.region),
                    labels.get(t.state, t.state),
                    t.median_days,
                    t.p90_days,
                    t.periods,
                ]
                for t in timing
                if t.subject == subject
            ],
            ([0, 1, 2], 3),
        )

    return [
        Figure(
            "median",
            _("Median days from review due to transferred"),
            [_("Figure"), _("Days")],
            [[_("Median days from review due to transferred"), median]]
            if median is not None
            else [],
        ),
        Figure(
            "states",
            _("Where cases are now"),
            [STATE, _("Cases")],
            [[states[s], n] for s, n in data["cases_by_state"].items()],
            ([0], 1),
        ),
        Figure(
            "months",
            _("Transfers per month and region"),
            [month, region, _("Transfers")],
            [
                [
                    Month(dt.date.fromisoformat(row["month"] + "-01")),
                    region_name(row["region"]),
                    row["transfers"],
                ]
                for row in data["transfers_per_month"]
            ],
            ([0, 1], 2),
        ),
        Figure(
            "trend",
            _("Transfers per month with the trend"),
            [month, _("Transfers"), _("Trend")],
            [[Month(row["month"]), row["count"], row["trend"]] for row in trend["months"]],
            ([0], 1),
            # The slope as the reader's language writes a number (fi: 0,26).
            _("Trend: %(slope)s transfers a month (least squares).")
            % {"slope": number_format(trend["slope"], decimal_pos=2, use_l10n=True)}
            if trend["months"]
            else "",
        ),
        Figure(
            "unmet",
            _("Criteria most often not met"),
            [_("Criterion"), _("Times not met")],
            [
                [names.get(row["criterion"], row["criterion"]), row["count"]]
                for row in data["criteria_most_often_unmet"]
            ],
            ([0], 1),
        ),
        time_in_state("case-times", _("Time in each case state"), "case", states),
        time_in_state(
            "transfer-times", _("Time in each transfer state"), "transfer", transfer_states
        ),
        Figure(
            "returns",
            _("Returns by reason"),
            [month, _("Reason"), _("Returns")],
            [
                [Month(row["month"]), reasons.get(row["reason"], row["reason"]), row["count"]]
                for row in flow.returns_by_reason(team_ids, since=since)
            ],
            ([0, 1], 2),
        ),
        Figure(
            "questions",
            _("Information requests"),
            [month, team, _("Requests")],
            [
                [Month(row["month"]), row["team"], row["count"]]
                for row in flow.information_requests(team_ids, since=since)
            ],
            ([0, 1], 2),
        ),
        Figure(
            "waste",
            _("No-shows and unused interpreters"),
            [
                month,
                team,
                _("Appointments"),
                _("Client did not come"),
                _("Interpreters booked"),
                _("Interpreters unused"),
            ],
            [
                [
                    Month(row["month"]),
                    row["team"],
                    row["appointments"],
                    row["no_shows"],
                    row["interpreters"],
                    row["interpreters_unused"],
                ]
                for row in waste
            ],
            ([0, 1], 3),
        ),
        Figure(
            "caseload",
            _("Caseload per worker"),
            [team, worker, _("Open cases")],
            [[row["team"], row["worker"], row["count"]] for row in flow.caseload(team_ids)],
            ([1, 0], 2),
        ),
    ]


def figures(scope: Scope, *, language: str = "fi") -> Table:
    since = scope.params.get("since") or (scope.on - relativedelta(months=12))
    if isinstance(since, str):
        since = dt.date.fromisoformat(since)
    table = Table("figures", _("Figures"))
    for figure in figure_list(scope.team_ids, since=since, language=language):
        rows = figure.rows
        table.sheets.append(
            Sheet(
                title=figure.title,
                headers=figure.headers,
                chunks=_fixed(rows),
                count=functools.partial(len, rows),
            )
        )
    return table


LISTS: dict[str, Callable[[Scope], Table]] = {
    "overdue": overdue,
    "stalled": stalled,
    "exceptions": exceptions,
    "cap": cap,
    "extensions": extensions,
    "plans": plans,
}

KINDS = [*LISTS, "figures"]


def table_of(kind: str, scope: Scope, *, language: str) -> Table:
    if kind == "figures":
        return figures(scope, language=language)
    return LISTS[kind](scope)
