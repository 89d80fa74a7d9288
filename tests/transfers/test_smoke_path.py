import pytest

from cases.enums import CaseState
from cases.models import Event
from tests.factories import case_in_state, transfer_in_state
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


def test_case__full_path__reaches_transferred(org):
    case = case_in_state(org, CaseState.TRANSFERRED)
    assert case.state == CaseState.TRANSFERRED
    assert case.transfers.get().state == TransferState.COMPLETED
    assert Event.objects.filter(case=case, subject="case").count() == 5


def test_transfer__returned__case_back_in_review_with_new_review(org):
    transfer = transfer_in_state(org, TransferState.RETURNED)
    case = transfer.case
    assert case.state == CaseState.IN_REVIEW
    assert case.reviews.count() == 2
