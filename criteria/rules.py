"""The readiness rules of DOMAIN.md (the date rules are in cases.rules) as pure functions.

No database, no clock: callers pass the facts and today's date, so every rule sentence is
tested on its own (tests/criteria/test_rules.py names the sentence it checks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

from cases.rules import ClientFacts

# Statuses, as stored in CriterionAssessment.status.
MET = "met"
NOT_MET = "not_met"
NOT_APPLICABLE = "not_applicable"
UNASSESSED = "unassessed"

# Blockers: facts about the client that stop a transfer whatever the checklist says.
BLOCKER_FAMILY_REUNIFICATION = "family_reunification_pending"
BLOCKER_HOMELESS = "homeless_or_crisis_accommodation"
# The criterion whose approved exception lifts the housing blocker ("as a rule").
HOUSING = "housing"
HOUSING_BLOCKING_SITUATIONS = frozenset({"homeless", "crisis_accommodation"})


@dataclass(frozen=True)
class CriterionFacts:
    """One criterion's definition (data) with its assessment in a review."""

    code: str
    status: str = UNASSESSED
    exception_allowed: bool = False
    exception_approved: bool = False
    has_multi_problem_marker: bool = False
    multi_problem: bool = False
    requires_children: bool = False
    has_plan: bool = False


@dataclass(frozen=True)
class Readiness:
    """`unmet`: every applicable criterion not yet satisfied, whether assessed as not met
    or not assessed yet; `unassessed`: those of them nobody has assessed yet (no answer, or
    marked not applicable to a client it now applies to). An exception is offered only for a
    criterion assessed as not met (or for the housing blocker), never for one not assessed."""

    ready: bool
    unmet: tuple[str, ...]
    blockers: tuple[str, ...]
    exceptions_possible: tuple[str, ...]
    missing_plans: tuple[str, ...]
    escorted: bool
    unassessed: tuple[str, ...] = ()

    @property
    def not_met(self) -> tuple[str, ...]:
        """The unmet criteria that were assessed as not met (not the ones still to assess)."""
        return tuple(code for code in self.unmet if code not in self.unassessed)


def is_applicable(criterion: CriterionFacts, client: ClientFacts) -> bool:
    """ "Children" is not applicable to a client without children."""
    return not (criterion.requires_children and not client.has_children)


def is_satisfied(criterion: CriterionFacts) -> bool:
    """Met, or not met with a supervisor's exception where the rule allows one."""
    if criterion.status == MET:
        return True
    return criterion.exception_allowed and criterion.exception_approved


def exception_approved_for(code: str, criteria: Sequence[CriterionFacts]) -> bool:
    return any(c.code == code and c.exception_allowed and c.exception_approved for c in criteria)


def blockers(client: ClientFacts, criteria: Sequence[CriterionFacts]) -> tuple[str, ...]:
    """Pending family reunification always blocks (no exception is possible);
    homelessness or crisis accommodation blocks "as a rule": unless a supervisor approved
    an exception on the housing criterion."""
    found = []
    if client.family_reunification_pending:
        found.append(BLOCKER_FAMILY_REUNIFICATION)
    if client.housing_situation in HOUSING_BLOCKING_SITUATIONS and not exception_approved_for(
        HOUSING, criteria
    ):
        found.append(BLOCKER_HOMELESS)
    return tuple(found)


def is_escorted(criteria: Sequence[CriterionFacts]) -> bool:
    """The multi-problem marker (e.g. cannot read or write) makes the transfer escorted."""
    return any(c.has_multi_problem_marker and c.multi_problem for c in criteria)


def readiness(client: ClientFacts, criteria: Sequence[CriterionFacts]) -> Readiness:
    """Ready if and only if every applicable criterion is met or has an approved exception,
    and no blocker holds."""
    applicable = [c for c in criteria if is_applicable(c, client)]
    unmet = tuple(c.code for c in applicable if not is_satisfied(c))
    unassessed = tuple(
        c.code for c in applicable if c.status not in (MET, NOT_MET) and not is_satisfied(c)
    )
    found_blockers = blockers(client, criteria)
    return Readiness(
        ready=not unmet and not found_blockers,
        unmet=unmet,
        blockers=found_blockers,
        exceptions_possible=tuple(
            c.code
            for c in applicable
            if c.exception_allowed
            and not c.exception_approved
            and c.code not in unassessed
            and (c.code in unmet or (c.code == HOUSING and BLOCKER_HOMELESS in found_blockers))
        ),
        missing_plans=tuple(
            c.code
            for c in applicable
            if c.status == NOT_MET and not c.has_plan and not is_satisfied(c)
        ),
        escorted=is_escorted(applicable),
        unassessed=unassessed,
    )


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from `start` to `end` (how long an integration period is extended to)."""
    delta = relativedelta(end, start)
    return int(delta.years * 12 + delta.months)
