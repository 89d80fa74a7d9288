"""Role by endpoint: what each role may do answers, the rest 403 (in scope, wrong role) or
404 (out of scope), with no data and no change. A user of another team tries every
id-bearing endpoint on this team's objects and receives nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine

from cases.enums import CaseState, Role, TeamKind
from cases.models import Case, Region, Team
from core import clock
from criteria import services as criteria_services
from criteria.selectors import open_review_of
from tests.factories import (
    as_user,
    case_in_state,
    handover_slot,
    make_org,
    member,
    open_case,
    transfer_in_state,
)
from tests.snapshot import snapshot
from transfers.enums import TransferState
from transfers.reminders import due_sweep

pytestmark = pytest.mark.django_db

CW, KS, RW, FD, RS, OUT, OC = (
    "caseworker",
    "koto_supervisor",
    "receiving_worker",
    "front_desk",
    "receiving_supervisor",
    "outsider",  # a supervisor of another regional team
    "other_caseworker",  # a caseworker of another Immigration Unit team
)
ROLES = (CW, KS, RW, FD, RS, OUT, OC)
SENDER = {CW, KS}
RECEIVER = {RW, FD, RS}


@pytest.fixture
def org(db):
    org = make_org()
    other_unit = Team.objects.create(
        code="koto1",
        name="Koto-tiimi 1",
        kind=TeamKind.IMMIGRATION_UNIT,
        region=Region.objects.get(code="lansi"),
    )
    org.other_caseworker = member(other_unit, Role.CASEWORKER)
    return org


def user_of(org, role):
    return getattr(org, role)


@dataclass(frozen=True)
class Objects:
    client: int
    case: int
    transfer: int | None = None
    review: int | None = None
    assessment: int | None = None


def in_case_state(state, **client):
    def build(org):
        case = case_in_state(org, state, **client)
        review = open_review_of(case)
        return Objects(
            client=case.client_id,
            case=case.pk,
            review=review.pk if review else None,
            assessment=review.assessments.order_by("criterion__order").first().pk
            if review
            else None,
        )

    return build


def in_transfer_state(state):
    def build(org):
        transfer = transfer_in_state(org, state)
        return Objects(client=transfer.case.client_id, case=transfer.case_id, transfer=transfer.pk)

    return build


def all_met_review(org):
    objects = in_case_state(CaseState.IN_REVIEW)(org)
    from criteria.models import CriterionAssessment

    for assessment in CriterionAssessment.objects.filter(review=objects.review).exclude(
        status="not_applicable"
    ):
        criteria_services.assessment_update(
            actor=org.caseworker, assessment=assessment, status="met"
        )
    return objects


def housing_not_met(org):
    """A review whose first criterion (housing, an exception is possible) is not met."""
    objects = in_case_state(CaseState.IN_REVIEW)(org)
    from criteria.models import CriterionAssessment

    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=CriterionAssessment.objects.get(pk=objects.assessment),
        status="not_met",
        plan_action="Apply for a rental flat",
    )
    return objects


def exception_requested(org):
    """... and the caseworker has asked for an exception."""
    objects = housing_not_met(org)
    from criteria.models import CriterionAssessment

    criteria_services.assessment_request_exception(
        actor=org.caseworker,
        assessment=CriterionAssessment.objects.get(pk=objects.assessment),
        justification="A flat is promised for next month.",
    )
    return objects


def reassignable(org):
    """An open case and a second caseworker of the team to take it over."""
    org.new_caseworker = member(org.koto, Role.CASEWORKER)
    return in_case_state(CaseState.ACTIVE)(org)


def later(days):
    return handover_slot(days=days).isoformat()


def without_access_log(rows):
    return {label: table for label, table in rows.items() if label != "audit.AccessLog"}


# (name, build, method, path, body, roles allowed, roles that see the object)
ACTIONS = [
    (
        "assess",
        in_case_state(CaseState.IN_REVIEW),
        "post",
        "/api/v1/assessments/{assessment}/assess/",
        {"status": "met"},
        SENDER,
        SENDER,
    ),
    (
        "approve_exception",
        in_case_state(CaseState.IN_REVIEW),
        "post",
        "/api/v1/assessments/{assessment}/approve-exception/",
        {"justification": "Housing secured by the city for two years."},
        {KS},
        SENDER,
    ),
    (
        "request_exception",
        housing_not_met,
        "post",
        "/api/v1/assessments/{assessment}/request-exception/",
        {"justification": "A flat is promised for next month."},
        SENDER,
        SENDER,
    ),
    (
        "refuse_exception",
        exception_requested,
        "post",
        "/api/v1/assessments/{assessment}/refuse-exception/",
        {"reason": "The flat is not signed yet."},
        {KS},
        SENDER,
    ),
    (
        "propose_transfer",
        all_met_review,
        "post",
        "/api/v1/reviews/{review}/propose-transfer/",
        {"consent_basis": "consent"},
        SENDER,
        SENDER,
    ),
    (
        "close",
        in_case_state(CaseState.ACTIVE),
        "post",
        "/api/v1/cases/{case}/close/",
        {"reason": "moved_away"},
        SENDER,
        SENDER,
    ),
    (
        "home_base",
        in_case_state(CaseState.ACTIVE),
        "post",
        "/api/v1/cases/{case}/home-base/",
        {"reason": "No partner near the new address serves the language."},
        SENDER,
        SENDER,
    ),
    (
        "refer",
        lambda org: with_partner(org, in_case_state(CaseState.ACTIVE)(org)),
        "post",
        "/api/v1/cases/{case}/referrals/",
        {
            "organisation": "__partner__",
            "purpose": "Language club",
            "shared_fields": ["language"],
            "consent": True,
        },
        SENDER,
        SENDER,
    ),
    (
        "set_coordinator",
        in_case_state(CaseState.ACTIVE),
        "patch",
        "/api/v1/cases/{case}/",
        {"ppt_coordinator": "Maija Koordinaattori"},
        SENDER,
        SENDER,
    ),
    (
        "client_update",
        in_case_state(CaseState.ACTIVE),
        "patch",
        "/api/v1/clients/{client}/",
        {"interpreter_needed": False},
        SENDER,
        SENDER,
    ),
    (
        "reassign",
        reassignable,
        "post",
        "/api/v1/supervisor/reassign/",
        {"team": "koto2", "from_worker": "__caseworker__", "to_worker": "__new_caseworker__"},
        {KS},
        set(ROLES),  # no object in the URL: every other role is refused (403)
    ),
    (
        "accept",
        in_transfer_state(TransferState.PROPOSED),
        "post",
        "/api/v1/transfers/{transfer}/accept/",
        {"receiving_worker": "__receiving_worker__"},
        {RW, RS},
        SENDER | RECEIVER,
    ),
    (
        "request_information",
        in_transfer_state(TransferState.PROPOSED),
        "post",
        "/api/v1/transfers/{transfer}/request-information/",
        {"text": "Is the rent plan in place?"},
        {RW, RS},
        SENDER | RECEIVER,
    ),
    (
        "answer_information",
        in_transfer_state(TransferState.INFORMATION_REQUESTED),
        "post",
        "/api/v1/transfers/{transfer}/answer-information/",
        {"text": "Yes, since May."},
        SENDER,
        SENDER | RECEIVER,
    ),
    (
        "return",
        in_transfer_state(TransferState.PROPOSED),
        "post",
        "/api/v1/transfers/{transfer}/return/",
        {"reason": "missing_information", "text": "Housing unclear"},
        {RW, RS},
        SENDER | RECEIVER,
    ),
    (
        "cancel",
        in_transfer_state(TransferState.PROPOSED),
        "post",
        "/api/v1/transfers/{transfer}/cancel/",
        {"reason": "Client moves abroad"},
        SENDER,
        SENDER | RECEIVER,
    ),
    (
        "confirm_booking",
        in_transfer_state(TransferState.BOOKING_REQUESTED),
        "post",
        "/api/v1/transfers/{transfer}/confirm-booking/",
        {"starts_at": "__later__", "place": "Malmi", "interpreter": "Tulkki 1"},
        RECEIVER,
        SENDER | RECEIVER,
    ),
    (
        "rebook",
        in_transfer_state(TransferState.BOOKED),
        "post",
        "/api/v1/transfers/{transfer}/rebook/",
        {"outcome": "no_show"},
        RECEIVER,
        SENDER | RECEIVER,
    ),
    (
        "complete",
        in_transfer_state(TransferState.BOOKED),
        "post",
        "/api/v1/transfers/{transfer}/complete/",
        {},
        RECEIVER,
        SENDER | RECEIVER,
    ),
    (
        # The escorting sending worker, and only they, confirms the booked time.
        "confirm_attendance",
        lambda org: escorted_and_booked(org),
        "post",
        "/api/v1/transfers/{transfer}/confirm-attendance/",
        {},
        {CW},
        SENDER | RECEIVER,
    ),
]


def with_partner(org, objects):
    """... and a partner organisation of the handbook to refer the client to."""
    from tests.partners.test_directory import partner

    org.partner = partner(
        "Asukastalo Kulmakivi", district="Koillinen", languages="ara", email="k@example.org"
    )
    return objects


def escorted_and_booked(org):
    from tests.factories import bring_transfer_to
    from transfers import services

    objects = all_met_review(org)
    review = open_review_of(Case.objects.get(pk=objects.case))
    marked = review.assessments.filter(criterion__has_multi_problem_marker=True).first()
    criteria_services.assessment_update(
        actor=org.caseworker, assessment=marked, status="met", multi_problem=True
    )
    transfer = services.transfer_propose(
        consent_basis="consent",
        actor=org.caseworker,
        review=review,
        sender_availability="Aamupäivisin",
    )
    assert transfer.escorted
    # Booked ahead: attendance is confirmed before the meeting begins.
    transfer = bring_transfer_to(org, transfer, TransferState.BOOKING_REQUESTED)
    transfer = services.transfer_confirm_booking(
        actor=org.front_desk,
        transfer=transfer,
        starts_at=handover_slot(days=4),
        place="Malmi FrontDesk",
        interpreter="TIMMI 9",
    )
    return Objects(client=transfer.case.client_id, case=transfer.case_id, transfer=transfer.pk)


def filled(org, value):
    """A body value: "__later__" is a time in three days, "__user__" the org's user's name."""
    if value == "__later__":
        return later(3)
    if value == "__partner__":
        return org.partner.pk
    if isinstance(value, str) and value.startswith("__"):
        return getattr(org, value.strip("_")).username
    return value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "build", "method", "path", "body", "allowed", "sees"),
    ACTIONS,
    ids=[action[0] for action in ACTIONS],
)
def test_action_matrix(org, role, name, build, method, path, body, allowed, sees):
    objects = build(org)
    body = {key: filled(org, value) for key, value in body.items()}
    before = without_access_log(snapshot())
    response = getattr(as_user(user_of(org, role)), method)(
        path.format(**objects.__dict__), body, format="json"
    )
    if role in allowed:
        assert response.status_code in (200, 201), response.json()
        return
    expected = 403 if role in sees else 404
    assert response.status_code == expected, (name, role, response.json())
    # Refused: nothing changed but the access log's denied row.
    assert without_access_log(snapshot()) == before


def read_paths():
    return {
        "client": "/api/v1/clients/{client}/",
        "case": "/api/v1/cases/{case}/",
        "history": "/api/v1/cases/{case}/history/",
        "referrals": "/api/v1/cases/{case}/referrals/",
        "transfer": "/api/v1/transfers/{transfer}/",
        "review": "/api/v1/reviews/{review}/",
        "assessment": "/api/v1/assessments/{assessment}/",
        "access_log": "/api/v1/clients/{client}/access-log/",
    }


@pytest.fixture
def accepted(org):
    """A transfer accepted by the receiving team (who then sees the case and client)."""
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED, last_name="Secretname")
    review = transfer.review
    return Objects(
        client=transfer.case.client_id,
        case=transfer.case_id,
        transfer=transfer.pk,
        review=review.pk,
        assessment=review.assessments.first().pk,
    )


READS = {
    # name: {role: status}
    "client": {CW: 200, KS: 200, RW: 200, FD: 200, RS: 200, OUT: 404, OC: 404},
    "case": {CW: 200, KS: 200, RW: 200, FD: 200, RS: 200, OUT: 404, OC: 404},
    "history": {CW: 200, KS: 200, RW: 200, FD: 200, RS: 200, OUT: 404, OC: 404},
    "referrals": {CW: 200, KS: 200, RW: 200, FD: 200, RS: 200, OUT: 404, OC: 404},
    "transfer": {CW: 200, KS: 200, RW: 200, FD: 200, RS: 200, OUT: 404, OC: 404},
    "review": {CW: 200, KS: 200, RW: 200, FD: 200, RS: 200, OUT: 404, OC: 404},
    "assessment": {CW: 200, KS: 200, RW: 200, FD: 200, RS: 200, OUT: 404, OC: 404},
    "access_log": {CW: 403, KS: 200, RW: 403, FD: 403, RS: 200, OUT: 404, OC: 404},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(READS))
def test_read_matrix(org, accepted, role, name):
    response = as_user(user_of(org, role)).get(read_paths()[name].format(**accepted.__dict__))
    assert response.status_code == READS[name][role], response.json()
    if response.status_code != 200:
        assert b"Secretname" not in response.content
        assert b"SILTA-" not in response.content


# After the handover is held: the receiving side owns the case; the sending side reads it
# for SILTA_SENDING_TEAM_READ_DAYS (30), then gets 404 like any team outside the scope.
AFTER_HANDOVER = {
    # (days after the handover): {role: status}
    1: {CW: 200, KS: 200, RW: 200, FD: 200, RS: 200, OUT: 404, OC: 404},
    31: {CW: 404, KS: 404, RW: 200, FD: 200, RS: 200, OUT: 404, OC: 404},
}


@pytest.mark.parametrize("days", list(AFTER_HANDOVER))
@pytest.mark.parametrize("role", ROLES)
def test_read_matrix__after_the_handover(org, role, days):
    transfer = transfer_in_state(org, TransferState.COMPLETED, last_name="Secretname")
    held = Case.objects.get(pk=transfer.case_id).transferred_at
    review = transfer.review
    objects = Objects(
        client=transfer.case.client_id,
        case=transfer.case_id,
        transfer=transfer.pk,
        review=review.pk,
        assessment=review.assessments.first().pk,
    )
    with time_machine.travel(held + dt.timedelta(days=days), tick=False):
        for name in ("client", "case", "history", "referrals", "transfer", "review", "assessment"):
            response = as_user(user_of(org, role)).get(
                read_paths()[name].format(**objects.__dict__)
            )
            assert response.status_code == AFTER_HANDOVER[days][role], (name, role)
            if response.status_code == 200 and name == "case":
                assert response.json()["owner_team"] == "pohjoinen-aiso"
            if response.status_code != 200:
                assert b"Secretname" not in response.content


SUPERVISOR_ONLY = [
    "overdue-reviews",
    "stalled-transfers",
    "figures",
    "exceptions-waiting",
    "cases-at-cap",
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", SUPERVISOR_ONLY)
def test_supervisor_views_matrix(org, role, view):
    response = as_user(user_of(org, role)).get(f"/api/v1/supervisor/{view}/")
    assert response.status_code == (200 if role in (KS, RS, OUT) else 403)


LISTS = ["clients", "cases", "transfers", "reviews", "assessments", "booking-queue"]


@pytest.mark.parametrize("role", [OUT, OC])
@pytest.mark.parametrize("path", LISTS)
def test_other_team__lists_are_empty(org, accepted, role, path):
    response = as_user(user_of(org, role)).get(f"/api/v1/{path}/")
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("role", [OUT, OC])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases/?team__code=koto2",
        "/api/v1/transfers/?receiving_team__code=pohjoinen-aiso",
        "/api/v1/reviews/?case={case}",
        "/api/v1/assessments/?review={review}",
        "/api/v1/clients/?postal_code=00700",
    ],
)
def test_other_team__filters_find_nothing(org, accepted, role, path):
    response = as_user(user_of(org, role)).get(path.format(**accepted.__dict__))
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_anonymous__every_endpoint_but_health_and_schema_refused(client, accepted):
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/api/v1/schema/").status_code == 200
    for path in [
        *(p.format(**accepted.__dict__) for p in read_paths().values()),
        "/api/v1/clients/",
        "/api/v1/supervisor/figures/",
        "/api/v1/booking-queue/",
        "/api/v1/notifications/",
    ]:
        assert client.get(path).status_code == 401, path


@pytest.mark.parametrize("lookup", ["³", "١٢", "99999999999999999999", "abc"])
def test_odd_ids__404_not_500(org, lookup):
    """Unicode digits passed str.isdigit() and reached the database (found by schemathesis)."""
    api = as_user(org.caseworker)
    for path in ["cases", "clients", "transfers", "reviews", "assessments"]:
        assert api.get(f"/api/v1/{path}/{lookup}/").status_code == 404
    assert api.post(f"/api/v1/reviews/{lookup}/propose-transfer/", {}).status_code == 404


def waiting_for_an_exception(org):
    """A review whose first criterion (housing, an exception allowed) is not met."""
    review = open_review_of(case_in_state(org, CaseState.IN_REVIEW))
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=review.assessments.order_by("criterion__order").first(),
        status="not_met",
        plan_action="Find a flat",
    )


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (CW, "/api/v1/transfers/"),
        (RW, "/api/v1/transfers/"),
        (CW, "/api/v1/reviews/"),
        (CW, "/api/v1/assessments/"),
        (FD, "/api/v1/booking-queue/"),
        (KS, "/api/v1/supervisor/stalled-transfers/?all=1"),
        (KS, "/api/v1/supervisor/overdue-reviews/"),
        (KS, "/api/v1/supervisor/exceptions-waiting/"),
        (KS, "/api/v1/supervisor/cases-at-cap/"),
        (CW, "/api/v1/notifications/"),
        (KS, "/api/v1/clients/1/access-log/"),
    ],
)
def test_every_list__query_count_fixed_for_page_size_1_and_50(
    org, role, path, django_assert_max_num_queries
):
    """Rows enough for more than one page of 1 in every list, so an N+1 would show."""
    transfers = [transfer_in_state(org, TransferState.BOOKING_REQUESTED) for _ in range(6)]
    transfers += [transfer_in_state(org, TransferState.PROPOSED) for _ in range(6)]
    for _ in range(3):
        open_case(org)
    for _ in range(2):
        open_case(org, started_months_ago=61)  # at the cap
        waiting_for_an_exception(org)
    due_sweep()  # three review-due cases, and their notices in the caseworker's inbox
    path = path.replace("/clients/1/", f"/clients/{transfers[0].case.client_id}/")
    api = as_user(user_of(org, role))
    joiner = "&" if "?" in path else "?"
    with time_machine.travel(clock.now() + dt.timedelta(days=40)):
        with django_assert_max_num_queries(20) as one:
            first = api.get(f"{path}{joiner}page_size=1")
        with django_assert_max_num_queries(20) as fifty:
            response = api.get(f"{path}{joiner}page_size=50")
    assert first.status_code == response.status_code == 200
    assert len(response.json()["results"]) > 1, path
    assert len(fifty.captured_queries) == len(one.captured_queries), path
