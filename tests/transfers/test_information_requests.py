"""Asking before returning: the receiving team asks, the sender answers, the transfer is
back before the receiving team; the exchange is kept, the acceptance clock stands still
while the sender answers, and two people acting at once never both win."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from audit.models import AccessLog
from cases.models import Event
from core import clock
from core.errors import ActorNotAllowed, Conflict, InvalidInput
from notifications.models import Notification
from tests.factories import as_user, make_org, reload, transfer_in_state
from tests.snapshot import snapshot
from transfers import services
from transfers.enums import MessageKind, TransferAction, TransferState
from transfers.models import Transfer
from transfers.reminders import reminder_sweep

pytestmark = pytest.mark.django_db


def at(*day) -> dt.datetime:
    return dt.datetime(*day, 8, 0, tzinfo=clock.tz())


def ask(org, transfer, text="Is the rent plan in place?"):
    return services.transfer_request_information(
        actor=org.receiving_worker, transfer=transfer, text=text
    )


def answer(org, transfer, text="Yes: the plan was signed in May."):
    return services.transfer_answer_information(actor=org.caseworker, transfer=transfer, text=text)


def test_round_trip__question_and_answer_kept_and_the_transfer_back_to_proposed(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    ask(org, transfer)
    assert reload(transfer).state == TransferState.INFORMATION_REQUESTED
    answer(org, transfer)
    transfer = reload(transfer)
    assert transfer.state == TransferState.PROPOSED
    assert [(m.kind, m.author, m.team, m.text) for m in transfer.messages.all()] == [
        (MessageKind.QUESTION, org.receiving_worker, org.adult, "Is the rent plan in place?"),
        (MessageKind.ANSWER, org.caseworker, org.koto, "Yes: the plan was signed in May."),
    ]
    events = Event.objects.filter(transfer_id=transfer.pk).order_by("id")
    asked, answered = events.filter(
        action__in=[TransferAction.REQUEST_INFORMATION, TransferAction.ANSWER_INFORMATION]
    )
    assert (asked.from_state, asked.to_state) == ("proposed", "information_requested")
    assert (answered.from_state, answered.to_state) == ("information_requested", "proposed")
    # The words are client data: no event and no notice carries them.
    for event in events:
        assert "rent plan" not in f"{event.reason} {event.params}"
    for note in Notification.objects.all():
        assert "rent plan" not in f"{note.params} {note.reference}"


def test_ask__by_the_sender_or_an_outsider__refused(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    before = snapshot()
    for actor in (org.caseworker, org.outsider):
        with pytest.raises(ActorNotAllowed):
            services.transfer_request_information(actor=actor, transfer=transfer, text="?")
    assert snapshot() == before


def test_ask_and_answer__blank_text_refused_beside_the_field(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        ask(org, transfer, text="   ")
    assert list(refused.value.errors) == ["text"]
    assert snapshot() == before
    ask(org, transfer)
    with pytest.raises(InvalidInput):
        answer(org, transfer, text="")
    with pytest.raises(ActorNotAllowed):  # the receiving team cannot answer itself
        services.transfer_answer_information(
            actor=org.receiving_worker, transfer=transfer, text="x"
        )


def test_clock__paused_while_the_sender_answers__the_reminder_comes_later(org):
    with time_machine.travel(at(2026, 11, 2), tick=False):  # a Monday
        transfer = transfer_in_state(org, TransferState.PROPOSED)
    with time_machine.travel(at(2026, 11, 3), tick=False):  # asked on Tuesday
        ask(org, transfer)
    with time_machine.travel(at(2026, 11, 9), tick=False):
        reminder_sweep()  # 5 working days after the proposal, but the question waits
        answer(org, transfer)  # answered the next Monday: 4 working days paused
    assert reload(transfer).paused_working_days == 4
    with time_machine.travel(at(2026, 11, 12), tick=False):
        reminder_sweep()  # 5 + 4 working days would be Friday 13 November
    awaiting = Notification.objects.filter(kind="transfer_awaiting", transfer_id=transfer.pk)
    assert not awaiting.exists()
    with time_machine.travel(at(2026, 11, 13), tick=False):
        reminder_sweep()
    assert {n.recipient for n in awaiting} == {org.receiving_worker}


def test_accept__while_the_question_waits__refused_with_the_state(org):
    transfer = transfer_in_state(org, TransferState.INFORMATION_REQUESTED)
    with pytest.raises(Conflict) as refused:
        services.transfer_accept(
            actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
        )
    assert refused.value.extra["state"] == "information_requested"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ask_and_accept_at_once__one_wins_the_other_a_conflict():
    org = make_org()
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    copies = [Transfer.objects.get(pk=transfer.pk) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def act(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            if i == 0:
                ask(org, copies[i])
                outcomes[i] = "asked"
            else:
                services.transfer_accept(
                    actor=org.receiving_worker,
                    transfer=copies[i],
                    receiving_worker=org.receiving_worker,
                )
                outcomes[i] = "accepted"
        except Exception as exc:  # recorded and asserted below
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [o for o in outcomes if isinstance(o, str)]
    losers = [o for o in outcomes if not isinstance(o, str)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], Conflict), losers
    state = reload(transfer).state
    assert state == {"asked": "information_requested", "accepted": "accepted"}[winners[0]]
    assert reload(transfer).messages.count() == (1 if winners[0] == "asked" else 0)


# Web and API ---------------------------------------------------------------------------------


def test_web__receiving_worker_asks_sender_answers_both_pages_logged(client, org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    client.force_login(org.receiving_worker)
    page = client.post(reverse("web:transfer-ask", args=[transfer.pk]), {"ask-text": ""})
    assert page.status_code == 400 and "id_ask-text_error" in page.content.decode()
    page = client.post(
        reverse("web:transfer-ask", args=[transfer.pk]), {"ask-text": "Onko vuokrasuunnitelma?"}
    )
    assert page.status_code == 302
    client.force_login(org.caseworker)
    before = AccessLog.objects.filter(actor=org.caseworker, case=transfer.case).count()
    page = client.get(reverse("web:transfer", args=[transfer.pk]))
    assert "Onko vuokrasuunnitelma?" in page.content.decode()
    assert AccessLog.objects.filter(actor=org.caseworker, case=transfer.case).count() > before
    page = client.post(
        reverse("web:transfer-answer", args=[transfer.pk]), {"answer-text": "On, toukokuusta."}
    )
    assert page.status_code == 302
    assert reload(transfer).state == TransferState.PROPOSED
    client.force_login(org.receiving_worker)
    html = client.get(reverse("web:transfer", args=[transfer.pk])).content.decode()
    assert "On, toukokuusta." in html
    assert transfer.case.client.last_name not in html  # still the minimal view


def test_web__a_stale_ask_shows_the_current_state(client, org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    services.transfer_accept(
        actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
    )
    client.force_login(org.receiving_worker)
    page = client.post(
        reverse("web:transfer-ask", args=[transfer.pk]),
        {"ask-text": "Late question"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert page.status_code == 200
    assert "Someone else acted first" in page.content.decode()
    assert reload(transfer).messages.count() == 0


def test_web__while_the_question_waits_the_team_may_return_but_not_accept(client, org):
    transfer = transfer_in_state(org, TransferState.INFORMATION_REQUESTED)
    client.force_login(org.receiving_worker)
    html = client.get(reverse("web:transfer", args=[transfer.pk])).content.decode()
    assert reverse("web:transfer-return", args=[transfer.pk]) in html
    assert reverse("web:transfer-accept", args=[transfer.pk]) not in html
    page = client.post(
        reverse("web:transfer-return", args=[transfer.pk]),
        {"return-reason": "missing_information", "return-text": "No answer in two weeks."},
    )
    assert page.status_code == 302
    assert reload(transfer).state == TransferState.RETURNED
    # The sender sees no form to answer a returned transfer's question.
    client.force_login(org.caseworker)
    html = client.get(reverse("web:transfer", args=[transfer.pk])).content.decode()
    assert reverse("web:transfer-answer", args=[transfer.pk]) not in html


def test_api__ask_then_answer_and_a_second_ask_conflicts(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    url = f"/api/v1/transfers/{transfer.pk}/"
    receiving, sending = as_user(org.receiving_worker), as_user(org.caseworker)
    response = receiving.post(url + "request-information/", {"text": "Rent plan?"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["disclosure"]) == ("information_requested", "summary")
    assert [m["text"] for m in body["messages"]] == ["Rent plan?"]
    again = receiving.post(url + "request-information/", {"text": "Again?"}, format="json")
    assert again.status_code == 409
    assert again.json()["state"] == "information_requested"
    response = sending.post(url + "answer-information/", {"text": "Signed."}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "proposed"
    assert AccessLog.objects.filter(actor=org.caseworker, action="api_transition").exists()


@pytest.mark.parametrize(
    ("action", "state", "who", "status"),
    [
        ("ask", TransferState.PROPOSED, "receiving_worker", 302),
        ("ask", TransferState.PROPOSED, "receiving_supervisor", 302),
        ("ask", TransferState.PROPOSED, "front_desk", 403),
        ("ask", TransferState.PROPOSED, "caseworker", 403),
        ("ask", TransferState.PROPOSED, "outsider", 404),
        ("answer", TransferState.INFORMATION_REQUESTED, "caseworker", 302),
        ("answer", TransferState.INFORMATION_REQUESTED, "koto_supervisor", 302),
        ("answer", TransferState.INFORMATION_REQUESTED, "receiving_worker", 403),
        ("answer", TransferState.INFORMATION_REQUESTED, "outsider", 404),
    ],
)
def test_web_role_matrix__ask_and_answer(client, org, action, state, who, status):
    transfer = transfer_in_state(org, state)
    client.force_login(getattr(org, who))
    page = client.post(
        reverse(f"web:transfer-{action}", args=[transfer.pk]), {f"{action}-text": "Words"}
    )
    assert page.status_code == status
    logged = AccessLog.objects.filter(actor=getattr(org, who), case=transfer.case)
    assert logged.exists()  # allowed, refused or out of scope: each leaves its row
    if status != 302:
        assert reload(transfer).state == state
