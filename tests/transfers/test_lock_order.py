"""One lock order everywhere (case, transfer, booking): the front desk confirming while the
worker delivers the same booking request never deadlocks, on real PostgreSQL with real
threads, and every run ends in a consistent state.

Before the order was fixed, delivery locked the booking and then (to confirm what the
external booking system answered) the transfer, while the front desk's confirmation locked
the transfer and then the booking: PostgreSQL broke the cycle by killing one of them, and
the front desk got a 500 (this test failed at its first run then).
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.urls import reverse

from audit.access import perform_and_log
from cases.models import Event, Team
from core.errors import ConcurrentUpdate, TransitionNotAllowed
from core.retry import ATTEMPTS, atomic_with_retry
from notifications.models import OutboxMessage, OutboxStatus
from notifications.services import relay_one
from tests.factories import as_user, handover_slot, make_org, reload, transfer_in_state
from tests.transfers.test_household import family
from tests.transfers.test_locks import _from_another_transaction, _key_share, _update
from transfers import services
from transfers.enums import BookingStatus, DeliveryStatus, TransferState
from transfers.models import HandoverBooking, Transfer
from transfers.services import handover

# Where the old order deadlocked: the external booking system's answer confirms in the
# delivery, against the front desk confirming by hand.
RUNS = 200
# The front desk's queue in Silta (delivery marks the booking and tells the desk).
QUEUE_RUNS = 50
FRESH_EVERY = 10
SECRET = "test-webhook-secret"


class _Counter(logging.Handler):
    """Counts the retries core.retry logs (from any thread)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.retries = 0
        self.given_up = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("retrying"):
            self.retries += 1
        elif record.getMessage().startswith("giving up"):
            self.given_up += 1


@pytest.fixture
def retry_log():
    counter = _Counter()
    logger = logging.getLogger("silta.retry")
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)


def _race(org, transfer: Transfer, booking: HandoverBooking) -> tuple[object, object]:
    """The front desk confirms (through the same boundary as the web app and the API)
    while the worker's relay delivers the booking request, both released at once."""
    message = OutboxMessage.objects.get(key=f"booking:send:{booking.pk}")
    desk_copy = Transfer.objects.get(pk=transfer.pk)  # loaded before the race, as a page
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def desk() -> None:
        try:
            barrier.wait(timeout=30)
            perform_and_log(
                services.transfer_confirm_booking,
                user=org.front_desk,
                action="web_transition",
                subjects=[(transfer.case.client_id, transfer.case_id)],
                transfer=desk_copy,
                starts_at=handover_slot(days=7),
                place="Malmi front desk",
                interpreter="Interpreter booking 123",
            )
            outcome["desk"] = "confirmed"
        except Exception as exc:  # recorded and asserted by the caller
            outcome["desk"] = exc
        finally:
            connection.close()

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            outcome["worker"] = relay_one(message.pk)
        except Exception as exc:  # recorded and asserted by the caller
            outcome["worker"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=desk), threading.Thread(target=worker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome.get("desk"), outcome.get("worker")


def _confirmations(transfer: Transfer) -> int:
    return Event.objects.filter(transfer=transfer, action="confirm_booking").count()


def _assert_consistent(
    transfer: Transfer, booking: HandoverBooking, confirmed_before: int, outcome, *, run: int
) -> bool:
    """Returns True when the desk's confirmation lost to a concurrent update (and then
    nothing of it was written)."""
    desk, worker = outcome
    transfer.refresh_from_db()
    booking.refresh_from_db()
    sent = OutboxMessage.objects.get(key=f"booking:send:{booking.pk}")
    confirms = _confirmations(transfer) - confirmed_before
    assert transfer.bookings.filter(status__in=["requested", "confirmed"]).count() == 1, run
    assert worker == "sent", (run, worker, sent.last_error)
    assert (sent.status, sent.attempts, sent.last_error) == (OutboxStatus.SENT, 1, ""), run
    assert booking.delivery == DeliveryStatus.DELIVERED, run
    if isinstance(desk, ConcurrentUpdate):
        assert (transfer.state, confirms) == (TransferState.BOOKING_REQUESTED, 0), run
        return True
    assert desk == "confirmed" or _lost_to_the_webhook(desk), (run, desk)
    assert transfer.state == TransferState.BOOKED, run
    assert booking.status == BookingStatus.CONFIRMED, run
    assert confirms == 1, run
    return False


def _lost_to_the_webhook(desk: object) -> bool:
    """With an external booking system the worker may confirm first: the desk is then
    told the state no longer allows it (a Conflict, never a 500)."""
    return isinstance(desk, TransitionNotAllowed) and desk.extra["state"] == "booked"


def _run(org, runs: int, retry_log: _Counter) -> dict[str, float]:
    conflicts = 0
    started = time.monotonic()
    transfer = None
    for run in range(runs):
        # A new transfer every FRESH_EVERY runs; in between the last one is booked again
        # (the appointment was cancelled), which gives a new request for the worker to deliver.
        if run % FRESH_EVERY == 0 or reload(transfer).state != TransferState.BOOKED:
            transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
        else:
            services.transfer_rebook(
                actor=org.front_desk, transfer=transfer, outcome=BookingStatus.CANCELLED
            )
        booking = transfer.bookings.get(status=BookingStatus.REQUESTED)
        confirmed_before = _confirmations(transfer)
        outcome = _race(org, transfer, booking)
        conflicts += _assert_consistent(transfer, booking, confirmed_before, outcome, run=run)
    return {
        "runs": runs,
        "conflicts": conflicts,
        "retries": retry_log.retries,
        "seconds": round(time.monotonic() - started, 1),
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_lock_order__desk_confirms_while_worker_delivers__no_deadlock(retry_log, capsys):
    org = make_org()  # the front desk's queue in Silta: no external booking system

    figures = _run(org, QUEUE_RUNS, retry_log)

    with capsys.disabled():
        print(f"\nlock order, front-desk queue: {figures}")
    # No deadlock at all: any would have been logged as a retry (or a conflict).
    assert (figures["retries"], figures["conflicts"], retry_log.given_up) == (0, 0, 0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_lock_order__desk_confirms_while_webhook_answer_confirms__one_wins(
    retry_log, capsys, booking_system, settings
):
    settings.SILTA_BOOKING_WEBHOOK_SECRET = SECRET
    org = make_org()
    org.adult.booking_webhook_url = booking_system.url
    org.adult.save()
    booking_system.answers = [
        (
            200,
            {
                "reference": f"EXT-{i}",
                "starts_at": handover_slot(days=14).isoformat(),
                "place": "Malmi front desk",
                "interpreter": "Interpreter booking 456",
            },
        )
        for i in range(RUNS)
    ]

    figures = _run(org, RUNS, retry_log)

    with capsys.disabled():
        print(f"\nlock order, external booking system: {figures}")
    # No deadlock at all: any would have been logged as a retry (or a conflict).
    assert (figures["retries"], figures["conflicts"], retry_log.given_up) == (0, 0, 0)


# What a deadlock that still happens becomes -------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("inside_a_callers_transaction", [False, True])
def test_retry__a_real_deadlock__the_victim_runs_again_and_both_succeed(
    retry_log, inside_a_callers_transaction
):
    """Two transactions lock two rows in opposite orders: PostgreSQL kills one, which runs
    again (as a whole, or from its savepoint inside a caller's transaction) and succeeds."""
    org = make_org()
    rows = [org.adult.pk, org.youth.pk]
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def lock_both(i: int) -> None:
        attempts = 0

        @atomic_with_retry
        def cycle() -> str:
            nonlocal attempts
            attempts += 1
            first, second = rows if i == 0 else rows[::-1]
            Team.objects.select_for_update().get(pk=first)
            if attempts == 1:
                barrier.wait(timeout=30)  # both hold their first row: a cycle
            Team.objects.select_for_update().get(pk=second)
            return f"done after {attempts}"

        try:
            if inside_a_callers_transaction:
                with transaction.atomic():
                    outcomes[i] = cycle()
            else:
                outcomes[i] = cycle()
        except Exception as exc:  # recorded and asserted below
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=lock_both, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(map(str, outcomes)) == ["done after 1", "done after 2"], outcomes
    assert (retry_log.retries, retry_log.given_up) == (1, 0)


DEADLOCK_SQL = (
    "DO $$ BEGIN RAISE EXCEPTION 'deadlock in a drill' USING ERRCODE = 'deadlock_detected'; END $$"
)


@pytest.fixture
def deadlocks(monkeypatch):
    """PostgreSQL answers the confirmation's booking lock with a deadlock error (SQLSTATE
    40P01, raised by the database itself) as many times as `left` says."""
    state = {"left": 0, "raised": 0}
    original = handover.lock_live_booking

    def locking(transfer):
        booking = original(transfer)
        if state["left"]:
            state["left"] -= 1
            state["raised"] += 1
            with connection.cursor() as cursor:
                cursor.execute(DEADLOCK_SQL)
        return booking

    monkeypatch.setattr(handover, "lock_live_booking", locking)
    return state


def confirm_as_desk(org, transfer):
    return perform_and_log(
        services.transfer_confirm_booking,
        user=org.front_desk,
        action="web_transition",
        subjects=[(transfer.case.client_id, transfer.case_id)],
        transfer=transfer,
        starts_at=handover_slot(days=7),
        place="Malmi front desk",
        interpreter="Interpreter booking 123",
    )


@pytest.mark.django_db
def test_retry__one_deadlock__the_confirmation_runs_again_once(org, deadlocks, retry_log):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    deadlocks["left"] = 1

    confirm_as_desk(org, transfer)

    assert reload(transfer).state == TransferState.BOOKED
    assert Event.objects.filter(transfer=transfer, action="confirm_booking").count() == 1
    assert (deadlocks["raised"], retry_log.retries, retry_log.given_up) == (1, 1, 0)


@pytest.mark.django_db
def test_retry__deadlocks_every_time__409_concurrent_update_and_nothing_written(
    org, deadlocks, retry_log
):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    events = Event.objects.count()
    deadlocks["left"] = 99

    response = as_user(org.front_desk).post(
        f"/api/v1/transfers/{transfer.pk}/confirm-booking/",
        {
            "starts_at": handover_slot(days=7).isoformat(),
            "place": "Malmi front desk",
            "interpreter": "Interpreter booking 123",
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "concurrent_update"
    assert "Someone else changed this first" in response.json()["detail"]
    assert deadlocks["raised"] == ATTEMPTS
    assert (retry_log.retries, retry_log.given_up) == (ATTEMPTS - 1, 1)
    assert reload(transfer).state == TransferState.BOOKING_REQUESTED
    assert Event.objects.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("fi", "Joku muu ehti ensin: siirron tila on nyt ”Ajanvarausta pyydetty”"),
        ("sv", "Någon annan hann före: överföringens status är nu ”Tidsbokning begärd”"),
        ("en", "Someone else acted first: the transfer is now “Booking requested”"),
    ],
)
def test_retry__deadlocks_every_time__the_page_says_so_in_the_users_language(
    client, org, deadlocks, language, text
):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    deadlocks["left"] = 99
    client.force_login(org.front_desk)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language

    page = client.post(
        reverse("web:transfer-confirm", args=[transfer.pk]),
        {
            "confirm-starts_at": handover_slot(days=3).strftime("%Y-%m-%dT%H:%M"),
            "confirm-place": "Malmi",
            "confirm-interpreter": "Tulkki 1",
        },
        follow=True,
    )

    assert page.status_code == 200
    assert text in page.content.decode()
    assert reload(transfer).state == TransferState.BOOKING_REQUESTED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_household_booking__held_by_a_member_rows_referring_to_it_still_written(org):
    """A household member's transfer reaches the booking its sibling's request made: the
    booking is locked as strongly as against writers, but FOR NO KEY UPDATE, like every
    lock of the lock order, so rows that refer to it are not held up meanwhile."""
    household, _parent, _spouse = family(org)
    first, second = services.household_transfer_propose(
        consent_basis="consent", actor=org.caseworker, household=household
    )
    services.transfer_accept_together(
        actor=org.receiving_worker, transfer=first, receiving_worker=org.receiving_worker
    )
    booking = services.transfer_request_booking(transfer=first)
    member = second if booking.transfer_id == first.pk else first
    table = HandoverBooking._meta.db_table
    with transaction.atomic():
        _case, locked = handover.lock_transfer(member)
        held = handover._household_booking(locked)
        assert held is not None and held.pk == booking.pk
        refer = _from_another_transaction([_key_share(table, booking.pk)])
        change = _from_another_transaction([_update(table, booking.pk)])
    assert refer == ["ok"]
    assert change == ["blocked"]
