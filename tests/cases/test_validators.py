"""Dates within sensible ranges: a date of birth (1900 to today), the start of the
integration period (2000 to today), the sponsor's arrival (1900 to today), a plan's target
date (today to the 5-year cap). Refused by the model's validators or the service with the
field named and the reason, in the user's language, and nothing written."""

import datetime as dt

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import translation

from cases import rules
from cases import services as case_services
from cases.enums import CaseState
from cases.models import Case, Client, Event
from cases.validators import (
    validate_birth_date,
    validate_integration_start,
    validate_sponsor_arrival,
)
from core import clock
from core.errors import InvalidInput
from criteria import services as criteria_services
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from tests.factories import case_in_state, make_client, open_case, reload

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 16)


@pytest.fixture
def frozen():
    with time_machine.travel(dt.datetime(2026, 3, 16, 12, 0, tzinfo=clock.tz()), tick=False):
        yield


# The validators, at their boundaries ----------------------------------------------------


@pytest.mark.parametrize(
    ("validator", "earliest"),
    [
        (validate_birth_date, dt.date(1900, 1, 1)),
        (validate_integration_start, dt.date(2000, 1, 1)),
        (validate_sponsor_arrival, dt.date(1900, 1, 1)),
    ],
)
def test_date_validators__accept_from_the_earliest_day_to_today(frozen, validator, earliest):
    validator(earliest)
    validator(TODAY)


@pytest.mark.parametrize(
    ("validator", "day", "code"),
    [
        (validate_birth_date, dt.date(1899, 12, 31), "too_early"),
        (validate_birth_date, dt.date(1, 1, 1), "too_early"),
        (validate_birth_date, TODAY + dt.timedelta(days=1), "in_future"),
        (validate_birth_date, dt.date(9999, 12, 31), "in_future"),
        (validate_integration_start, dt.date(1999, 12, 31), "too_early"),
        (validate_integration_start, TODAY + dt.timedelta(days=1), "in_future"),
        (validate_integration_start, dt.date(9999, 12, 31), "in_future"),
        (validate_sponsor_arrival, dt.date(1899, 12, 31), "too_early"),
        (validate_sponsor_arrival, TODAY + dt.timedelta(days=1), "in_future"),
    ],
)
def test_date_validators__refuse_outside_the_range_with_the_reason(frozen, validator, day, code):
    with pytest.raises(ValidationError) as raised:
        validator(day)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "A date of birth cannot be before 1900."),
        ("fi", "Syntymäaika ei voi olla ennen vuotta 1900."),
        ("sv", "Födelsedatumet kan inte vara före år 1900."),
    ],
)
def test_date_validators__say_the_reason_in_the_users_language(language, words):
    with translation.override(language):
        with pytest.raises(ValidationError) as raised:
            validate_birth_date(dt.date(1875, 8, 15))
        assert raised.value.messages == [words]  # the message is made when read


# Through the services: the field named, nothing written ---------------------------------


@pytest.mark.parametrize("born", [dt.date(1, 1, 1), dt.date(1899, 12, 31), dt.date(9999, 12, 31)])
def test_client_create__date_of_birth_out_of_range__refused_naming_the_field(org, born):
    clients, events = Client.objects.count(), Event.objects.count()
    with translation.override("en"), pytest.raises(InvalidInput) as raised:
        make_client(org, date_of_birth=born)
    assert list(raised.value.errors) == ["date_of_birth"]
    assert "date of birth" in raised.value.errors["date_of_birth"]
    assert (Client.objects.count(), Event.objects.count()) == (clients, events)


def test_client_create__identity_code_of_the_1800s__refused_by_the_date_of_birth(org):
    with pytest.raises(InvalidInput) as raised:
        make_client(org, personal_identity_code="150875+1112", date_of_birth=dt.date(1875, 8, 15))
    assert set(raised.value.errors) == {"date_of_birth"}


def test_client_update__sponsor_arrival_in_the_future__refused(org):
    client = make_client(org)
    with translation.override("en"), pytest.raises(InvalidInput) as raised:
        case_services.client_update(
            actor=org.caseworker,
            client=client,
            reunited_family=True,
            sponsor_in_finland_since=clock.today() + dt.timedelta(days=1),
        )
    assert raised.value.errors == {
        "sponsor_in_finland_since": "The sponsor's arrival in Finland cannot be in the future."
    }
    assert reload(client).sponsor_in_finland_since is None


@pytest.mark.parametrize(
    "started", [dt.date(9999, 12, 31), dt.date(1, 1, 1), dt.date(1999, 12, 31), None]
)
def test_case_open__integration_start_out_of_range__refused_before_any_date_arithmetic(
    org, started
):
    """Year 9999 overflowed the review date (24 months later) and answered 500."""
    client = make_client(org)
    started = started or clock.today() + dt.timedelta(days=1)
    cases, events = Case.objects.count(), Event.objects.count()
    with pytest.raises(InvalidInput) as raised:
        criteria_services.case_open(
            actor=org.caseworker,
            client=client,
            team=org.koto,
            responsible_worker=org.caseworker,
            integration_started_on=started,
        )
    assert list(raised.value.errors) == ["integration_started_on"]
    assert (Case.objects.count(), Event.objects.count()) == (cases, events)


def test_case_open__integration_started_today__opened(org):
    case = open_case(org, started_months_ago=0)
    assert case.integration_started_on == clock.today()


# The plan's target date: within what is left of the integration period -----------------


def _not_met(org, case, target):
    assessment = open_review_of(case).assessments.get(criterion__code="housing")
    return criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=assessment,
        status=AssessmentStatus.NOT_MET,
        plan_action="Find a rental flat",
        plan_target_on=target,
    )


def test_assessment__plan_target_from_today_to_the_cap__saved(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    assert _not_met(org, case, clock.today()).plan_target_on == clock.today()
    assert _not_met(org, case, case.cap_on).plan_target_on == case.cap_on


@pytest.mark.parametrize(
    ("target", "words"),
    [
        (lambda case: clock.today() - dt.timedelta(days=1), "cannot be in the past"),
        (lambda case: dt.date(1, 1, 1), "cannot be in the past"),
        (lambda case: case.cap_on + dt.timedelta(days=1), "5-year cap"),
        (lambda case: dt.date(9999, 12, 31), "5-year cap"),
    ],
)
def test_assessment__plan_target_outside_the_period__refused_naming_the_field(org, target, words):
    case = case_in_state(org, CaseState.IN_REVIEW)
    events = Event.objects.count()
    with translation.override("en"), pytest.raises(InvalidInput) as raised:
        _not_met(org, case, target(case))
    assert list(raised.value.errors) == ["plan_target_on"]
    assert words in raised.value.errors["plan_target_on"]
    assert Event.objects.count() == events
    assessment = open_review_of(case).assessments.get(criterion__code="housing")
    assert assessment.status == AssessmentStatus.UNASSESSED


def test_assessment__a_target_date_that_has_passed_is_kept_when_saved_unchanged(org):
    """A plan carried over from an earlier review keeps its date; only a new date is judged."""
    case = case_in_state(org, CaseState.IN_REVIEW)
    with time_machine.travel(clock.now() - relativedelta(months=2), tick=False):
        target = clock.today() + dt.timedelta(days=10)
        _not_met(org, case, target)
    assert _not_met(org, case, target).plan_target_on == target


# The date rules themselves --------------------------------------------------------------


def test_add_months__past_the_calendars_end__stops_at_its_last_day():
    assert rules.add_months(dt.date(9999, 6, 1), 60) == dt.date.max
    assert rules.add_months(dt.date(1, 6, 1), -12) == dt.date.min
    assert rules.add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)


def test_cap_on__of_a_start_in_year_9999__does_not_fail():
    assert rules.cap_on(dt.date(9999, 12, 31)) == dt.date.max


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        (None, None),
        (TODAY, None),
        (dt.date(2028, 1, 1), None),
        (TODAY - dt.timedelta(days=1), "in_past"),
        (dt.date(2028, 1, 2), "past_cap"),
    ],
)
def test_plan_target_problem__today_to_the_cap(target, problem):
    assert rules.plan_target_problem(target_on=target, today=TODAY, cap=dt.date(2028, 1, 1)) == (
        problem
    )
