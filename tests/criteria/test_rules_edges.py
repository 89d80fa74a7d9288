"""The readiness rules (criteria/rules.py) at their edges: an exception counts only on the
criterion it was approved for, only criteria that allow one are offered one, a status read
from the database is compared by value, and the facts are values that cannot change."""

from __future__ import annotations

import dataclasses

import pytest

from cases.rules import ClientFacts
from criteria import rules
from criteria.rules import CriterionFacts

CODES = ["housing", "authorities", "finances", "health", "family", "study_work", "children"]


def client(**overrides) -> ClientFacts:
    values = {"has_children": True, "family_reunification_pending": False}
    values["housing_situation"] = "settled"
    values.update(overrides)
    return ClientFacts(**values)


def checklist(**overrides: CriterionFacts) -> list[CriterionFacts]:
    """Every criterion met (housing allows an exception), except as overridden."""
    return [
        overrides.get(code)
        or CriterionFacts(code=code, status=rules.MET, exception_allowed=code == "housing")
        for code in CODES
    ]


@pytest.mark.parametrize("other", ["finances", "study_work"])  # before and after "housing"
def test_homeless__an_exception_on_another_criterion_does_not_lift_the_housing_rule(other):
    approved_elsewhere = CriterionFacts(
        code=other, status=rules.MET, exception_allowed=True, exception_approved=True
    )
    result = rules.readiness(
        client(housing_situation="homeless"), checklist(**{other: approved_elsewhere})
    )
    assert result.blockers == (rules.BLOCKER_HOMELESS,)
    assert not result.ready


@pytest.mark.parametrize("other", ["finances", "authorities", "study_work"])
def test_homeless__only_the_housing_criterion_is_offered_the_exception(other):
    allows_one = CriterionFacts(code=other, status=rules.MET, exception_allowed=True)
    result = rules.readiness(client(housing_situation="homeless"), checklist(**{other: allows_one}))
    assert result.exceptions_possible == ("housing",)


def test_unmet__an_exception_is_offered_only_where_the_rule_allows_one():
    result = rules.readiness(
        client(),
        checklist(
            finances=CriterionFacts(code="finances", status=rules.NOT_MET),
            health=CriterionFacts(code="health", status=rules.NOT_MET, exception_allowed=True),
        ),
    )
    assert result.unmet == ("finances", "health")
    assert result.exceptions_possible == ("health",)


def test_a_status_read_from_the_database__compared_by_value():
    # Built at run time, as a value read from the database is: equal, not the same object.
    not_met = "".join(["not_", "met"])
    met = "".join(["me", "t"])
    assert not_met == rules.NOT_MET and not_met is not rules.NOT_MET
    result = rules.readiness(
        client(),
        checklist(
            finances=CriterionFacts(code="finances", status=not_met),
            health=CriterionFacts(code="health", status=met),
        ),
    )
    assert result.missing_plans == ("finances",)
    assert result.unmet == ("finances",)


def test_facts__values_that_cannot_be_changed_once_read():
    facts = CriterionFacts(code="housing", status=rules.NOT_MET)
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.status = rules.MET  # type: ignore[misc]
    assert {facts: "one"}[CriterionFacts(code="housing", status=rules.NOT_MET)] == "one"
    result = rules.readiness(client(), checklist())
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.ready = False  # type: ignore[misc]


def test_a_criterion_applies_to_a_client_without_children_unless_it_is_about_children():
    result = rules.readiness(
        client(has_children=False),
        checklist(finances=CriterionFacts(code="finances", status=rules.NOT_MET)),
    )
    assert result.unmet == ("finances",)
    assert result.missing_plans == ("finances",)


def test_escorted__only_where_the_marker_exists_and_is_set():
    marker_not_set = CriterionFacts(
        code="authorities", status=rules.MET, has_multi_problem_marker=True
    )
    set_without_marker = CriterionFacts(code="authorities", status=rules.MET, multi_problem=True)
    for authorities in (marker_not_set, set_without_marker):
        assert not rules.readiness(client(), checklist(authorities=authorities)).escorted


def test_marked_not_applicable_but_applies_again__unmet_yet_no_plan_asked():
    """A client who had no children when the review started has one now: the children
    criterion marked not applicable applies again. It is unmet (assess it again), but it
    is not a "not met" criterion missing its plan."""
    children = CriterionFacts(code="children", status=rules.NOT_APPLICABLE, requires_children=True)
    result = rules.readiness(client(has_children=True), checklist(children=children))
    assert result.unmet == ("children",)
    assert result.missing_plans == ()


def test_codes_read_from_the_database__compared_by_value():
    housing = "".join(["hou", "sing"])  # built at run time, as a value read from the database
    assert housing == rules.HOUSING and housing is not rules.HOUSING
    # Met, yet the client is homeless: the housing rule blocks and its exception is offered.
    met = CriterionFacts(code=housing, status=rules.MET, exception_allowed=True)
    result = rules.readiness(client(housing_situation="homeless"), checklist(housing=met))
    assert result.unmet == ()
    assert result.exceptions_possible == (housing,)
    approved = dataclasses.replace(met, exception_approved=True)
    assert rules.readiness(client(housing_situation="homeless"), [approved]).blockers == ()
