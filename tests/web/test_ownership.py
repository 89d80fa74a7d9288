"""Ownership after the hand-off (README, "Ownership after the hand-off"): once the handover
is held the case shows the receiving team and worker as its owners, on the case page and
in the API; the sending team reads it, never changes it, for SILTA_SENDING_TEAM_READ_DAYS
(30) after the handover, then not at all; every read and every refusal is access-logged."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from audit.models import AccessLog, AccessOutcome
from cases import services as case_services
from cases.enums import CaseState
from core import clock
from core.errors import Conflict
from tests.factories import as_user, case_in_state, reload
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def signed_in(user):
        client.force_login(user)
        return client

    return signed_in


def _names(org):
    org.caseworker.first_name, org.caseworker.last_name = "Lähettävä", "Työntekijä"
    org.caseworker.save()
    org.receiving_worker.first_name, org.receiving_worker.last_name = "Vastaanottava", "Tekijä"
    org.receiving_worker.save()


def _owners(html: str) -> tuple[str, str]:
    """The team and worker the case page names as its owners."""
    team = html.split('id="owner-team">', 1)[1].split("<", 1)[0]
    worker = html.split('id="owner-worker">', 1)[1].split("<", 1)[0]
    return team, worker


def test_owners__before_the_handover_the_sending_team_and_worker(web, org):
    _names(org)
    case = case_in_state(org, CaseState.TRANSFER_PENDING)
    html = web(org.caseworker).get(reverse("web:case", args=[case.pk])).content.decode()
    assert _owners(html) == ("Koto-tiimi 2", "Lähettävä Työntekijä")
    api = as_user(org.caseworker).get(f"/api/v1/cases/{case.pk}/").json()
    assert (api["owner_team"], api["owner_worker"]) == ("koto2", org.caseworker.username)
    assert api["transferred_at"] is None


def test_owners__after_the_handover_the_receiving_team_and_worker_for_everyone(web, org):
    _names(org)
    case = case_in_state(org, CaseState.TRANSFERRED)
    assert reload(case).transferred_at is not None
    for user in (org.receiving_worker, org.caseworker, org.receiving_supervisor):
        html = web(user).get(reverse("web:case", args=[case.pk])).content.decode()
        assert _owners(html) == ("Pohjoinen AISO", "Vastaanottava Tekijä"), user
        api = as_user(user).get(f"/api/v1/cases/{case.pk}/").json()
        assert (api["owner_team"], api["owner_worker"]) == (
            "pohjoinen-aiso",
            org.receiving_worker.username,
        )
        # The Immigration Unit's fields stay what they were: who sent it.
        assert (api["team"], api["responsible_worker"]) == ("koto2", org.caseworker.username)


def _opens(user, case, transfer) -> list[int]:
    """The status of the case page, the transfer page, the review page and the API case."""
    from django.test import Client

    browser = Client()
    browser.force_login(user)
    review = transfer.review
    return [
        browser.get(reverse("web:case", args=[case.pk])).status_code,
        browser.get(reverse("web:transfer", args=[transfer.pk])).status_code,
        browser.get(reverse("web:review", args=[review.pk])).status_code,
        as_user(user).get(f"/api/v1/cases/{case.pk}/").status_code,
    ]


@pytest.mark.parametrize(
    ("days_after", "sending_may_read"),
    [(0, True), (29, True), (30, False), (90, False)],
)
def test_sending_side__reads_for_30_days_after_the_handover_then_not_at_all(
    org, days_after, sending_may_read
):
    case = case_in_state(org, CaseState.TRANSFERRED)
    transfer = case.transfers.get(state=TransferState.COMPLETED)
    held = reload(case).transferred_at
    with time_machine.travel(held + dt.timedelta(days=days_after, minutes=1), tick=False):
        before = AccessLog.objects.count()
        expected = 200 if sending_may_read else 404
        assert _opens(org.caseworker, case, transfer) == [expected] * 4
        assert _opens(org.koto_supervisor, case, transfer) == [expected] * 4
        # The receiving side owns it: always.
        assert _opens(org.receiving_worker, case, transfer) == [200] * 4
        rows = AccessLog.objects.filter(pk__gt=0).order_by("pk")[before:]
        sending = [r for r in rows if r.actor_id == org.caseworker.pk and r.case_id == case.pk]
        assert len(sending) >= 4  # every read, allowed or refused, left its row
        outcome = AccessOutcome.ALLOWED if sending_may_read else AccessOutcome.DENIED
        assert {r.outcome for r in sending} == {outcome}


def test_sending_side__setting_0_means_no_read_at_all_after_the_handover(org, settings):
    settings.SILTA_SENDING_TEAM_READ_DAYS = 0
    case = case_in_state(org, CaseState.TRANSFERRED)
    transfer = case.transfers.get(state=TransferState.COMPLETED)
    assert _opens(org.caseworker, case, transfer) == [404] * 4
    assert _opens(org.receiving_worker, case, transfer) == [200] * 4


def test_sending_side__before_the_handover_reads_as_ever(org, settings):
    settings.SILTA_SENDING_TEAM_READ_DAYS = 0
    case = case_in_state(org, CaseState.TRANSFER_PENDING)
    transfer = case.transfers.get()
    with time_machine.travel(clock.now() + dt.timedelta(days=400), tick=False):
        assert _opens(org.caseworker, case, transfer) == [200] * 4


def test_sending_side__reads_only__the_client_and_the_coordinator_are_not_changed(web, org):
    case = case_in_state(org, CaseState.TRANSFERRED)
    with pytest.raises(Conflict):
        case_services.client_update(actor=org.caseworker, client=case.client, language="som")
    assert reload(case.client).language == "ara"
    with pytest.raises(Conflict):
        case_services.case_set_coordinator(actor=org.caseworker, case=case, coordinator="X")
    answer = as_user(org.caseworker).patch(
        f"/api/v1/clients/{case.client_id}/", {"language": "som"}, format="json"
    )
    assert answer.status_code == 409
    assert reload(case.client).language == "ara"
    # The case page offers the sending side no action on it.
    html = web(org.caseworker).get(reverse("web:case", args=[case.pk])).content.decode()
    assert reverse("web:case-close", args=[case.pk]) not in html
    assert reverse("web:case-coordinator", args=[case.pk]) not in html


def test_sending_side__a_returned_or_cancelled_transfer_is_no_hand_off(org, settings):
    settings.SILTA_SENDING_TEAM_READ_DAYS = 0
    case = case_in_state(org, CaseState.TRANSFER_PENDING)
    from tests.factories import bring_transfer_to

    transfer = bring_transfer_to(org, case.transfers.get(), TransferState.CANCELLED)
    case = reload(case)
    assert (case.receiving_team, case.receiving_worker, case.transferred_at) == (None, None, None)
    assert _opens(org.caseworker, case, transfer) == [200] * 4


def test_receiving_worker_is_recorded_on_the_case_at_acceptance(org):
    case = case_in_state(org, CaseState.TRANSFER_PENDING)
    from tests.factories import bring_transfer_to

    bring_transfer_to(org, case.transfers.get(), TransferState.ACCEPTED)
    case = reload(case)
    assert (case.receiving_team, case.receiving_worker) == (org.adult, org.receiving_worker)
    assert case.owner_team == org.koto  # still the sender's until the handover is held
    assert case.owner_worker == org.caseworker
