"""One test per rule sentence of DOMAIN.md; each docstring quotes its sentence."""

import datetime as dt

from cases import rules as date_rules
from cases.rules import ClientFacts
from criteria import rules
from criteria.rules import CriterionFacts

CODES = ["housing", "authorities", "finances", "health", "family", "study_work", "children"]


def client(**overrides) -> ClientFacts:
    values = {
        "has_children": True,
        "family_reunification_pending": False,
        "housing_situation": "settled",
    }
    values.update(overrides)
    return ClientFacts(**values)


def checklist(**statuses) -> list[CriterionFacts]:
    """All seven criteria met, except as overridden: code=status or code=CriterionFacts."""
    items = []
    for code in CODES:
        value = statuses.get(code, rules.MET)
        if isinstance(value, CriterionFacts):
            items.append(value)
            continue
        items.append(
            CriterionFacts(
                code=code,
                status=value,
                exception_allowed=code == "housing",
                has_multi_problem_marker=code == "authorities",
                requires_children=code == "children",
            )
        )
    return items


def test_rule__all_criteria_met__ready():
    """ "If they [the criteria] are met, the client is transferred to the region.\""""
    result = rules.readiness(client(), checklist())
    assert result.ready
    assert result.unmet == () and result.blockers == ()


def test_rule__a_criterion_not_met__not_ready_and_named():
    """ "If not, the missing parts are worked on and reviewed again.\""""
    result = rules.readiness(client(), checklist(finances=rules.NOT_MET, health=rules.UNASSESSED))
    assert not result.ready
    assert result.unmet == ("finances", "health")
    assert result.missing_plans == ("finances",)


def test_rule__not_met_with_a_plan__no_missing_plan():
    """ "...the missing parts are worked on" - a plan for what is missing."""
    finances = CriterionFacts(code="finances", status=rules.NOT_MET, has_plan=True)
    assert rules.readiness(client(), checklist(finances=finances)).missing_plans == ()


def test_rule__review_after_two_years():
    """ "When the client relationship in the Immigration Unit has lasted 2 years, the
    client's situation is reviewed against the criteria.\""""
    due = date_rules.review_due_on(
        integration_started_on=dt.date(2024, 2, 29), client=client(), threshold_years=4
    )
    assert due == dt.date(2026, 2, 28)


def test_rule__integration_period_up_to_five_years():
    """ "The integration period can be extended when needed, up to 5 years in all.\""""
    assert date_rules.cap_on(dt.date(2021, 11, 28)) == dt.date(2026, 11, 28)
    cap = dt.date(2026, 11, 28)
    today = dt.date(2026, 6, 1)
    assert date_rules.next_review_problem(next_review_on=cap, today=today, cap=cap) is None
    assert (
        date_rules.next_review_problem(
            next_review_on=cap + dt.timedelta(days=1), today=today, cap=cap
        )
        == "past_cap"
    )


def test_rule__not_ready_needs_a_next_review_date_in_the_future():
    """Issue: "Not ready: a next review date is required\""""
    cap = dt.date(2028, 1, 1)
    today = dt.date(2026, 6, 1)
    assert date_rules.next_review_problem(next_review_on=None, today=today, cap=cap) == "required"
    assert (
        date_rules.next_review_problem(next_review_on=today, today=today, cap=cap)
        == "not_in_future"
    )


def test_rule__at_the_cap_no_next_review_remains():
    """Issue: "at the cap the only outcomes are a transfer or a closure\""""
    cap = dt.date(2026, 11, 28)
    assert date_rules.is_at_cap(today=cap, cap=cap)
    assert not date_rules.is_at_cap(today=cap - dt.timedelta(days=1), cap=cap)


def test_rule__homeless_or_crisis_accommodation__blocks_as_a_rule():
    """housing: "As a rule not transferred while homeless or in crisis accommodation.\""""
    for situation in ("homeless", "crisis_accommodation"):
        result = rules.readiness(client(housing_situation=situation), checklist())
        assert not result.ready
        assert result.blockers == (rules.BLOCKER_HOMELESS,)
        assert result.exceptions_possible == ("housing",)
    assert rules.readiness(client(housing_situation="temporary"), checklist()).ready


def test_rule__supervisor_exception_lifts_the_housing_rule():
    """ ""As a rule" matters: a supervisor can approve an exception with a written
    justification.\""""
    housing = CriterionFacts(
        code="housing", status=rules.NOT_MET, exception_allowed=True, exception_approved=True
    )
    result = rules.readiness(client(housing_situation="homeless"), checklist(housing=housing))
    assert result.ready
    assert result.blockers == ()


def test_rule__exception_counts_only_where_the_rule_allows_one():
    """Only "as a rule" criteria take an exception (data: exception_allowed)."""
    finances = CriterionFacts(
        code="finances", status=rules.NOT_MET, exception_allowed=False, exception_approved=True
    )
    assert not rules.readiness(client(), checklist(finances=finances)).ready


def test_rule__multi_problem_marker_makes_transfer_escorted():
    """authorities: "If the client has multiple problems, e.g. cannot read or write, the
    transfer is escorted.\""""
    authorities = CriterionFacts(
        code="authorities", status=rules.MET, has_multi_problem_marker=True, multi_problem=True
    )
    assert rules.readiness(client(), checklist(authorities=authorities)).escorted
    assert not rules.readiness(client(), checklist()).escorted


def test_rule__family_reunification_pending__stays_in_unit_without_exception():
    """family: "The client stays in the Immigration Unit while a refugee's family
    reunification is pending.\""""
    family = CriterionFacts(
        code="family", status=rules.NOT_MET, exception_allowed=False, exception_approved=True
    )
    result = rules.readiness(client(family_reunification_pending=True), checklist(family=family))
    assert not result.ready
    assert rules.BLOCKER_FAMILY_REUNIFICATION in result.blockers
    # Even with every criterion met, the blocker holds.
    assert not rules.readiness(client(family_reunification_pending=True), checklist()).ready


def test_rule__reunited_family_with_long_resident_sponsor__after_one_year():
    """family: "If the family member who brought the family has been in Finland long and
    the family's situation is stable, the reunited family can be transferred after one
    year.\""""
    start = dt.date(2025, 3, 1)
    long_resident = client(
        reunited_family=True,
        family_situation_stable=True,
        sponsor_in_finland_since=dt.date(2019, 1, 1),
    )
    assert date_rules.review_due_on(
        integration_started_on=start, client=long_resident, threshold_years=4
    ) == dt.date(2026, 3, 1)
    # Not stable, or sponsor not long enough, or threshold raised: two years.
    for facts, threshold in [
        (
            client(
                reunited_family=True,
                family_situation_stable=False,
                sponsor_in_finland_since=dt.date(2019, 1, 1),
            ),
            4,
        ),
        (
            client(
                reunited_family=True,
                family_situation_stable=True,
                sponsor_in_finland_since=dt.date(2023, 1, 1),
            ),
            4,
        ),
        (long_resident, 7),
    ]:
        assert date_rules.review_due_on(
            integration_started_on=start, client=facts, threshold_years=threshold
        ) == dt.date(2027, 3, 1)


def test_rule__children_not_applicable_without_children():
    """children: "Not applicable without children.\""""
    children_unmet = CriterionFacts(
        code="children", status=rules.UNASSESSED, requires_children=True
    )
    assert rules.readiness(client(has_children=False), checklist(children=children_unmet)).ready
    assert not rules.readiness(client(has_children=True), checklist(children=children_unmet)).ready


def test_rule__ppt_transfer_needs_a_named_coordinator():
    """PPT: "A PPT transfer cannot be sent without a named coordinator.\""""
    assert date_rules.ppt_coordinator_missing(is_ppt=True, coordinator="  ")
    assert not date_rules.ppt_coordinator_missing(is_ppt=True, coordinator="Malmi health centre")
    assert not date_rules.ppt_coordinator_missing(is_ppt=False, coordinator="")


def test_rule__age_in_whole_years():
    """Routing: "by age (under 30: youth team; otherwise adult team)\""""
    assert date_rules.age_on(dt.date(1996, 11, 29), dt.date(2026, 11, 28)) == 29
    assert date_rules.age_on(dt.date(1996, 11, 28), dt.date(2026, 11, 28)) == 30
