"""A notice for every hand-off, to the person who acts next: exactly one per intended
recipient per channel, none to anyone else, none when the change rolls back, and in every
language nothing but a headline, a case reference and a link."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction

from cases import services as case_services
from cases.enums import CaseState, Role
from cases.models import BookingHours, Client
from criteria import services as criteria_services
from criteria.selectors import open_review_of
from notifications.channels import render
from notifications.models import (
    Channel,
    Notification,
    NotificationKind,
    NotificationPreference,
    OutboxMessage,
    TeamChannel,
)
from notifications.services import relay_one
from tests.factories import (
    assess_all_met,
    case_in_state,
    member,
    open_case,
    reload,
    transfer_in_state,
)
from transfers import services
from transfers.enums import BookingStatus, TransferState

pytestmark = pytest.mark.django_db

HELSINKI = ZoneInfo("Europe/Helsinki")
# A Monday in an ordinary week: every action of the tests happens on working days.
MONDAY_MORNING = dt.datetime(2026, 11, 23, 10, 0, tzinfo=HELSINKI)
# The factories book the handover a week ahead (Monday 30 Nov, 10.00); it is held after.
CANARY_NAME = "CANARY-NAME"
CANARY_CODE = "010190-246L"
FREE_TEXT = "Lives with CANARY-NAME's cousin"


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(MONDAY_MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people(org):
    """Everyone may be told by e-mail; the adult team has a Teams channel, a second active
    receiving worker and one who has left (never told)."""
    org.second_receiver = member(org.adult, Role.RECEIVING_WORKER)
    org.left_receiver = member(org.adult, Role.RECEIVING_WORKER, is_active=False)
    org.second_caseworker = member(org.koto, Role.CASEWORKER)
    users = [
        org.caseworker,
        org.second_caseworker,
        org.koto_supervisor,
        org.receiving_worker,
        org.second_receiver,
        org.left_receiver,
        org.front_desk,
        org.receiving_supervisor,
        org.outsider,
    ]
    for user in users:
        user.email = f"{user.username}@example.invalid"
        user.save(update_fields=["email"])
        NotificationPreference.objects.create(user=user, email=True)
    TeamChannel.objects.create(team=org.adult, teams_webhook_url="https://teams.invalid/hook")
    TeamChannel.objects.create(team=org.koto, teams_webhook_url="https://teams.invalid/koto")
    return org


def _canary(case) -> None:
    Client.objects.filter(pk=case.client_id).update(
        first_name=CANARY_NAME, last_name=CANARY_NAME, personal_identity_code=CANARY_CODE
    )


def _relay_booking_rows() -> None:
    """The worker's delivery of booking rows (opening the request, sending it to the desk)."""
    while True:
        due = OutboxMessage.objects.filter(channel="booking", status="pending").order_by("id")
        ids = list(due.values_list("id", flat=True))
        if not ids:
            return
        for message_id in ids:
            relay_one(message_id)


@dataclass
class Scenario:
    kind: str
    given: Any  # org -> state
    when: Any  # (org, state) -> None
    recipients: Any  # org -> the users told
    teams: tuple[str, ...] = ()  # the team channels told (team codes)


def _proposed(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    assess_all_met(org, case)
    _canary(case)
    return open_review_of(case)


def _transfer(state):
    def given(org):
        transfer = transfer_in_state(org, state)
        _canary(transfer.case)
        return transfer

    return given


def _accept(org, transfer):
    services.transfer_accept(
        actor=org.second_receiver, transfer=transfer, receiving_worker=org.receiving_worker
    )


def _cancel(org, transfer):
    services.transfer_cancel(actor=org.caseworker, transfer=transfer, reason=FREE_TEXT)


def _release(org, transfer):
    # Accepted in the morning: the request is opened and reaches the desk at once.
    _relay_booking_rows()


def _rebook(outcome):
    def when(org, transfer):
        # A no-show is recorded once the meeting's time has passed; a cancellation any time.
        later = dt.timedelta(days=8 if outcome == BookingStatus.NO_SHOW else 0)
        with time_machine.travel(MONDAY_MORNING + later, tick=False):
            services.transfer_rebook(
                actor=org.front_desk, transfer=transfer, outcome=outcome, reason=FREE_TEXT
            )

    return when


def _held(org, transfer):
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(days=8), tick=False):
        services.transfer_complete(actor=org.front_desk, transfer=transfer)


def _reassign_given(org):
    case = open_case(org)
    _canary(case)
    return case


def _reassign(org, case):
    case_services.cases_reassign(
        actor=org.koto_supervisor,
        team=org.koto,
        from_worker=org.caseworker,
        to_worker=org.second_caseworker,
    )


def _bring_forward(org, case):
    case_services.case_mark_due(case=case, actor=org.koto_supervisor)


def _review_in_a_year(org):
    case = open_case(org, started_months_ago=12)
    _canary(case)
    return case


def _bring_forward_to_a_date(org, case):
    criteria_services.review_bring_forward(
        actor=org.koto_supervisor,
        case=case,
        review_on=MONDAY_MORNING.date() + dt.timedelta(days=10),
        reason=FREE_TEXT,
    )


SCENARIOS = {
    "proposed": Scenario(
        NotificationKind.TRANSFER_PROPOSED,
        _proposed,
        lambda org, review: services.transfer_propose(
            consent_basis="consent", actor=org.caseworker, review=review
        ),
        lambda org: [org.receiving_worker, org.second_receiver],
        teams=("pohjoinen-aiso",),
    ),
    "accepted": Scenario(
        NotificationKind.TRANSFER_ACCEPTED,
        _transfer(TransferState.PROPOSED),
        _accept,
        lambda org: [org.caseworker],
    ),
    "returned": Scenario(
        NotificationKind.TRANSFER_RETURNED,
        _transfer(TransferState.PROPOSED),
        lambda org, transfer: services.transfer_return(
            actor=org.receiving_worker,
            transfer=transfer,
            reason="missing_information",
            text=FREE_TEXT,
        ),
        lambda org: [org.caseworker],
    ),
    "question asked": Scenario(
        NotificationKind.TRANSFER_QUESTION,
        _transfer(TransferState.PROPOSED),
        lambda org, transfer: services.transfer_request_information(
            actor=org.receiving_worker, transfer=transfer, text=FREE_TEXT
        ),
        lambda org: [org.caseworker],
    ),
    "question answered": Scenario(
        NotificationKind.TRANSFER_ANSWERED,
        _transfer(TransferState.INFORMATION_REQUESTED),
        lambda org, transfer: services.transfer_answer_information(
            actor=org.caseworker, transfer=transfer, text=FREE_TEXT
        ),
        lambda org: [org.receiving_worker, org.second_receiver],
        teams=("pohjoinen-aiso",),
    ),
    "cancelled while proposed": Scenario(
        NotificationKind.TRANSFER_CANCELLED,
        _transfer(TransferState.PROPOSED),
        _cancel,
        lambda org: [org.receiving_worker, org.second_receiver],
        teams=("pohjoinen-aiso",),
    ),
    "cancelled once booked": Scenario(
        NotificationKind.TRANSFER_CANCELLED,
        _transfer(TransferState.BOOKED),
        _cancel,
        lambda org: [org.receiving_worker, org.front_desk],
    ),
    "released to the desk": Scenario(
        NotificationKind.BOOKING_REQUESTED,
        _transfer(TransferState.ACCEPTED),
        _release,
        lambda org: [org.front_desk],
        teams=("pohjoinen-aiso",),
    ),
    "booked": Scenario(
        NotificationKind.BOOKING_CONFIRMED,
        _transfer(TransferState.BOOKING_REQUESTED),
        lambda org, transfer: services.transfer_confirm_booking(
            actor=org.front_desk,
            transfer=transfer,
            starts_at=MONDAY_MORNING + dt.timedelta(days=8),
            place="Malmi",
            interpreter="Booking 123",
        ),
        lambda org: [org.caseworker, org.receiving_worker],
    ),
    "handover held": Scenario(
        NotificationKind.HANDOVER_HELD,
        _transfer(TransferState.BOOKED),
        _held,
        lambda org: [org.caseworker, org.receiving_worker],
    ),
    "no-show": Scenario(
        NotificationKind.HANDOVER_MISSED,
        _transfer(TransferState.BOOKED),
        _rebook(BookingStatus.NO_SHOW),
        lambda org: [org.caseworker, org.receiving_worker],
    ),
    "appointment cancelled": Scenario(
        NotificationKind.HANDOVER_MISSED,
        _transfer(TransferState.BOOKED),
        _rebook(BookingStatus.CANCELLED),
        lambda org: [org.caseworker, org.receiving_worker],
    ),
    "case reassigned": Scenario(
        NotificationKind.CASE_REASSIGNED,
        _reassign_given,
        _reassign,
        lambda org: [org.second_caseworker],
    ),
    "review brought forward": Scenario(
        NotificationKind.REVIEW_BROUGHT_FORWARD,
        _reassign_given,
        _bring_forward,
        lambda org: [org.caseworker],
    ),
    "review brought forward to a date": Scenario(
        NotificationKind.REVIEW_BROUGHT_FORWARD,
        _review_in_a_year,
        _bring_forward_to_a_date,
        lambda org: [org.caseworker],
    ),
}


def _run(scenario: Scenario, org):
    state = scenario.given(org)
    before = set(Notification.objects.values_list("pk", flat=True))
    before_out = set(OutboxMessage.objects.values_list("pk", flat=True))
    scenario.when(org, state)
    notes = Notification.objects.exclude(pk__in=before)
    out = OutboxMessage.objects.exclude(pk__in=before_out).exclude(channel="booking")
    return notes, out


@pytest.mark.parametrize("name", SCENARIOS)
def test_notices__one_per_intended_recipient_per_channel_and_none_to_anyone_else(people, name):
    scenario = SCENARIOS[name]
    notes, out = _run(scenario, people)
    expected = Counter(user.pk for user in scenario.recipients(people))

    mine = notes.filter(kind=scenario.kind)
    assert Counter(mine.values_list("recipient_id", flat=True)) == expected
    emails = out.filter(channel=Channel.EMAIL, payload__kind=scenario.kind)
    assert Counter(m.payload["recipient"] for m in emails) == expected
    teams = out.filter(channel=Channel.TEAMS, payload__kind=scenario.kind)
    assert sorted(m.payload["team"] for m in teams) == sorted(
        {"pohjoinen-aiso": people.adult.pk}[code] for code in scenario.teams
    )
    # No other hand-off notice rides along (the acceptance's "waits for booking hours"
    # comes only outside the hours; the interpreter's release has its own test).
    others = notes.exclude(kind__in=[scenario.kind, NotificationKind.INTERPRETER_FREE])
    assert list(others.values_list("kind", "recipient_id")) == []


@pytest.mark.parametrize("name", SCENARIOS)
def test_notices__nothing_when_the_change_rolls_back(people, name):
    scenario = SCENARIOS[name]
    state = scenario.given(people)
    before = (Notification.objects.count(), OutboxMessage.objects.count())
    with pytest.raises(RuntimeError), transaction.atomic():
        scenario.when(people, state)
        raise RuntimeError("the change failed after the notice was written")
    assert (Notification.objects.count(), OutboxMessage.objects.count()) == before


@pytest.mark.parametrize("name", SCENARIOS)
def test_notices__rendered_in_each_language_with_no_client_detail(people, name):
    scenario = SCENARIOS[name]
    notes, _out = _run(scenario, people)
    note = notes.filter(kind=scenario.kind).first()
    assert note is not None
    headlines = set()
    for language in ("fi", "sv", "en"):
        for channel in (Channel.EMAIL, Channel.TEAMS):
            text = "\n".join(
                render(
                    channel,
                    kind=note.kind,
                    language=language,
                    reference=note.reference,
                    link=note.link,
                    params=note.params,
                ).values()
            )
            assert note.reference and note.reference in text
            for secret in (CANARY_NAME, CANARY_CODE, FREE_TEXT, "Malmi", "Booking 123"):
                assert secret not in text, (language, channel, text)
            headlines.add(text.splitlines()[0])
    # Three languages, three different headlines (every string is translated).
    assert len(headlines) >= 3


def test_notices__return_reason_travels_as_its_label_in_the_readers_language(people):
    transfer = _transfer(TransferState.PROPOSED)(people)
    services.transfer_return(
        actor=people.receiving_worker,
        transfer=transfer,
        reason="wrong_team",
        text=FREE_TEXT,
    )
    note = Notification.objects.get(kind=NotificationKind.TRANSFER_RETURNED)
    assert note.params == {"reason": "wrong_team", "label": "Wrong receiving team"}
    english = render(Channel.EMAIL, kind=note.kind, language="en", params=note.params)
    finnish = render(Channel.EMAIL, kind=note.kind, language="fi", params=note.params)
    assert "Wrong receiving team" in english["subject"]
    assert "Wrong receiving team" not in finnish["subject"]


def test_notices__acceptance_outside_booking_hours_says_when_the_desk_gets_it(people):
    BookingHours.objects.bulk_create(
        BookingHours(team=people.adult, weekday=day, opens_at=dt.time(9), closes_at=dt.time(11, 30))
        for day in range(5)
    )
    transfer = _transfer(TransferState.PROPOSED)(people)
    with time_machine.travel(MONDAY_MORNING.replace(hour=15), tick=False):
        _accept(people, transfer)
    note = Notification.objects.get(kind=NotificationKind.BOOKING_WAITING)
    # The receiving worker named (not the colleague who accepted for them) learns when.
    assert note.recipient_id == people.receiving_worker.pk
    assert note.params == {"when": "2026-11-24T07:00:00+00:00"}  # 9.00 in Helsinki
    text = render(Channel.EMAIL, kind=note.kind, language="fi", params=note.params)
    assert "24.11.2026 klo 9.00" in text["subject"]
    english = render(Channel.EMAIL, kind=note.kind, language="en", params=note.params)
    assert "2026" in english["subject"] and "9" in english["subject"]


def test_notices__the_actor_is_not_told_of_their_own_action(people):
    transfer = _transfer(TransferState.BOOKED)(people)
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(days=8), tick=False):
        services.transfer_complete(actor=people.receiving_worker, transfer=transfer)
    told = Notification.objects.filter(kind=NotificationKind.HANDOVER_HELD)
    assert list(told.values_list("recipient_id", flat=True)) == [people.caseworker.pk]


def test_notices__case_closed_with_an_open_transfer_tells_the_receiving_side(people):
    transfer = _transfer(TransferState.BOOKING_REQUESTED)(people)
    services.case_close(actor=people.caseworker, case=transfer.case, reason="moved_away")
    told = Notification.objects.filter(kind=NotificationKind.TRANSFER_CANCELLED)
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted(
        [people.receiving_worker.pk, people.front_desk.pk]
    )
    assert reload(transfer).state == TransferState.CANCELLED


def test_notices__a_second_run_of_the_same_hand_off_writes_nothing_new(people):
    """The once-only keys: the same notice offered again (a retried task) is ignored."""
    transfer = _transfer(TransferState.PROPOSED)(people)
    from transfers import notices

    notices.transfer_proposed(reload(transfer), actor=people.caseworker)
    counts = (Notification.objects.count(), OutboxMessage.objects.count())
    notices.transfer_proposed(reload(transfer), actor=people.caseworker)
    assert (Notification.objects.count(), OutboxMessage.objects.count()) == counts
