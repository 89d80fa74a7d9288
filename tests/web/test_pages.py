"""The web app, page by page, through Django's test client: every role's pages render,
reads are access-logged, bad input stays beside its field, a stale action says what the
state is now, and nothing outside the user's scope shows."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from audit.access import PARTNER_LINK_USERNAME, partner_link_actor
from audit.models import AccessLog, AccessOutcome
from cases import services as case_services
from cases.enums import (
    CaseAction,
    CaseState,
    ClosureReason,
    ContactRequestAction,
    EventSubject,
    Role,
)
from cases.events import record_event
from cases.models import BookingHours, Case, Event
from core import clock
from criteria import services as criteria_services
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from notifications.models import Notification, NotificationKind
from partners.enums import PartnerAction
from tests.factories import (
    assess_all_met,
    case_in_state,
    handover_slot,
    member,
    open_case,
    reload,
    transfer_in_state,
)
from transfers import reminders as sweeps
from transfers import services
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def signed_in(user):
        client.force_login(user)
        return client

    return signed_in


def test_login_page_in_finnish_by_default(client):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'lang="fi"' in page.content.decode()
    assert "Kirjaudu" in page.content.decode()


def test_anonymous_user_is_sent_to_login(client):
    page = client.get(reverse("web:caseload"))
    assert page.status_code == 302
    assert page.url.startswith(reverse("login"))


def test_local_login_leads_to_the_users_own_page(client, org):
    page = client.post(
        reverse("login"), {"username": org.caseworker.username, "password": "pw"}, follow=True
    )
    assert page.redirect_chain[-1][0] == reverse("web:caseload")


def test_caseload_groups_by_urgency_with_counts_and_logs_the_read(web, org):
    due = case_in_state(org, CaseState.REVIEW_DUE)
    Case.objects.filter(pk=due.pk).update(review_due_on=clock.today() - dt.timedelta(days=5))
    case_in_state(org, CaseState.IN_REVIEW, first_name="Other")
    page = web(org.caseworker).get(reverse("web:caseload"))
    html = page.content.decode()
    assert page.status_code == 200
    assert page.context["group"] == "overdue"
    assert {k: n for k, _t, n in page.context["groups"]} == {
        "overdue": 1,
        "due": 0,
        "soon": 0,
        "in_review": 1,
        "pending": 0,
    }
    assert due.reference in html
    assert "5 päivää myöhässä" in html
    assert AccessLog.objects.filter(actor=org.caseworker, action="web_list", case=due).exists()


def test_case_page_shows_facts_timeline_and_logs_the_read(web, org):
    case = case_in_state(org, CaseState.REVIEW_DUE)
    page = web(org.caseworker).get(reverse("web:case", args=[case.pk]))
    html = page.content.decode()
    assert case.client.last_name in html
    assert "Arviointi tuli ajankohtaiseksi" in html  # the mark_due event, in Finnish
    assert AccessLog.objects.filter(actor=org.caseworker, action="web_read", case=case).exists()


def test_the_case_timeline_says_each_step_who_and_why_in_words(web, org):
    """A case closed without words of its own, a contact request linked to the client and a
    partner's answer through a referral's link: each in words, never the code or Silta's
    shared account."""
    case = case_in_state(org, CaseState.CLOSED)
    on_case = {"client_id": case.client_id, "case_id": case.pk}
    record_event(
        subject=EventSubject.CASE,
        action=CaseAction.CLOSE,
        actor=org.koto_supervisor,
        reason=ClosureReason.MOVED_AWAY,
        **on_case,
    )
    record_event(
        subject=EventSubject.CONTACT_REQUEST,
        action=ContactRequestAction.LINK,
        actor=org.caseworker,
        **on_case,
    )
    record_event(
        subject=EventSubject.CASE,
        action=PartnerAction.REFERRAL_ACCEPT,
        actor=partner_link_actor(),
        **on_case,
    )
    html = web(org.caseworker).get(reverse("web:case", args=[case.pk])).content.decode()
    for words in (
        "Asiakkuus päätetty",
        "Muuttanut pois",
        "Yhteydenottopyyntö liitetty asiakkaaseen",
        "Kumppanin yhteyshenkilö",
    ):
        assert words in html, words
    for code in ("moved_away", " link ", PARTNER_LINK_USERNAME):
        assert code not in html, code


def test_a_case_outside_the_users_teams_is_not_found_and_the_attempt_logged(web, org):
    case = case_in_state(org, CaseState.ACTIVE)
    page = web(org.outsider).get(reverse("web:case", args=[case.pk]))
    assert page.status_code == 404
    assert AccessLog.objects.filter(
        actor=org.outsider, case=case, outcome=AccessOutcome.DENIED
    ).exists()


def _checklist(review) -> list:
    return list(review.assessments.exclude(status="not_applicable").order_by("criterion__order"))


def test_not_met_without_a_plan_is_refused_beside_the_field_keeping_the_input(web, org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    assessment = _checklist(review)[0]
    prefix = f"a{assessment.pk}"
    page = web(org.caseworker).post(
        reverse("web:review-assess", args=[review.pk]),
        {f"{prefix}-status": "not_met", f"{prefix}-note": "Asuu tilapäisesti"},
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert "Kirjaa suunnitelma: mitä tehdään, jotta kriteeri täyttyy." in html
    assert f'id="id_{prefix}-plan_action_error"' in html
    assert "Asuu tilapäisesti" in html  # what the user typed is kept
    assert 'aria-invalid="true"' in html
    # The summary of errors takes focus and links to the field.
    assert 'id="checklist-errors"' in html and f'href="#id_{prefix}-plan_action"' in html
    assert reload(assessment).status == AssessmentStatus.UNASSESSED


def test_the_whole_checklist_in_one_form__a_mistake_corrected_and_nothing_lost(web, org):
    """Answers in several criteria, one of them wrong: nothing is saved, every answer comes
    back as typed; corrected, all are saved at once with one event each."""
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    first, second, third, *rest = _checklist(review)
    past = (clock.today() - dt.timedelta(days=1)).isoformat()
    data = {
        f"a{first.pk}-status": "met",
        f"a{first.pk}-note": "Vuokrasopimus nähty",
        f"a{second.pk}-status": "not_met",
        f"a{second.pk}-plan_action": "Kela-hakemus tehdään",
        f"a{second.pk}-plan_owner": "Asiakas",
        f"a{second.pk}-plan_target_on": past,  # the mistake
        f"a{third.pk}-status": "not_met",
        f"a{third.pk}-plan_action": "Kurssi haetaan",
    }
    browser = web(org.caseworker)
    page = browser.post(reverse("web:review-assess", args=[review.pk]), data)
    html = page.content.decode()
    assert page.status_code == 400
    assert "Suunnitelman tavoitepäivä ei voi olla menneisyydessä." in html
    assert f'id="id_a{second.pk}-plan_target_on_error"' in html
    for typed in ("Vuokrasopimus nähty", "Kela-hakemus tehdään", "Kurssi haetaan", past):
        assert typed in html
    assert f'id="id_a{first.pk}-status_0" checked' in html or (
        f'value="met" class="hds-radio-button__input" id="id_a{first.pk}-status_0" checked' in html
    )
    for assessment in (first, second, third):
        assert reload(assessment).status == AssessmentStatus.UNASSESSED  # all or nothing
    assert not Event.objects.filter(review=review, action="assess").exists()

    data[f"a{second.pk}-plan_target_on"] = (clock.today() + dt.timedelta(days=30)).isoformat()
    page = browser.post(reverse("web:review-assess", args=[review.pk]), data)
    assert page.status_code == 302
    assert reload(first).status == AssessmentStatus.MET
    assert reload(first).note == "Vuokrasopimus nähty"
    assert reload(second).plan_owner == "Asiakas"
    assert reload(third).status == AssessmentStatus.NOT_MET
    assert all(reload(a).status == AssessmentStatus.UNASSESSED for a in rest)
    assert Event.objects.filter(review=review, action="assess").count() == 3
    assert AccessLog.objects.filter(action="web_transition", case=case).exists()
    # Saved again unchanged: nothing is written.
    browser.post(reverse("web:review-assess", args=[review.pk]), data)
    assert Event.objects.filter(review=review, action="assess").count() == 3


def test_the_checklist_page__not_assessed_is_not_not_met(web, org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    html = web(org.caseworker).get(reverse("web:review", args=[review.pk])).content.decode()
    summary = html[html.index('id="readiness"') :]
    summary = summary[: summary.index("</section>")]
    # Before anything is assessed: every criterion is still to assess, none is "not met",
    # and no exception is needed.
    not_met = summary[summary.index("Ei täyty") :]
    assert not_met.split("<dd>")[1].startswith("–")
    exceptions = summary[summary.index("Tarvittavat poikkeukset") :]
    assert exceptions.split("<dd>")[1].startswith("–")
    assert html.count('type="submit" class="hds-button hds-button--primary"') >= 1
    assert html.count("Tallenna") >= 1


def test_review_page_shows_the_routed_team_and_proposes_to_it(web, org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    assess_all_met(org, case)
    review = open_review_of(case)
    worker = web(org.caseworker)
    page = worker.get(reverse("web:review", args=[review.pk]))
    assert page.context["routed_team"] == org.adult
    assert org.adult.name in page.content.decode()
    page = worker.post(
        reverse("web:review-propose", args=[review.pk]), {"propose-consent_basis": "consent"}
    )
    assert page.status_code == 302
    transfer = reload(case).transfers.get()
    assert (transfer.receiving_team, transfer.routed_team) == (org.adult, org.adult)
    assert AccessLog.objects.filter(action="web_transition", case=case).exists()


def test_ppt_coordinator_is_named_on_the_case_page(web, org):
    case = case_in_state(org, CaseState.IN_REVIEW, is_ppt=True)
    worker = web(org.caseworker)
    html = worker.get(reverse("web:case", args=[case.pk])).content.decode()
    assert "id_coordinator-coordinator" in html
    page = worker.post(
        reverse("web:case-coordinator", args=[case.pk]),
        {"coordinator-coordinator": "Vastaanottokeskus X"},
    )
    assert page.status_code == 302
    assert reload(case).ppt_coordinator == "Vastaanottokeskus X"


def test_closing_with_other_needs_an_explanation_beside_the_field(web, org):
    case = case_in_state(org, CaseState.ACTIVE)
    worker = web(org.caseworker)
    page = worker.post(reverse("web:case-close", args=[case.pk]), {"close-reason": "other"})
    assert page.status_code == 400
    assert "id_close-text_error" in page.content.decode()
    assert reload(case).state == CaseState.ACTIVE
    page = worker.post(
        reverse("web:case-close", args=[case.pk]),
        {"close-reason": "other", "close-text": "Muutti ulkomaille"},
    )
    assert page.status_code == 302
    assert reload(case).state == CaseState.CLOSED


def test_a_case_shown_again_after_bad_input_pages_its_timeline_at_the_case(web, org):
    """The close form's errors come back at the form's address (POST only): the timeline's
    next page must lead to the case page, not to that address (which would answer 405)."""
    case = case_in_state(org, CaseState.ACTIVE)
    for n in range(31):
        case = case_services.case_set_coordinator(
            actor=org.caseworker, case=case, coordinator=f"Vastaanottokeskus {n}"
        )
    worker = web(org.caseworker)
    page = worker.post(reverse("web:case-close", args=[case.pk]), {"close-reason": "other"})
    assert page.status_code == 400
    html = page.content.decode()
    case_url = reverse("web:case", args=[case.pk])
    assert f'href="{case_url}?page=2"' in html
    follow = worker.get(f"{case_url}?page=2")
    assert follow.status_code == 200
    assert "Sivu 2 / 2" in follow.content.decode()
    assert reload(case).state == CaseState.ACTIVE


def test_pages_are_served_with_a_content_security_policy(client):
    page = client.get(reverse("login"))
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "font-src 'self' https://makasiini.hel.fi" in policy
    assert "frame-ancestors 'none'" in policy


def test_the_root_is_the_web_app(client, org):
    client.force_login(org.receiving_worker)
    assert client.get("/").url == reverse("web:inbox")


def test_override_needs_a_reason_named_beside_the_field(web, org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    assess_all_met(org, case)
    review = open_review_of(case)
    page = web(org.caseworker).post(
        reverse("web:review-propose", args=[review.pk]),
        {"propose-receiving_team": org.other_adult.pk, "propose-override_reason": ""},
    )
    assert page.status_code == 400
    assert "id_propose-override_reason_error" in page.content.decode()
    assert reload(case).state == CaseState.IN_REVIEW
    page = web(org.caseworker).post(
        reverse("web:review-propose", args=[review.pk]),
        {
            "propose-receiving_team": org.other_adult.pk,
            "propose-override_reason": "Muuttaa",
            "propose-consent_basis": "consent",
        },
    )
    assert page.status_code == 302
    assert reload(case).transfers.get().receiving_team == org.other_adult


def test_accept_that_someone_else_made_first_says_the_current_state(web, org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    second = member(org.adult, Role.RECEIVING_WORKER)
    services.transfer_accept(actor=second, transfer=transfer, receiving_worker=second)
    events = Event.objects.count()
    page = web(org.receiving_worker).post(
        reverse("web:transfer-accept", args=[transfer.pk]),
        {"accept-receiving_worker": org.receiving_worker.pk},
        follow=True,
    )
    html = page.content.decode()
    assert "Joku muu ehti ensin" in html
    assert "Hyväksytty" in html
    assert Event.objects.count() == events
    assert reload(transfer).receiving_worker == second


@pytest.mark.parametrize(
    ("at", "said"),
    [
        # Monday 24.11.2026 at 15.00 Helsinki time: the desk's hours are over for the day.
        (dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC), "25.11.2026 klo 9.00"),
        # Within the hours: it goes at once, no time to tell.
        (dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC), None),
    ],
    ids=["after-hours", "within-hours"],
)
def test_accept__says_when_the_request_reaches_the_desk(web, org, at, said):
    BookingHours.objects.bulk_create(
        BookingHours(team=org.adult, weekday=day, opens_at=dt.time(9), closes_at=dt.time(11, 30))
        for day in range(5)
    )
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    with time_machine.travel(at, tick=False):
        page = web(org.receiving_worker).post(
            reverse("web:transfer-accept", args=[transfer.pk]),
            {"accept-receiving_worker": org.receiving_worker.pk},
            follow=True,
        )
    html = page.content.decode()
    assert reload(transfer).state == TransferState.ACCEPTED
    if said:
        assert f"seuraavana ajanvarausaikana {said}. FrontDesk varaa" in html
    else:
        assert "Siirto hyväksytty. FrontDesk varaa siirtotapaamisen." in html


def test_receiving_team_sees_only_a_summary_before_accepting(web, org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    html = web(org.receiving_worker).get(reverse("web:transfer", args=[transfer.pk])).content
    assert transfer.case.client.last_name not in html.decode()
    assert (
        web(org.receiving_worker).get(reverse("web:case", args=[transfer.case_id])).status_code
        == 404
    )


def test_front_desk_confirms_a_booking_with_an_error_beside_the_time(web, org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    desk = web(org.front_desk)
    assert transfer.case.reference in desk.get(reverse("web:desk")).content.decode()
    past = (clock.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page = desk.post(
        reverse("web:transfer-confirm", args=[transfer.pk]),
        {"confirm-starts_at": past, "confirm-place": "Malmi", "confirm-interpreter": "Tulkki 1"},
    )
    assert page.status_code == 400
    assert "id_confirm-starts_at_error" in page.content.decode()
    assert "Tulkki 1" in page.content.decode()
    future = handover_slot(days=3).strftime("%Y-%m-%dT%H:%M")
    page = desk.post(
        reverse("web:transfer-confirm", args=[transfer.pk]),
        {"confirm-starts_at": future, "confirm-place": "Malmi", "confirm-interpreter": "Tulkki 1"},
    )
    assert page.status_code == 302
    assert reload(transfer).state == TransferState.BOOKED


def test_a_role_that_may_not_act_gets_403_and_a_denied_row(web, org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    page = web(org.front_desk).post(
        reverse("web:transfer-accept", args=[transfer.pk]),
        {"accept-receiving_worker": org.receiving_worker.pk},
    )
    assert page.status_code == 403
    assert reload(transfer).state == TransferState.PROPOSED
    assert AccessLog.objects.filter(
        actor=org.front_desk, action="web_transition", outcome=AccessOutcome.DENIED
    ).exists()


def test_supervisor_pages_render_and_others_are_refused(web, org):
    case_in_state(org, CaseState.REVIEW_DUE)
    sup = web(org.koto_supervisor)
    for name in ("web:supervisor", "web:figures", "web:reassign"):
        assert sup.get(reverse(name)).status_code == 200, name
    assert web(org.caseworker).get(reverse("web:supervisor")).status_code == 403


def test_bulk_reassignment_moves_the_chosen_cases_with_an_event_each(web, org):
    first = case_in_state(org, CaseState.ACTIVE)
    second = case_in_state(org, CaseState.REVIEW_DUE, first_name="Toinen")
    newcomer = member(org.koto, Role.CASEWORKER)
    page = web(org.koto_supervisor).post(
        reverse("web:reassign"),
        {
            "team": org.koto.code,
            "from_worker": org.caseworker.pk,
            "to_worker": newcomer.pk,
            "cases": [first.pk, second.pk],
        },
    )
    assert page.status_code == 302
    assert reload(first).responsible_worker == newcomer
    assert reload(second).responsible_worker == newcomer
    assert Event.objects.filter(action="reassign").count() == 2


def test_notifications_inbox_lists_and_marks_read(web, org):
    case = case_in_state(org, CaseState.ACTIVE)
    Case.objects.filter(pk=case.pk).update(review_due_on=clock.today())
    sweeps.due_sweep()
    note = Notification.objects.get(recipient=org.caseworker, case_id=case.pk)
    inbox = web(org.caseworker)
    assert case.reference in inbox.get(reverse("web:notifications")).content.decode()
    inbox.post(reverse("web:notification-read", args=[note.pk]))
    assert reload(note).read_at is not None


def test_notifications_inbox__a_contact_request_notice_links_to_the_request(web, org):
    """A notice about neither a case nor a transfer (a contact request routed to the
    worker) leads to its own page by its reference; a link that is not Silta's own path is
    not made a link."""
    for reference, link in (("YP-000003", "/intake/3/"), ("YP-000004", "//example.org/x")):
        Notification.objects.create(
            recipient=org.caseworker,
            kind=NotificationKind.CONTACT_REQUEST_ROUTED,
            subject_key=f"contact:{reference}",
            on_date=clock.today(),
            reference=reference,
            link=link,
            created_at=clock.now(),
        )
    html = web(org.caseworker).get(reverse("web:notifications")).content.decode()
    assert '<a href="/intake/3/">YP-000003</a>' in html
    assert "example.org" not in html


def test_signed_in_pages_are_not_kept_by_browsers_or_proxies(web, org):
    case = case_in_state(org, CaseState.ACTIVE)
    page = web(org.caseworker).get(reverse("web:case", args=[case.pk]))
    assert "no-store" in page.headers["Cache-Control"]


def test_the_session_ends_with_the_browser(client, org, settings):
    client.post(reverse("login"), {"username": org.caseworker.username, "password": "pw"})
    assert client.cookies[settings.SESSION_COOKIE_NAME]["expires"] == ""


def test_supervisor_approves_an_exception_on_the_review_page(web, org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    housing = open_review_of(case).assessments.get(criterion__code="housing")
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=housing,
        status=AssessmentStatus.NOT_MET,
        plan_action="Asunnon haku",
    )
    review = housing.review
    worker_page = web(org.caseworker).get(reverse("web:review", args=[review.pk]))
    assert f"id_x{housing.pk}-justification" not in worker_page.content.decode()
    sup = web(org.koto_supervisor)
    assert (
        f"id_x{housing.pk}-justification"
        in sup.get(reverse("web:review", args=[review.pk])).content.decode()
    )
    page = sup.post(reverse("web:approve-exception", args=[housing.pk]), {})
    assert page.status_code == 400
    assert f"id_x{housing.pk}-justification_error" in page.content.decode()
    page = sup.post(
        reverse("web:approve-exception", args=[housing.pk]),
        {f"x{housing.pk}-justification": "Vuokrasopimus alkaa ensi kuussa"},
    )
    assert page.status_code == 302
    assert reload(housing).exception_approved_by == org.koto_supervisor


def test_receiving_team_returns_with_a_coded_reason(web, org):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    page = web(org.receiving_worker).post(
        reverse("web:transfer-return", args=[transfer.pk]),
        {"return-reason": "missing_information", "return-text": "Asumistiedot puuttuvat"},
    )
    assert page.status_code == 302
    transfer = reload(transfer)
    assert (transfer.state, transfer.return_reason) == (
        TransferState.RETURNED,
        "missing_information",
    )
    assert reload(transfer.case).state == CaseState.IN_REVIEW


def test_front_desk_records_a_no_show_and_the_booking_is_requested_again(web, org):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    page = web(org.front_desk).post(
        reverse("web:transfer-rebook", args=[transfer.pk]),
        {"rebook-outcome": "no_show", "rebook-reason": ""},
    )
    assert page.status_code == 302
    assert reload(transfer).state == TransferState.BOOKING_REQUESTED
    assert transfer.bookings.filter(status="no_show").count() == 1


def test_marking_read_never_redirects_to_another_site(web, org):
    case = case_in_state(org, CaseState.ACTIVE)
    Case.objects.filter(pk=case.pk).update(review_due_on=clock.today())
    sweeps.due_sweep()
    note = Notification.objects.get(recipient=org.caseworker, case_id=case.pk)
    page = web(org.caseworker).post(
        reverse("web:notification-read", args=[note.pk]), {"next": "https://evil.example/"}
    )
    assert page.url == reverse("web:notifications")


def test_a_failed_sign_in_is_logged_without_the_password(client, org, caplog):
    client.post(reverse("login"), {"username": org.caseworker.username, "password": "wrong1"})
    assert f"sign-in failed for '{org.caseworker.username}'" in caplog.text
    assert "wrong1" not in caplog.text


def test_supervisor_page__busiest_week__renders_stalled_exception_and_cap(web, org):
    stalled = transfer_in_state(org, TransferState.PROPOSED, first_name="Siirto")
    overdue = case_in_state(org, CaseState.REVIEW_DUE, first_name="Myohassa")
    excepted = case_in_state(org, CaseState.IN_REVIEW, first_name="Poikkeus")
    housing = open_review_of(excepted).assessments.get(criterion__code="housing")
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=housing,
        status=AssessmentStatus.NOT_MET,
        plan_action="Asunnon haku",
    )
    capped = open_case(org, started_months_ago=61, first_name="Katto")
    with time_machine.travel(clock.now() + dt.timedelta(days=14)):
        page = web(org.koto_supervisor).get(reverse("web:supervisor"))
    assert page.status_code == 200
    body = page.content.decode()
    sections = {
        "h-overdue": overdue,
        "h-stalled": stalled.case,
        "h-exceptions": excepted,
        "h-cap": capped,
    }
    for heading, case in sections.items():
        section = body.split(f'id="{heading}"', 1)[1].split("</section>", 1)[0]
        assert case.reference in section, heading
        assert AccessLog.objects.filter(
            actor=org.koto_supervisor, action="web_list", case=case
        ).exists(), heading
