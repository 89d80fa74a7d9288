"""Test data built through Silta's own services, so every object is in a state the real
workflow can reach. Purpose-named constructors: `case_in_state`, `transfer_in_state`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import factory
import time_machine
from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model

from cases import services as case_services
from cases.enums import CaseState, ClosureReason, Role, TeamKind
from cases.models import Case, Client, Membership, Region, Team
from core import clock, workdays
from criteria import services as criteria_services
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from transfers import services
from transfers.enums import TransferState
from transfers.models import Transfer

User = get_user_model()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Worker{n}")
    password = factory.django.Password("pw")


def member(team: Team, role: str, **kwargs) -> User:
    user = UserFactory(**kwargs)
    Membership.objects.create(user=user, team=team, role=role)
    return user


@dataclass
class Org:
    """Koto 2 (paired with Pohjoinen) sending to Pohjoinen's adult and youth teams."""

    koto: Team
    adult: Team
    youth: Team
    other_adult: Team
    caseworker: User
    koto_supervisor: User
    receiving_worker: User
    front_desk: User
    receiving_supervisor: User
    outsider: User


def make_org() -> Org:
    pohjoinen = Region.objects.get(code="pohjoinen")
    lansi = Region.objects.get(code="lansi")
    koto = Team.objects.create(
        code="koto2", name="Koto-tiimi 2", kind=TeamKind.IMMIGRATION_UNIT, region=pohjoinen
    )
    adult = Team.objects.create(
        code="pohjoinen-aiso", name="Pohjoinen AISO", kind=TeamKind.ADULT, region=pohjoinen
    )
    youth = Team.objects.create(
        code="pohjoinen-nuoret",
        name="Pohjoinen nuorten tiimi",
        kind=TeamKind.YOUTH,
        region=pohjoinen,
        max_client_age=30,
    )
    other_adult = Team.objects.create(
        code="lansi-aiso", name="Länsi AISO", kind=TeamKind.ADULT, region=lansi
    )
    return Org(
        koto=koto,
        adult=adult,
        youth=youth,
        other_adult=other_adult,
        caseworker=member(koto, Role.CASEWORKER),
        koto_supervisor=member(koto, Role.SUPERVISOR),
        receiving_worker=member(adult, Role.RECEIVING_WORKER),
        front_desk=member(adult, Role.FRONT_DESK),
        receiving_supervisor=member(adult, Role.SUPERVISOR),
        outsider=member(other_adult, Role.SUPERVISOR),
    )


def client_data(**overrides) -> dict:
    data = {
        "first_name": "Amina",
        "last_name": "Testinen",
        "date_of_birth": dt.date(1980, 5, 17),
        "language": "ara",
        "interpreter_needed": True,
        "street_address": "Malminkaari 1",
        "postal_code": "00700",
        "post_office": "Helsinki",
    }
    data.update(overrides)
    return data


def make_client(org: Org, **overrides) -> Client:
    return case_services.client_create(actor=org.caseworker, **client_data(**overrides))


def open_case(
    org: Org, *, client: Client | None = None, started_months_ago: int = 25, **client_overrides
) -> Case:
    client = client or make_client(org, **client_overrides)
    return criteria_services.case_open(
        actor=org.caseworker,
        client=client,
        team=org.koto,
        responsible_worker=org.caseworker,
        integration_started_on=clock.today() - relativedelta(months=started_months_ago),
    )


def assess_all_met(org: Org, case: Case) -> None:
    review = open_review_of(case)
    for assessment in review.assessments.select_related("criterion"):
        if assessment.status != AssessmentStatus.NOT_APPLICABLE:
            criteria_services.assessment_update(
                actor=org.caseworker, assessment=assessment, status=AssessmentStatus.MET
            )


def case_in_state(org: Org, state: str, **client_overrides) -> Case:
    """A case brought to `state` through the services, the way a worker would."""
    case = open_case(org, **client_overrides)
    if state == CaseState.ACTIVE:
        return case
    if state == CaseState.CLOSED:
        return services.case_close(actor=org.caseworker, case=case, reason=ClosureReason.MOVED_AWAY)
    case_services.case_mark_due(case=case)
    if state == CaseState.REVIEW_DUE:
        return reload(case)
    criteria_services.review_start(actor=org.caseworker, case=case)
    if state == CaseState.IN_REVIEW:
        return reload(case)
    assess_all_met(org, case)
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
    )
    if state == CaseState.TRANSFER_PENDING:
        return reload(case)
    assert state == CaseState.TRANSFERRED, state
    bring_transfer_to(org, transfer, TransferState.COMPLETED)
    return reload(case)


def bring_transfer_to(org: Org, transfer: Transfer, state: str) -> Transfer:
    path = {
        TransferState.PROPOSED: [],
        TransferState.INFORMATION_REQUESTED: ["ask"],
        TransferState.ACCEPTED: ["accept"],
        TransferState.RETURNED: ["return"],
        TransferState.BOOKING_REQUESTED: ["accept", "request"],
        TransferState.BOOKED: ["accept", "request", "confirm"],
        TransferState.COMPLETED: ["accept", "request", "confirm", "complete"],
        TransferState.CANCELLED: ["cancel"],
    }[state]
    for step in path:
        if step == "accept":
            services.transfer_accept(
                actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
            )
        elif step == "ask":
            services.transfer_request_information(
                actor=org.receiving_worker, transfer=transfer, text="Is the rent plan in place?"
            )
        elif step == "return":
            services.transfer_return(
                actor=org.receiving_worker,
                transfer=transfer,
                reason="missing_information",
                text="Housing unclear",
            )
        elif step == "request":
            services.transfer_request_booking(transfer=transfer)
        elif step == "confirm":
            confirm_started_handover(org, transfer)
        elif step == "complete":
            services.transfer_complete(actor=org.receiving_worker, transfer=transfer)
        elif step == "cancel":
            services.transfer_cancel(
                actor=org.caseworker, transfer=transfer, reason="Client moving abroad"
            )
    return reload(transfer)


def handover_slot(*, days: int = 7, at: dt.time = dt.time(10)) -> dt.datetime:
    """A usual handover time: 10.00 Helsinki time on the first working day `days` or more
    days ahead (inside the default meeting hours, 8.30-15.30)."""
    day = clock.today() + dt.timedelta(days=days)
    while not workdays.is_working_day(day):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, at, tzinfo=clock.tz())


def started_handover_slot() -> dt.datetime:
    """10.00 on the last working day before today: a handover whose time has come."""
    day = workdays.add_working_days(clock.today(), -1)
    return dt.datetime.combine(day, dt.time(10), tzinfo=clock.tz())


def confirm_started_handover(org: Org, transfer: Transfer, **kwargs) -> Transfer:
    """The front desk booked the handover a day before its time, and the time has come: it
    can be recorded as held or as a no-show (both are refused before the start)."""
    starts_at = started_handover_slot()
    with time_machine.travel(starts_at - dt.timedelta(days=1), tick=False):
        return services.transfer_confirm_booking(
            actor=org.front_desk,
            transfer=transfer,
            starts_at=starts_at,
            place=kwargs.pop("place", "Malmi FrontDesk"),
            interpreter=kwargs.pop("interpreter", "Interpreter booking 123"),
            **kwargs,
        )


def transfer_in_state(org: Org, state: str, **client_overrides) -> Transfer:
    case = case_in_state(org, CaseState.TRANSFER_PENDING, **client_overrides)
    return bring_transfer_to(org, case.transfers.get(), state)


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def as_user(user):
    """An API client signed in as `user`."""
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    return api
