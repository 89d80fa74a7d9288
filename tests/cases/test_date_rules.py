"""The date rules (cases/rules.py) at their boundaries: the sponsor's residence threshold to
the day, a leap-day birthday, the review date and the 5-year cap; and the same threshold as
the services apply it (the current checklist version's)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta

from cases import rules
from cases.rules import ClientFacts
from core import clock
from criteria import services as criteria_services
from criteria.models import ChecklistTemplate
from criteria.selectors import current_checklist
from tests.factories import make_client

D = dt.date.fromisoformat
START = D("2025-03-01")


def reunited(since: dt.date | None, *, stable: bool = True, family: bool = True) -> ClientFacts:
    return ClientFacts(
        has_children=True,
        family_reunification_pending=False,
        housing_situation="settled",
        reunited_family=family,
        family_situation_stable=stable,
        sponsor_in_finland_since=since,
    )


@pytest.mark.parametrize(
    ("since", "long"),
    [
        ("2021-03-01", True),  # exactly 4 years on the day
        ("2021-03-02", False),  # one day short
        ("2021-02-28", True),
        ("2015-01-01", True),
    ],
)
def test_sponsor_has_lived_long__the_threshold_to_the_day(since, long):
    facts = reunited(D(since))
    assert rules.sponsor_has_lived_long(facts, on=START, threshold_years=4) is long


def test_sponsor_has_lived_long__no_arrival_date__never():
    assert not rules.sponsor_has_lived_long(reunited(None), on=START, threshold_years=0)


@pytest.mark.parametrize(
    ("facts", "due"),
    [
        (reunited(D("2021-03-01")), "2026-03-01"),  # at the threshold: after 12 months
        (reunited(D("2021-03-02")), "2027-03-01"),  # a day short: 24 months
        (reunited(D("2021-03-01"), stable=False), "2027-03-01"),
        (reunited(D("2021-03-01"), family=False), "2027-03-01"),
        (reunited(None), "2027-03-01"),
    ],
)
def test_review_due_on__one_year_only_for_a_settled_reunited_family(facts, due):
    assert rules.review_due_on(integration_started_on=START, client=facts, threshold_years=4) == D(
        due
    )


def test_age_on__whole_years_a_leap_day_birthday_on_1_march():
    born = D("2000-02-29")
    assert rules.age_on(born, D("2026-02-28")) == 25
    assert rules.age_on(born, D("2026-03-01")) == 26
    assert rules.age_on(born, D("2028-02-29")) == 28
    assert rules.age_on(D("1996-11-28"), D("2026-11-27")) == 29


def test_cap_and_next_review__boundaries():
    cap = rules.cap_on(START)
    assert cap == D("2030-03-01")
    assert rules.is_at_cap(today=cap + dt.timedelta(days=1), cap=cap)
    today = D("2027-06-01")
    tomorrow = today + dt.timedelta(days=1)
    assert rules.next_review_problem(next_review_on=tomorrow, today=today, cap=cap) is None
    assert (
        rules.next_review_problem(next_review_on=today - dt.timedelta(days=1), today=today, cap=cap)
        == "not_in_future"
    )


def test_add_months__end_of_month_and_backwards():
    assert rules.add_months(D("2025-01-31"), 1) == D("2025-02-28")
    assert rules.add_months(D("2025-03-31"), -1) == D("2025-02-28")
    assert rules.add_months(D("2025-03-01"), 0) == D("2025-03-01")


# --- the threshold as the services apply it -----------------------------------------------


def _open(org, *, since: dt.date):
    start = clock.today() - relativedelta(months=3)
    client = make_client(
        org, reunited_family=True, family_situation_stable=True, sponsor_in_finland_since=since
    )
    case = criteria_services.case_open(
        actor=org.caseworker,
        client=client,
        team=org.koto,
        responsible_worker=org.caseworker,
        integration_started_on=start,
    )
    return case, start


@pytest.mark.django_db
def test_case_open__sponsor_exactly_at_the_checklists_threshold__review_after_12_months(org):
    years = current_checklist().sponsor_long_residence_years
    start = clock.today() - relativedelta(months=3)
    case, start = _open(org, since=start - relativedelta(years=years))
    assert case.review_due_on == start + relativedelta(months=12)


@pytest.mark.django_db
def test_case_open__sponsor_a_day_short_of_the_threshold__review_after_24_months(org):
    years = current_checklist().sponsor_long_residence_years
    start = clock.today() - relativedelta(months=3)
    case, start = _open(org, since=start - relativedelta(years=years) + dt.timedelta(days=1))
    assert case.review_due_on == start + relativedelta(months=24)


@pytest.mark.django_db
def test_case_open__the_threshold_is_the_current_checklist_versions(org):
    current = current_checklist()
    raised = criteria_services.checklist_copy(template=current)
    ChecklistTemplate.objects.filter(pk=raised.pk).update(
        sponsor_long_residence_years=current.sponsor_long_residence_years + 2
    )
    criteria_services.checklist_publish(template=ChecklistTemplate.objects.get(pk=raised.pk))
    start = clock.today() - relativedelta(months=3)
    since = start - relativedelta(years=current.sponsor_long_residence_years)
    case, start = _open(org, since=since)
    assert case.review_due_on == start + relativedelta(months=24)


def test_add_months__past_either_end_of_the_calendar__stops_there():
    assert rules.add_months(D("0001-01-15"), -1) == dt.date.min
    assert rules.add_months(D("9999-12-15"), 1) == dt.date.max
    assert rules.add_months(D("9999-11-15"), 1) == D("9999-12-15")


def test_client_facts__a_fact_not_given_is_not_assumed():
    """Only a reunited family that is stable and whose sponsor has lived long in Finland
    is reviewed after a year: a fact left out counts as not so."""
    long_ago = D("2000-01-01")
    base = {"has_children": False, "family_reunification_pending": False}
    not_said_reunited = ClientFacts(
        **base, housing_situation="settled", family_situation_stable=True,
        sponsor_in_finland_since=long_ago,
    )  # fmt: skip
    not_said_stable = ClientFacts(
        **base, housing_situation="settled", reunited_family=True,
        sponsor_in_finland_since=long_ago,
    )  # fmt: skip
    for facts in (not_said_reunited, not_said_stable):
        assert rules.review_due_on(
            integration_started_on=START, client=facts, threshold_years=4
        ) == D("2027-03-01")
    assert ClientFacts(**base, housing_situation="settled").is_ppt is False


def test_client_facts__a_value_that_cannot_change_once_read():
    facts = reunited(D("2021-03-01"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.reunited_family = False  # type: ignore[misc]
