"""Who sees a case: its Immigration Unit team always; a regional team from the moment it
accepts the case's transfer (the case's receiving team), and no longer once that transfer
is cancelled."""

import pytest

from cases.selectors import cases_visible_to, clients_visible_to
from tests.factories import reload, transfer_in_state
from transfers import services
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


def visible(user, case) -> tuple[bool, bool]:
    return (
        cases_visible_to(user).filter(pk=case.pk).exists(),
        clients_visible_to(user).filter(pk=case.client_id).exists(),
    )


def test_scope__receiving_team_sees_the_case_only_from_acceptance(org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    assert visible(org.receiving_worker, transfer.case) == (False, False)
    assert visible(org.caseworker, transfer.case) == (True, True)
    services.transfer_accept(
        actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
    )
    assert reload(transfer.case).receiving_team == transfer.receiving_team
    assert visible(org.receiving_worker, transfer.case) == (True, True)
    assert visible(org.front_desk, transfer.case) == (True, True)


def test_scope__a_cancelled_transfer_takes_the_case_back_from_the_receiving_team(org):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    assert visible(org.receiving_worker, transfer.case) == (True, True)
    services.transfer_cancel(actor=org.caseworker, transfer=transfer, reason="Muutti pois")
    assert reload(transfer.case).receiving_team is None
    assert visible(org.receiving_worker, transfer.case) == (False, False)
    assert visible(org.caseworker, transfer.case) == (True, True)


def test_scope__a_completed_transfer_leaves_the_case_with_the_receiving_team(org):
    transfer = transfer_in_state(org, TransferState.COMPLETED)
    assert visible(org.receiving_worker, transfer.case) == (True, True)


def test_scope__closing_the_case_ends_the_receiving_teams_view_of_it(org):
    transfer = transfer_in_state(org, TransferState.ACCEPTED)
    services.case_close(actor=org.caseworker, case=transfer.case, reason="moved_away")
    assert reload(transfer.case).receiving_team is None
    assert visible(org.receiving_worker, transfer.case) == (False, False)


def test_scope__a_returned_transfer_never_hands_the_case_over(org):
    transfer = transfer_in_state(org, TransferState.RETURNED)
    assert reload(transfer.case).receiving_team is None
    assert visible(org.receiving_worker, transfer.case) == (False, False)
