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


@pytest.mark.parametrize("who", ["caseworker", "receiving_worker", "koto_supervisor"])
def test_scope__one_clients_check_reads_that_clients_index_rows_never_a_whole_table(org, who):
    """The scope's check of one client (every detail page, every refused id) must cost the
    same at any size of the caseload and of the event log: each branch an EXISTS probing an
    index. With sequential scans priced out, a branch with no usable index shows as a Seq
    Scan: the creator's branch once read every event of the user (no index serves it), so
    a refused id took 119 ms at 100,000 cases (bench/client_scope.py). On a test's tiny
    tables the planner may still hash a branch; that choice is its, by cost, and not
    asserted here."""
    from django.db import connection

    from criteria.selectors import assessments_visible_to, reviews_visible_to
    from transfers.selectors import transfers_visible_to

    transfer = transfer_in_state(org, TransferState.PROPOSED)
    case = transfer.case
    assessment = transfer.review.assessments.first()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test's own transaction
    user = getattr(org, who)
    for one in (
        clients_visible_to(user).filter(pk=case.client_id),
        cases_visible_to(user).filter(pk=case.pk),
        transfers_visible_to(user).filter(pk=transfer.pk),
        reviews_visible_to(user).filter(pk=transfer.review_id),
        assessments_visible_to(user).filter(pk=assessment.pk),
    ):
        plan = one.explain()
        assert "Seq Scan" not in plan, plan
