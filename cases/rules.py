"""The date rules of DOMAIN.md as pure functions: when a case is reviewed (two years, or
one for a settled reunited family), the five-year cap, a client's age.

No database, no clock: callers pass the facts and today's date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

REVIEW_AFTER_MONTHS = 24
REUNITED_FAMILY_REVIEW_AFTER_MONTHS = 12
CAP_MONTHS = 60


@dataclass(frozen=True)
class ClientFacts:
    has_children: bool
    family_reunification_pending: bool
    housing_situation: str
    is_ppt: bool = False
    reunited_family: bool = False
    sponsor_in_finland_since: dt.date | None = None
    family_situation_stable: bool = False


def add_months(day: dt.date, months: int) -> dt.date:
    """`months` later (or earlier). Past the calendar's end (a date in year 9999 read from
    an old row) it stops at the calendar's last (or first) day instead of failing: a page
    that shows such a case's dates still renders."""
    try:
        later: dt.date = day + relativedelta(months=months)  # dateutil has no type hints
    except ValueError:  # year out of range
        return dt.date.max if months > 0 else dt.date.min
    return later


def age_on(born: dt.date, day: dt.date) -> int:
    """Age in whole years on a day (a person born on 29 February ages on 1 March: the
    birthday has not come while the month and day are still before it)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def sponsor_has_lived_long(client: ClientFacts, *, on: dt.date, threshold_years: int) -> bool:
    since = client.sponsor_in_finland_since
    return since is not None and relativedelta(on, since).years >= threshold_years


def review_due_on(
    *, integration_started_on: dt.date, client: ClientFacts, threshold_years: int
) -> dt.date:
    """Reviewed when the relationship has lasted 2 years; a reunited family whose sponsor
    has lived long in Finland and whose situation is stable, after one year."""
    if (
        client.reunited_family
        and client.family_situation_stable
        and sponsor_has_lived_long(
            client, on=integration_started_on, threshold_years=threshold_years
        )
    ):
        return add_months(integration_started_on, REUNITED_FAMILY_REVIEW_AFTER_MONTHS)
    return add_months(integration_started_on, REVIEW_AFTER_MONTHS)


def cap_on(integration_started_on: dt.date) -> dt.date:
    """The integration period can be extended up to 5 years in all."""
    return add_months(integration_started_on, CAP_MONTHS)


def is_at_cap(*, today: dt.date, cap: dt.date) -> bool:
    """No next review can be set any more: only a transfer or a closure remains."""
    return today >= cap


def next_review_problem(
    *, next_review_on: dt.date | None, today: dt.date, cap: dt.date
) -> str | None:
    """Not ready: a next review date is required and may not pass the 60-month cap.
    Returns the problem's code, or None."""
    if next_review_on is None:
        return "required"
    if next_review_on <= today:
        return "not_in_future"
    if next_review_on > cap:
        return "past_cap"
    return None


def plan_target_problem(*, target_on: dt.date | None, today: dt.date, cap: dt.date) -> str | None:
    """A plan's target date is optional; given, it lies in what is left of the integration
    period: not in the past, not past the 60-month cap. Returns the problem's code, or
    None."""
    if target_on is None:
        return None
    if target_on < today:
        return "in_past"
    if target_on > cap:
        return "past_cap"
    return None


def ppt_coordinator_missing(*, is_ppt: bool, coordinator: str) -> bool:
    """A PPT client's transfer cannot be proposed without a named coordinator."""
    return is_ppt and not coordinator.strip()
