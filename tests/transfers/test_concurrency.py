"""Concurrent transitions on real PostgreSQL with real threads."""

import threading

import pytest
from django.db import connection

from cases.models import Event
from core.errors import Conflict
from tests.factories import make_org, transfer_in_state
from transfers import services
from transfers.enums import TransferState
from transfers.models import Transfer

THREADS = 20


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_transfer__accept__twenty_at_once__exactly_one_wins():
    org = make_org()
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    # Every thread holds its own copy loaded before the race, as a web request would.
    copies = [Transfer.objects.get(pk=transfer.pk) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    outcomes: list[object] = [None] * THREADS

    def accept(i: int) -> None:
        try:
            barrier.wait(timeout=30)
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

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes.count("accepted") == 1
    losers = [o for o in outcomes if o != "accepted"]
    assert len(losers) == THREADS - 1
    assert all(isinstance(o, Conflict) for o in losers), losers
    assert Transfer.objects.get(pk=transfer.pk).state == TransferState.ACCEPTED
    assert Event.objects.filter(transfer=transfer, action="accept").count() == 1
