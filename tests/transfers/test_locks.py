"""The lock order's locks (transfers/services/locks.py): each takes its rows FOR NO KEY
UPDATE, so while a service holds them another transaction can still write rows that
refer to them (an event, a notice: their foreign-key checks take KEY SHARE locks) but
cannot change the locked rows themselves."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from cases.models import Case, Client
from core.transitions import lock
from tests.factories import make_org, transfer_in_state
from transfers.enums import BookingStatus, TransferState
from transfers.models import HandoverBooking, Transfer
from transfers.services import locks

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _from_another_transaction(statements: list[tuple[str, list]]) -> list[str]:
    """Run each statement in a transaction of another connection with a short lock
    timeout; returns "ok" or "blocked" for each."""
    outcomes: list[str] = []

    def work() -> None:
        try:
            for sql, params in statements:
                try:
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = '1s'")
                        cursor.execute(sql, params)
                    outcomes.append("ok")
                except Exception as exc:  # the lock timeout is what this looks for
                    outcomes.append("blocked" if "lock timeout" in str(exc) else repr(exc))
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=60)
    return outcomes


def _key_share(table: str, pk: int) -> tuple[str, list]:
    return (f"SELECT id FROM {table} WHERE id = %s FOR KEY SHARE", [pk])  # noqa: S608


def _update(table: str, pk: int) -> tuple[str, list]:
    return (f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [pk])  # noqa: S608


@pytest.fixture
def booked():
    org = make_org()
    transfer = transfer_in_state(org, TransferState.BOOKED)
    booking = transfer.bookings.get(status=BookingStatus.CONFIRMED)
    return transfer, booking


def test_lock_booking__case_transfer_booking_held_referring_rows_still_written(booked):
    transfer, booking = booked
    tables = [
        (Case._meta.db_table, transfer.case_id),
        (Transfer._meta.db_table, transfer.pk),
        (HandoverBooking._meta.db_table, booking.pk),
    ]
    with transaction.atomic():
        case, locked_transfer, locked_booking = locks.lock_booking(booking.pk)
        assert (case.pk, locked_transfer.pk, locked_booking.pk) == (
            transfer.case_id,
            transfer.pk,
            booking.pk,
        )
        assert locked_booking.transfer.receiving_team_id == transfer.receiving_team_id
        refer = _from_another_transaction([_key_share(t, pk) for t, pk in tables])
        change = _from_another_transaction([_update(t, pk) for t, pk in tables])
    assert refer == ["ok", "ok", "ok"]
    assert change == ["blocked", "blocked", "blocked"]


def test_lock_transfer_and_live_booking__by_object_or_by_id(booked):
    transfer, booking = booked
    for given in (transfer, transfer.pk):
        with transaction.atomic():
            case, locked = locks.lock_transfer(given)
            assert (case.pk, locked.pk) == (transfer.case_id, transfer.pk)
            live = locks.lock_live_booking(locked)
            assert live is not None and live.pk == booking.pk
            refer = _from_another_transaction(
                [
                    _key_share(Case._meta.db_table, case.pk),
                    _key_share(Transfer._meta.db_table, transfer.pk),
                    _key_share(HandoverBooking._meta.db_table, booking.pk),
                ]
            )
            change = _from_another_transaction(
                [
                    _update(Case._meta.db_table, case.pk),
                    _update(Transfer._meta.db_table, transfer.pk),
                    _update(HandoverBooking._meta.db_table, booking.pk),
                ]
            )
        assert refer == ["ok", "ok", "ok"]
        assert change == ["blocked", "blocked", "blocked"]


def test_lock_live_booking__none_once_the_booking_has_ended(booked):
    transfer, booking = booked
    HandoverBooking.objects.filter(pk=booking.pk).update(status=BookingStatus.HELD)
    with transaction.atomic():
        assert locks.lock_live_booking(transfer) is None


def test_lock__a_client_held_by_a_service_can_still_be_referred_to(booked):
    """core.transitions.lock (the cases and criteria services) holds a row as the lock
    order's locks do: another transaction that writes an event naming the client (a KEY
    SHARE) is not kept waiting, so a client update waiting for the case cannot deadlock
    with a service that holds the case and writes the client's event."""
    transfer, _booking = booked
    client_id = transfer.case.client_id
    with transaction.atomic():
        assert lock(Client, client_id).pk == client_id
        refer = _from_another_transaction([_key_share(Client._meta.db_table, client_id)])
        change = _from_another_transaction([_update(Client._meta.db_table, client_id)])
    assert refer == ["ok"]
    assert change == ["blocked"]
