"""Consent and legal basis: a transfer is proposed only with the client's consent or the
legal basis when consent is not needed, recorded with who recorded it and when."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.enums import CaseState
from cases.models import Event
from core.errors import InvalidInput
from criteria.selectors import open_review_of
from tests.factories import as_user, assess_all_met, case_in_state
from tests.snapshot import snapshot
from transfers import services
from transfers.enums import ConsentBasis, TransferAction

pytestmark = pytest.mark.django_db


def ready_review(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    assess_all_met(org, case)
    return open_review_of(case)


@pytest.mark.parametrize("basis", ["", "maybe"])
def test_propose__without_consent_or_legal_basis__refused_beside_the_field(org, basis):
    review = ready_review(org)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        services.transfer_propose(actor=org.caseworker, review=review, consent_basis=basis)
    assert list(refused.value.errors) == ["consent_basis"]
    assert snapshot() == before


def test_propose__another_legal_basis_must_be_named(org):
    review = ready_review(org)
    with pytest.raises(InvalidInput) as refused:
        services.transfer_propose(
            actor=org.caseworker,
            review=review,
            consent_basis=ConsentBasis.OTHER_LEGAL_BASIS,
            consent_note="  ",
        )
    assert list(refused.value.errors) == ["consent_note"]
    transfer = services.transfer_propose(
        actor=org.caseworker,
        review=review,
        consent_basis=ConsentBasis.OTHER_LEGAL_BASIS,
        consent_note=" Sosiaalihuoltolaki 41 § ",
    )
    assert transfer.consent_note == "Sosiaalihuoltolaki 41 §"


def test_propose__consent_recorded_with_who_and_when(org):
    review = ready_review(org)
    transfer = services.transfer_propose(
        actor=org.caseworker, review=review, consent_basis=ConsentBasis.CONSENT
    )
    assert (transfer.consent_basis, transfer.consent_recorded_by) == (
        ConsentBasis.CONSENT,
        org.caseworker,
    )
    assert transfer.consent_recorded_at == transfer.proposed_at
    event = Event.objects.get(transfer_id=transfer.pk, action=TransferAction.PROPOSE)
    assert event.params["consent_basis"] == "consent"


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fi", "suostum"),
        ("sv", "samtyck"),
        ("en", "consented"),
    ],
)
def test_web_propose__missing_consent__error_beside_the_field(client, org, language, words):
    review = ready_review(org)
    client.force_login(org.caseworker)
    page = client.post(
        reverse("web:review-propose", args=[review.pk]),
        {"propose-consent_note": "kept"},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert "id_propose-consent_basis_error" in html
    assert words in html.lower()
    assert "kept" in html
    assert review.case.transfers.count() == 0


def test_api_propose__consent_required_and_returned(org):
    review = ready_review(org)
    url = f"/api/v1/reviews/{review.pk}/propose-transfer/"
    refused = as_user(org.caseworker).post(url, {}, format="json")
    assert refused.status_code == 400
    assert "consent_basis" in refused.json()["errors"]
    made = as_user(org.caseworker).post(url, {"consent_basis": "same_controller"}, format="json")
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["consent_basis"], body["consent_recorded_by"]) == (
        "same_controller",
        org.caseworker.username,
    )
