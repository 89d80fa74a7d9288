"""The handover summary: written when proposing, a new version with author and time on every
edit; the receiving team sees only the documented minimal part before it accepts and all of
it after; every view of it writes its access-log row."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AccessLog
from cases.enums import CaseState
from cases.models import Event
from core.errors import ActorNotAllowed, Conflict
from criteria.selectors import open_review_of
from tests.factories import as_user, assess_all_met, case_in_state, reload, transfer_in_state
from tests.snapshot import snapshot
from transfers import services
from transfers.enums import TransferAction, TransferState
from transfers.selectors import handover_summary

pytestmark = pytest.mark.django_db

MINIMAL = {"ready", "exceptions", "escorted", "language", "interpreter_needed", "note_to_team"}
SECRET_PLAN = "Velkaneuvonta: Kela-hakemus 15.12. (vastuutyöntekijä)"


def proposed_with_summary(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    assess_all_met(org, case)
    return services.transfer_propose(
        actor=org.caseworker,
        review=open_review_of(case),
        consent_basis="consent",
        note_to_team="Asiakas toivoo aamupäiväaikaa.",
        settled="Asunto ja Kela-asiat kunnossa.",
        open_items=SECRET_PLAN,
        risks="Vuokravelka voi kasvaa.",
        escorted_why="Ei saattaen: asioi itsenäisesti.",
        coordinator_contact="Malmin terveysasema, p. 09 123",
    )


def test_propose__the_summary_is_version_one_by_the_proposer(org):
    transfer = proposed_with_summary(org)
    first = transfer.summaries.get()
    assert (first.version, first.author, first.open_items) == (1, org.caseworker, SECRET_PLAN)


def test_edit__a_new_version_each_time_the_earlier_kept_and_an_event(org):
    transfer = proposed_with_summary(org)
    services.transfer_summary_edit(
        actor=org.caseworker, transfer=transfer, note_to_team="Tulkki: arabia.", settled="x"
    )
    assert list(transfer.summaries.values_list("version", "note_to_team")) == [
        (2, "Tulkki: arabia."),
        (1, "Asiakas toivoo aamupäiväaikaa."),
    ]
    event = Event.objects.get(transfer_id=transfer.pk, action=TransferAction.EDIT_SUMMARY)
    assert event.params == {"version": 2}
    assert SECRET_PLAN not in str(event.params) + event.reason


def test_edit__by_the_receiving_team_or_after_the_transfer_ended__refused(org):
    transfer = proposed_with_summary(org)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        services.transfer_summary_edit(actor=org.receiving_worker, transfer=transfer, risks="x")
    assert snapshot() == before
    services.transfer_cancel(actor=org.caseworker, transfer=transfer, reason="Muuttaa")
    with pytest.raises(Conflict):
        services.transfer_summary_edit(actor=org.caseworker, transfer=transfer, risks="x")


def test_split__minimal_before_acceptance_all_after(org):
    transfer = proposed_with_summary(org)
    minimal = handover_summary(transfer, full=False)
    assert set(minimal) == MINIMAL
    assert minimal["note_to_team"] == "Asiakas toivoo aamupäiväaikaa."
    assert minimal["ready"] is True and minimal["escorted"] is False
    full = handover_summary(transfer, full=True)
    assert full["open_items"] == SECRET_PLAN
    assert [v["version"] for v in full["versions"]] == [1]


def test_web__receiving_worker_sees_the_minimal_part_then_all_of_it_each_view_logged(client, org):
    transfer = proposed_with_summary(org)
    client.force_login(org.receiving_worker)
    url = reverse("web:transfer", args=[transfer.pk])
    rows = AccessLog.objects.filter(actor=org.receiving_worker, case=transfer.case)
    before = rows.count()
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert rows.count() == before + 1
    assert "Asiakas toivoo aamupäiväaikaa." in html
    assert SECRET_PLAN not in html and "Vuokravelka" not in html
    services.transfer_accept(
        actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
    )
    html = client.get(url).content.decode()
    assert rows.count() == before + 2
    assert SECRET_PLAN in html and "Vuokravelka voi kasvaa." in html
    assert "Malmin terveysasema, p. 09 123" in html


def test_web__sender_edits_the_summary_from_the_transfer_page(client, org):
    transfer = proposed_with_summary(org)
    client.force_login(org.caseworker)
    page = client.post(
        reverse("web:transfer-summary", args=[transfer.pk]),
        {"summary-note_to_team": "Uusi huomio", "summary-open_items": SECRET_PLAN},
    )
    assert page.status_code == 302
    assert transfer.summaries.count() == 2
    client.force_login(org.receiving_worker)
    page = client.post(reverse("web:transfer-summary", args=[transfer.pk]), {"summary-risks": "x"})
    assert page.status_code == 403
    assert transfer.summaries.count() == 2


def test_api__summary_disclosure_before_and_after_acceptance(org):
    transfer = proposed_with_summary(org)
    receiving = as_user(org.receiving_worker)
    body = receiving.get(f"/api/v1/transfers/{transfer.pk}/").json()
    assert body["disclosure"] == "summary"
    assert set(body["handover_summary"]) == MINIMAL
    assert SECRET_PLAN not in str(body)
    edited = as_user(org.caseworker).post(
        f"/api/v1/transfers/{transfer.pk}/handover-summary/",
        {"note_to_team": "v2", "open_items": SECRET_PLAN},
        format="json",
    )
    assert edited.status_code == 200, edited.json()
    assert [v["version"] for v in edited.json()["handover_summary"]["versions"]] == [2, 1]
    services.transfer_accept(
        actor=org.receiving_worker, transfer=reload(transfer), receiving_worker=org.receiving_worker
    )
    body = receiving.get(f"/api/v1/transfers/{transfer.pk}/").json()
    assert body["disclosure"] == "full"
    assert body["handover_summary"]["open_items"] == SECRET_PLAN
    assert (
        AccessLog.objects.filter(
            actor=org.receiving_worker, action="api_read", case=transfer.case
        ).count()
        == 2
    )


def test_factories_transfer__has_a_summary(org):
    assert transfer_in_state(org, TransferState.PROPOSED).summaries.count() == 1
