"""The home base (kotipesä): partners near the client's new address that serve the
client's language and needs are suggested on the review and the case page; the
caseworker records one (or why none) through a service with an event row; it is in the
handover summary and the closure record; "no further need" is refused without it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from audit.models import AccessLog
from cases.enums import CaseState
from cases.models import Event
from core import clock
from core.errors import ActorNotAllowed, InvalidInput, TransitionNotAllowed
from criteria import services as criteria_services
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from partners.enums import PartnerAction
from partners.models import HomeBase
from partners.selectors import home_base_suggestions
from partners.services import home_base_record
from tests.factories import case_in_state, open_case, reload, transfer_in_state
from tests.partners.test_directory import partner
from tests.snapshot import snapshot
from transfers import services
from transfers.enums import TransferState
from transfers.selectors import handover_summary

pytestmark = pytest.mark.django_db


@pytest.fixture
def nearby():
    """Partners around Malmi (00700: Koillinen, Pohjoinen region) and elsewhere."""
    return {
        "same_district": partner(
            "Asukastalo Kulmakivi", district="Koillinen", languages="ara,fin",
            service_kinds="residents_house,language",
        ),
        "whole_region_work": partner(
            "Työpolku ry", languages="ara,fin", service_kinds="study_work"
        ),
        "whole_region": partner("Naisten olohuone", languages="ara", service_kinds="family"),
        "other_district": partner("Oulunkylän kerho", district="Pohjoinen", languages="ara"),
        "other_language": partner("Venäjänkielinen kerho", district="Koillinen", languages="rus"),
        "other_region": partner("Kallion asukastalo", region="etela", languages="ara"),
        "inactive": partner("Lopettanut", district="Koillinen", languages="ara", is_active=False),
    }  # fmt: skip


def test_suggestions__same_district_first_then_the_needs_then_by_name(org, nearby):
    case = open_case(org, language="ara", postal_code="00700")
    found = home_base_suggestions(case, needs=["study_work"])
    assert found.postal_area.suurpiiri == "Koillinen"
    assert [s.organisation.name for s in found.items] == [
        "Asukastalo Kulmakivi", "Työpolku ry", "Naisten olohuone"
    ]  # fmt: skip
    assert found.items[0].same_district and not found.items[1].same_district
    assert found.items[1].matching_kinds == ["study_work"]


def test_suggestions__no_routable_postal_code__none(org, nearby):
    case = open_case(org, language="ara", postal_code="00099")
    found = home_base_suggestions(case)
    assert found.postal_area is None and found.items == []


def test_record__organisation__stored_with_an_event(org, nearby):
    case = open_case(org)
    home_base_record(actor=org.caseworker, case=case, organisation=nearby["same_district"])
    stored = HomeBase.objects.get(case=case)
    assert (stored.organisation, stored.reason_none) == (nearby["same_district"], "")
    event = Event.objects.get(case=case, action=PartnerAction.HOME_BASE_RECORD)
    assert event.actor == org.caseworker
    assert event.params == {"organisation": nearby["same_district"].pk}


def test_record__reason_replaces_the_organisation_with_a_second_event(org, nearby):
    case = open_case(org)
    home_base_record(actor=org.caseworker, case=case, organisation=nearby["same_district"])
    home_base_record(actor=org.koto_supervisor, case=case, reason="Asiakas muuttaa Espooseen.")
    stored = HomeBase.objects.get(case=case)
    assert stored.organisation is None and stored.reason_none == "Asiakas muuttaa Espooseen."
    assert Event.objects.filter(case=case, action__startswith="home_base").count() == 2


def test_record__neither__error_names_the_field_and_nothing_written(org):
    case = open_case(org)
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        home_base_record(actor=org.caseworker, case=case, reason="  ")
    assert set(error.value.errors) == {"organisation"}
    assert snapshot() == before


def test_record__other_teams_and_final_states_refused(org, nearby):
    case = open_case(org)
    with pytest.raises(ActorNotAllowed):
        home_base_record(actor=org.receiving_worker, case=case, reason="x")
    closed = case_in_state(org, CaseState.CLOSED)
    with pytest.raises(TransitionNotAllowed):
        home_base_record(actor=org.caseworker, case=closed, reason="x")
    assert not HomeBase.objects.exists()


@pytest.mark.parametrize(
    ("language", "words"),
    [("fi", "kotipesä"), ("sv", "hemmabas"), ("en", "home base")],
)
def test_close__no_further_need_without_a_home_base__refused_naming_it(org, language, words):
    case = open_case(org)
    with translation.override(language), pytest.raises(InvalidInput) as error:
        services.case_close(actor=org.caseworker, case=case, reason="no_further_need")
    assert set(error.value.errors) == {"reason"}
    assert words in error.value.errors["reason"].lower()
    assert reload(case).state == CaseState.ACTIVE


def test_close__no_further_need_with_a_home_base__the_record_names_it(org, nearby):
    case = open_case(org)
    home_base_record(actor=org.caseworker, case=case, organisation=nearby["same_district"])
    services.case_close(actor=org.caseworker, case=case, reason="no_further_need")
    assert reload(case).state == CaseState.CLOSED
    event = Event.objects.get(case=case, action="close")
    assert event.params["home_base"] == "Asukastalo Kulmakivi"


def test_close__other_reasons_need_no_home_base(org):
    case = open_case(org)
    services.case_close(actor=org.caseworker, case=case, reason="moved_away")
    assert Event.objects.get(case=case, action="close").params["home_base"] is None


def test_handover_summary__full_names_the_home_base_minimal_does_not(org, nearby):
    transfer = transfer_in_state(org, TransferState.PROPOSED, language="ara", postal_code="00700")
    home_base_record(actor=org.caseworker, case=transfer.case, organisation=nearby["same_district"])
    full = handover_summary(transfer, full=True)
    assert full["home_base"]["organisation"] == "Asukastalo Kulmakivi"
    assert "kumppani@example.org" in full["home_base"]["contact"]
    assert "home_base" not in handover_summary(transfer, full=False)


# Pages ------------------------------------------------------------------------------------


@pytest.fixture
def review_case(org):
    case = case_in_state(org, CaseState.IN_REVIEW, language="ara", postal_code="00700")
    review = open_review_of(case)
    work = review.assessments.get(criterion__code="study_work")
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=work,
        status=AssessmentStatus.NOT_MET,
        plan_action="Työkokeilu",
        plan_owner="Vastuutyöntekijä",
        plan_target_on=clock.today() + dt.timedelta(days=60),
    )
    return case


def test_review_page__suggests_and_records_the_home_base(client, org, nearby, review_case):
    review = open_review_of(review_case)
    client.force_login(org.caseworker)
    page = client.get(reverse("web:review", args=[review.pk])).content.decode()
    assert "Asukastalo Kulmakivi" in page and "Työpolku ry" in page
    assert "Opiskelu/työ" in page  # the criterion not met is a need
    assert "Kallion asukastalo" not in page.split('id="h-home-base"')[1].split("</section>")[0]
    posted = client.post(
        reverse("web:case-home-base", args=[review_case.pk]),
        {"homebase-back": "review", "homebase-organisation": str(nearby["same_district"].pk)},
    )
    assert posted.status_code == 302 and posted.url == reverse("web:review", args=[review.pk])
    assert HomeBase.objects.get(case=review_case).organisation == nearby["same_district"]
    assert AccessLog.objects.filter(
        actor=org.caseworker, case=review_case, action="web_transition"
    ).exists()


def test_review_page__neither__error_beside_the_field_typed_text_kept(client, org, review_case):
    review = open_review_of(review_case)
    client.force_login(org.caseworker)
    page = client.post(
        reverse("web:case-home-base", args=[review_case.pk]),
        {"homebase-back": "review", "homebase-organisation": "", "homebase-reason": ""},
    )
    text = page.content.decode()
    assert page.status_code == 400
    assert "Valitse kotipesä tai kirjoita, miksi asiakkaalla ei ole kotipesää." in text
    assert 'id="id_homebase-organisation_error"' in text
    assert reverse("web:review-assess", args=[review.pk]) in text  # the review page again
    assert not HomeBase.objects.exists()


def test_case_page__receiving_team_cannot_record(client, org, nearby):
    transfer = transfer_in_state(org, TransferState.ACCEPTED)
    client.force_login(org.receiving_worker)
    page = client.post(
        reverse("web:case-home-base", args=[transfer.case_id]),
        {"homebase-back": "case", "homebase-reason": "x"},
    )
    assert page.status_code in (403, 404)
    assert not HomeBase.objects.exists()


def test_case_page__close_no_further_need_without_home_base__error_beside_reason(client, org):
    case = open_case(org)
    client.force_login(org.caseworker)
    page = client.post(
        reverse("web:case-close", args=[case.pk]), {"close-reason": "no_further_need"}
    )
    assert page.status_code == 400
    assert "kotipesä" in page.content.decode()
    assert 'id="id_close-reason_error"' in page.content.decode()
    assert reload(case).state == CaseState.ACTIVE
