"""The figures the report could not produce (transfers/figures.py), computed from a busy
week's rows: every transfer outcome, a question, a no-show with its interpreter released,
and event rows whose times are known, so the medians and percentiles can be checked."""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse

from cases.enums import CaseState, EventSubject, Role, TeamKind
from cases.models import Case, Event, Membership, Region, Team
from core import clock
from tests.factories import (
    case_in_state,
    make_client,
    make_org,
    member,
    reload,
    transfer_in_state,
)
from transfers import figures
from transfers import services as transfer_services
from transfers.enums import BookingStatus, TransferState


def this_month() -> dt.date:
    return clock.today().replace(day=1)


def _case(org, team):
    return Case.objects.create(
        client=make_client(org),
        team=team,
        responsible_worker=org.caseworker,
        integration_started_on=clock.today() - relativedelta(months=30),
        review_due_on=clock.today() - relativedelta(months=6),
    )


def _timeline(case, start: dt.datetime, steps: list[tuple[float, str, str]]) -> None:
    """Event rows of the case at known times: (days after `start`, from, to)."""
    for days, source, target in steps:
        Event.objects.create(
            subject=EventSubject.CASE,
            action="test",
            client_id=case.client_id,
            case_id=case.pk,
            from_state=source,
            to_state=target,
            created_at=start + dt.timedelta(days=days),
        )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_time_in_state__median_and_90th_percentile_per_month_region_and_state(owner_sql):
    # The event log takes only the database's time; this test writes rows of the past.
    owner_sql(
        "ALTER TABLE cases_event DISABLE TRIGGER cases_event_database_time",
        undo_with="ALTER TABLE cases_event ENABLE TRIGGER cases_event_database_time",
    )
    org = make_org()
    west = Team.objects.create(
        code="koto3",
        name="Koto-tiimi 3",
        kind=TeamKind.IMMIGRATION_UNIT,
        region=Region.objects.get(code="lansi"),
    )
    Team.objects.create(code="koto4", name="Koto-tiimi 4", kind=TeamKind.IMMIGRATION_UNIT)
    member(west, Role.SUPERVISOR)  # not ours: the supervisor below supervises both
    Membership.objects.create(user=org.koto_supervisor, team=west, role=Role.SUPERVISOR)
    month = this_month() - relativedelta(months=3)
    start = dt.datetime.combine(month, dt.time(12), tzinfo=clock.tz())
    a, b, c = _case(org, org.koto), _case(org, org.koto), _case(org, org.koto)
    _timeline(
        a,
        start,
        [
            (0, "", "active"),
            (10, "active", "review_due"),
            (12, "review_due", "in_review"),
            (13, "in_review", "in_review"),  # a new responsible worker: no state change
            (15, "in_review", "transfer_pending"),
            (25, "transfer_pending", "transferred"),
        ],
    )
    _timeline(
        b, start, [(0, "", "active"), (20, "active", "review_due"), (21, "review_due", "in_review")]
    )
    _timeline(c, start, [(0, "", "active"), (27, "active", "review_due")])
    _timeline(_case(org, west), start, [(0, "", "active"), (5, "active", "review_due")])
    outside = Team.objects.get(code="koto4")
    _timeline(_case(org, outside), start, [(0, "", "active"), (1, "active", "review_due")])

    found = figures.time_in_state(
        [org.koto.pk, west.pk], since=clock.today() - relativedelta(months=12)
    )
    cases = {(t.region, t.state): t for t in found if t.subject == "case"}
    assert {t.month for t in found if t.subject == "case"} == {month}
    active = cases[("pohjoinen", CaseState.ACTIVE)]
    assert (active.median_days, active.p90_days, active.periods) == (20.0, 25.6, 3)
    due = cases[("pohjoinen", CaseState.REVIEW_DUE)]
    assert (due.median_days, due.p90_days, due.periods) == (1.5, 1.9, 2)  # C not left yet
    in_review = cases[("pohjoinen", CaseState.IN_REVIEW)]
    assert (in_review.median_days, in_review.periods) == (3.0, 1)  # one period, not two
    pending = cases[("pohjoinen", CaseState.TRANSFER_PENDING)]
    assert (pending.median_days, pending.p90_days) == (10.0, 10.0)
    assert ("pohjoinen", CaseState.TRANSFERRED) not in cases  # never left
    west_active = cases[("lansi", CaseState.ACTIVE)]
    assert (west_active.median_days, west_active.periods) == (5.0, 1)
    assert len(cases) == 5, "the unsupervised team's case is left out"
    # a period that ended before `since` is left out
    assert not figures.time_in_state([org.koto.pk], since=clock.today() - relativedelta(months=2))
    # The embedded database's way (`make run` on SQLite) counts the same periods the same.
    since = clock.today() - relativedelta(months=12)
    assert figures._time_in_state_embedded([org.koto.pk, west.pk], since=since) == found


@pytest.fixture
def busy_week(db):
    """Every transfer outcome in the supervisor's team: held, returned, a question waiting,
    a no-show whose interpreter was released; and open cases in every state."""
    org = make_org()
    held = transfer_in_state(org, TransferState.COMPLETED, last_name="Held")
    returned = transfer_in_state(org, TransferState.RETURNED, last_name="Returned")
    asked = transfer_in_state(org, TransferState.INFORMATION_REQUESTED, last_name="Asked")
    missed = transfer_in_state(org, TransferState.BOOKED, last_name="Missed")
    transfer_services.transfer_rebook(
        actor=org.front_desk, transfer=missed, outcome=BookingStatus.NO_SHOW
    )
    for state in (CaseState.ACTIVE, CaseState.REVIEW_DUE, CaseState.IN_REVIEW):
        case_in_state(org, state)
    case_in_state(org, CaseState.CLOSED)
    return org, {
        "held": reload(held),
        "returned": returned,
        "asked": asked,
        "missed": reload(missed),
    }


YEAR = relativedelta(months=12)


@pytest.mark.django_db
def test_flow_figures__a_busy_week__counted_per_month_and_team(busy_week):
    org, transfers = busy_week
    teams, since = [org.koto.pk], clock.today() - YEAR
    month = this_month()

    assert figures.returns_by_reason(teams, since=since) == [
        {"month": month, "reason": "missing_information", "count": 1}
    ]
    assert figures.information_requests(teams, since=since) == [
        {"month": month, "team": "Pohjoinen AISO", "count": 1}
    ]
    booked_month = transfers["held"].bookings.get().starts_at.astimezone(clock.tz()).date()
    assert figures.waste(teams, since=since) == [
        {
            "month": booked_month.replace(day=1),
            "team": "Pohjoinen AISO",
            "appointments": 2,  # held and missed; the new request has no time yet
            "no_shows": 1,
            "interpreters": 2,
            "interpreters_unused": 1,
        }
    ]
    (load,) = figures.caseload(teams)
    # open: active, review due, in review, the returned one (back in review), the asked
    # one and the missed one (transfer pending); not the transferred nor the closed
    assert load == {"team": "Koto-tiimi 2", "worker": org.caseworker.get_full_name(), "count": 6}

    trend = figures.transfers_trend(teams, since=since)
    assert len(trend["months"]) == 13 and trend["months"][-1]["month"] == month
    assert [m["count"] for m in trend["months"]] == [0] * 12 + [1]
    assert trend["slope"] == 0.03  # 6 / 182, least squares over 13 months
    assert trend["months"][-1]["trend"] == 0.3 and trend["months"][0]["trend"] == -0.1

    timing = {
        t.state: t
        for t in figures.time_in_state(teams, since=since)
        if t.subject == "transfer" and t.month == month
    }
    assert timing[TransferState.PROPOSED].periods == 4  # every transfer was proposed
    assert timing[TransferState.BOOKED].periods == 2  # held, and missed
    assert timing[TransferState.ACCEPTED].region == "pohjoinen"
    assert TransferState.INFORMATION_REQUESTED not in timing  # still waiting
    assert all(0 <= t.median_days <= t.p90_days < 1 for t in timing.values())
    # The embedded database's way (`make run` on SQLite) gives the same figure.
    assert figures._time_in_state_embedded(teams, since=since) == figures.time_in_state(
        teams, since=since
    )


@pytest.mark.django_db
def test_flow_figures__another_teams_supervisor__sees_none_of_it(busy_week):
    org, _transfers = busy_week
    teams, since = [org.other_adult.pk], clock.today() - YEAR
    assert figures.returns_by_reason(teams, since=since) == []
    assert figures.information_requests(teams, since=since) == []
    assert figures.waste(teams, since=since) == []
    assert figures.caseload(teams) == []
    assert figures.time_in_state(teams, since=since) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "fi",
            [
                "Hukkakäynnit ja käyttämättömät tulkit",
                "Aika kussakin siirron tilassa",
                "Kehityssuunta: 0,03 siirtoa kuukaudessa",  # a decimal comma
            ],
        ),
        (
            "sv",
            [
                "Uteblivna besök och oanvända tolkar",
                "Tid i varje status för överföringen",
                "Trend: 0,03 överföringar i månaden",
            ],
        ),
        (
            "en",
            [
                "No-shows and unused interpreters",
                "Time in each transfer state",
                "Trend: 0.03 transfers a month",
            ],
        ),
    ],
)
def test_figures_page__the_new_figures_with_their_numbers_as_tables(
    client, busy_week, language, words
):
    org, _transfers = busy_week
    client.force_login(org.koto_supervisor)
    client.cookies["django_language"] = language
    page = client.get(reverse("web:figures"))
    assert page.status_code == 200
    html = page.content.decode()
    for word in words:
        assert word in html
    waste = html.split('id="waste-table"', 1)[1].split("</table>", 1)[0]
    cells = [cell.split("</td>")[0] for cell in waste.split("<td>")[1:]]
    assert cells[1:] == ["Pohjoinen AISO", "2", "1", "2", "1"]
    assert 'id="trend-title"' in html and 'id="caseload-table"' in html
    assert "Held" not in html and "Amina" not in html  # no client data
