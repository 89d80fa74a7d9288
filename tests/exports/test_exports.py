"""A supervisor's lists and figures as CSV and XLSX: parsed back, in the user's language,
one access-log row per client in the file; the other roles refused; a large export
prepared by a real worker, downloaded by its maker only, logged, and gone when it expires.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AccessLog, AccessOutcome
from cases.enums import CaseState, Role
from core import clock
from criteria import services as criteria_services
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from exports import services as export_services
from exports.models import ExportFile, ExportStatus
from notifications.models import Notification, NotificationKind
from tests.factories import case_in_state, make_org, member, open_case, transfer_in_state
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db

LATER = dt.timedelta(days=14)  # the transfers have stalled, the plans are past their date


@pytest.fixture
def web(client):
    def signed_in(user, language="en"):
        client.force_login(user)
        client.cookies["django_language"] = language
        return client

    return signed_in


def _review_not_met(org, case, *, target=None, code="housing"):
    review = open_review_of(case)
    for assessment in review.assessments.select_related("criterion"):
        if assessment.status == AssessmentStatus.NOT_APPLICABLE:
            continue
        not_met = assessment.criterion.code == code
        criteria_services.assessment_update(
            actor=org.caseworker,
            assessment=assessment,
            status=AssessmentStatus.NOT_MET if not_met else AssessmentStatus.MET,
            # a formula, and control characters a worker's paste can bring (XML has none)
            plan_action='=HYPERLINK("x")\x0b\x1b' if not_met else "",
            plan_target_on=target if not_met else None,
        )
    return review


def busy_lists(org):
    """A row in every supervisor list, each a client of its own: {list: [case, ...]}."""
    overdue = case_in_state(org, CaseState.REVIEW_DUE, last_name="Overdue")
    stalled = transfer_in_state(org, TransferState.PROPOSED, last_name="Stalled").case
    exception = case_in_state(org, CaseState.IN_REVIEW, last_name="Exception")
    _review_not_met(org, exception)
    capped = open_case(org, started_months_ago=61, last_name="Capped")
    extension = case_in_state(org, CaseState.IN_REVIEW, last_name="Extension")
    review = _review_not_met(org, extension, code="finances")
    criteria_services.extension_request(
        actor=org.caseworker,
        review=review,
        next_review_on=extension.integration_started_on + relativedelta(months=42),
        reason="Kela decision pending",
    )
    plan = case_in_state(org, CaseState.IN_REVIEW, last_name="Plan")
    _review_not_met(org, plan, target=clock.today() + dt.timedelta(days=3), code="finances")
    return {
        # in review with an overdue date too: the overdue list holds every review not done
        "overdue": [overdue, exception, extension, plan],
        "stalled": [stalled],
        "exceptions": [exception],
        "cap": [capped],
        "extensions": [extension],
        "plans": [plan],
    }


def parse(response, format, language):
    """The header row and the rows, whatever the format."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if format == "csv":
        assert body.startswith("\ufeff".encode())
        text = body.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text), delimiter="," if language == "en" else ";"))
        return rows[0], rows[1:], None
    sheet = load_workbook(io.BytesIO(body)).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    return rows[0], rows[1:], sheet


HEADERS = {
    "overdue": {
        "en": ["Case", "Team", "Worker", "Review due", "Days overdue", "State"],
        "fi": [
            "Asiakkuus",
            "Tiimi",
            "Työntekijä",
            "Arvioinnin määräpäivä",
            "Myöhässä (päivää)",
            "Tila",
        ],
        "sv": [
            "Klientrelation",
            "Team",
            "Arbetstagare",
            "Datum för bedömning",
            "Försenad (dagar)",
            "Status",
        ],
    },
    "stalled": {
        "en": ["Case", "From", "To", "Waiting for", "Since", "Working days waited"],
        "fi": [
            "Asiakkuus",
            "Lähettävä tiimi",
            "Vastaanottava tiimi",
            "Odottaa",
            "Alkaen",
            "Odottanut (työpäivää)",
        ],
        "sv": ["Klientrelation", "Från", "Till", "Väntar på", "Sedan", "Väntat (arbetsdagar)"],
    },
    "plans": {
        "en": [
            "Case",
            "Client",
            "Criterion",
            "Plan",
            "Who does it",
            "By when",
            "Responsible worker",
        ],
        "fi": [
            "Asiakkuus",
            "Asiakas",
            "Kriteeri",
            "Suunnitelma",
            "Kuka tekee",
            "Mihin mennessä",
            "Vastuutyöntekijä",
        ],
        "sv": [
            "Klientrelation",
            "Klient",
            "Kriterium",
            "Plan",
            "Vem gör det",
            "Till när",
            "Ansvarig arbetstagare",
        ],
    },
}
FIRST = {"en": "Case", "fi": "Asiakkuus", "sv": "Klientrelation"}
STATES = {"en": "Review due", "fi": "Arviointi ajankohtainen", "sv": "Bedömning aktuell"}


def written(day: dt.date, language: str) -> str:
    if language == "en":
        return f"{day.day} {day:%B} {day.year}"
    return f"{day.day}.{day.month}.{day.year}"


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_export__exceptions__each_review_names_its_waiting_criteria_in_the_users_language(
    web, org, language
):
    """Housing not met (an exception possible, none approved) is named; finances, not met
    in the same review but without an exception to ask for, and the criteria met are not."""
    case = case_in_state(org, CaseState.IN_REVIEW, last_name="Exception")
    review = _review_not_met(org, case)
    finances = review.assessments.get(criterion__code="finances")
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=finances,
        status=AssessmentStatus.NOT_MET,
        plan_action="Kela-hakemus",
    )
    housing = review.assessments.select_related("criterion").get(criterion__code="housing")
    assert not finances.criterion.exception_allowed and housing.criterion.exception_allowed
    response = web(org.koto_supervisor, language).get(
        reverse("web:export", args=["exceptions"]) + "?format=csv"
    )
    _headers, rows, _sheet = parse(response, "csv", language)
    assert [(row[0], row[-1]) for row in rows] == [
        (case.reference, getattr(housing.criterion, f"name_{language}"))
    ]


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
@pytest.mark.parametrize("format", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", ["overdue", "stalled", "exceptions", "cap", "extensions", "plans"])
def test_export__each_list__its_rows_in_the_users_language_and_a_log_row_per_client(
    web, org, kind, format, language
):
    cases = busy_lists(org)
    with time_machine.travel(clock.now() + LATER):
        response = web(org.koto_supervisor, language).get(
            reverse("web:export", args=[kind]) + f"?format={format}"
        )
        on = clock.today()
    assert response.status_code == 200
    assert f"silta-{kind}-" in response["Content-Disposition"]
    headers, rows, sheet = parse(response, format, language)
    assert headers[0] == FIRST[language]
    if kind in HEADERS:
        assert headers == HEADERS[kind][language]
    assert sorted(row[0] for row in rows) == sorted(c.reference for c in cases[kind])
    assert all(len(row) == len(headers) for row in rows)
    logged = AccessLog.objects.filter(
        actor=org.koto_supervisor, action="export", outcome=AccessOutcome.ALLOWED
    )
    assert sorted(logged.values_list("client_id", flat=True)) == sorted(
        c.client_id for c in cases[kind]
    ), "one row per client in the file, no more"
    if kind == "overdue":
        (row,) = [r for r in rows if r[0] == cases["overdue"][0].reference]
        due = cases["overdue"][0].review_due_on
        assert row[1] == "Koto-tiimi 2"
        assert row[5] == STATES[language]
        if format == "csv":
            assert row[3] == written(due, language)
            assert row[4] == str((on - due).days)
        else:
            assert row[3].date() == due and row[4] == (on - due).days
            cell = sheet.cell(row=rows.index(row) + 2, column=4)
            assert cell.number_format == ("d mmmm yyyy" if language == "en" else "d.m.yyyy")
    if kind == "plans":
        (row,) = rows
        assert row[1] == "Plan, Amina"
        # a plan that looks like a formula stays text; XLSX leaves the control characters
        # out (the file is still written), CSV keeps what was typed
        if format == "csv":
            assert row[3] == "'" + '=HYPERLINK("x")\x0b\x1b'
        else:
            assert row[3] == '=HYPERLINK("x")'


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_export__figures__every_figure_in_the_users_language_without_client_data(
    web, org, format, language
):
    transfer_in_state(org, TransferState.COMPLETED, last_name="Moved")
    case_in_state(org, CaseState.REVIEW_DUE)
    response = web(org.koto_supervisor, language).get(
        reverse("web:export", args=["figures"]) + f"?format={format}&months=3"
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    titles = {
        "en": ["Where cases are now", "Time in each case state", "Caseload per worker"],
        "fi": [
            "Missä asiakkuudet ovat nyt",
            "Aika kussakin asiakkuuden tilassa",
            "Asiakkuudet työntekijää kohden",
        ],
        "sv": [
            "Var klientrelationerna är nu",
            "Tid i varje status för klientrelationen",
            "Klientrelationer per arbetstagare",
        ],
    }[language]
    if format == "csv":
        text = body.decode("utf-8-sig")
        for title in titles:
            assert f"\r\n{title}\r\n" in text or text.startswith(title), title
        assert "Moved" not in text and "Amina" not in text
    else:
        book = load_workbook(io.BytesIO(body))
        names = book.sheetnames
        for title in titles:
            assert title[:31] in names, (title, names)
        caseload = book[titles[2][:31]]
        rows = list(caseload.iter_rows(values_only=True))
        assert rows[1][2] == 1  # the open case (the transferred one is not carried)
    assert not AccessLog.objects.filter(action="export").exists()


@pytest.mark.parametrize(
    "kind", ["overdue", "stalled", "exceptions", "cap", "extensions", "plans", "figures"]
)
def test_export__other_roles__refused_with_403(web, org, kind):
    for user in (org.caseworker, org.receiving_worker, org.front_desk):
        response = web(user).get(reverse("web:export", args=[kind]) + "?format=xlsx")
        assert response.status_code == 403, user
    assert not AccessLog.objects.filter(action="export").exists()


def test_export__another_teams_supervisor__sees_none_of_this_teams_rows(web, org):
    busy_lists(org)
    response = web(org.outsider).get(reverse("web:export", args=["overdue"]))
    _headers, rows, _sheet = parse(response, "csv", "en")
    assert rows == []


def test_export__unknown_list_or_format__404(web, org):
    sup = web(org.koto_supervisor)
    assert sup.get(reverse("web:export", args=["clients"])).status_code == 404
    assert sup.get(reverse("web:export", args=["overdue"]) + "?format=pdf").status_code == 404


def test_export__overdue_filters__as_on_the_page(web, org):
    cases = busy_lists(org)
    response = web(org.koto_supervisor).get(
        reverse("web:export", args=["overdue"]) + f"?worker=nobody&team={org.koto.code}"
    )
    assert parse(response, "csv", "en")[1] == []
    assert cases


def _wait_for(export_id, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        export = ExportFile.objects.get(pk=export_id)
        if export.status != ExportStatus.PENDING:
            return export
        time.sleep(0.2)
    raise AssertionError("the worker did not prepare the export")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_export__over_the_threshold__prepared_by_the_worker_and_for_its_maker_only(
    client, celery_worker, settings, tmp_path, format
):
    settings.SILTA_EXPORT_TASK_ROWS = 2
    settings.SILTA_EXPORT_DIR = str(tmp_path)
    org = make_org()
    cases = [case_in_state(org, CaseState.REVIEW_DUE, last_name=f"Many{i}") for i in range(3)]
    client.force_login(org.koto_supervisor)
    client.cookies["django_language"] = "fi"
    response = client.get(reverse("web:export", args=["overdue"]) + f"?format={format}")
    assert response.status_code == 302
    export = _wait_for(ExportFile.objects.get(user=org.koto_supervisor).pk)
    assert export.status == ExportStatus.READY and export.rows == 3
    assert export.expires_at == export.ready_at + dt.timedelta(hours=settings.SILTA_EXPORT_HOURS)
    made = AccessLog.objects.filter(actor=org.koto_supervisor, action="export")
    assert sorted(made.values_list("client_id", flat=True)) == sorted(c.client_id for c in cases)
    note = Notification.objects.get(
        recipient=org.koto_supervisor, kind=NotificationKind.EXPORT_READY
    )
    assert note.link == reverse("web:export-download", args=[export.pk])
    assert note.reference == "" and note.case_id is None  # a link only

    # another supervisor, even of the same team, cannot download it
    other = member(org.koto, Role.SUPERVISOR)
    client.force_login(other)
    assert client.get(note.link).status_code == 404
    assert not AccessLog.objects.filter(actor=other, action="export_download").exists()

    client.force_login(org.koto_supervisor)
    response = client.get(note.link)
    assert response.status_code == 200
    headers, rows, _sheet = parse(response, format, "fi")
    assert headers == HEADERS["overdue"]["fi"]
    assert sorted(row[0] for row in rows) == sorted(c.reference for c in cases)
    downloaded = AccessLog.objects.filter(actor=org.koto_supervisor, action="export_download")
    assert sorted(downloaded.values_list("client_id", flat=True)) == sorted(
        c.client_id for c in cases
    )

    # its time is up
    ExportFile.objects.filter(pk=export.pk).update(expires_at=clock.now() - dt.timedelta(seconds=1))
    gone = client.get(note.link)
    assert gone.status_code == 410
    assert "no longer available" not in gone.content.decode()  # in Finnish
    assert "Tiedosto ei ole enää saatavilla" in gone.content.decode()
    assert export_services.exports_purge() == 1
    assert not ExportFile.objects.exists() and not list(tmp_path.iterdir())


def test_export__maker_no_longer_a_supervisor__the_prepared_export_fails(org, settings, tmp_path):
    settings.SILTA_EXPORT_DIR = str(tmp_path)
    export = ExportFile.objects.create(
        user=org.caseworker, kind="overdue", format="csv", language="fi", created_at=clock.now()
    )
    done = export_services.export_build(export_id=str(export.pk))
    assert done.status == ExportStatus.FAILED
    assert not list(tmp_path.iterdir())
    assert not Notification.objects.filter(kind=NotificationKind.EXPORT_READY).exists()


def test_export__a_pending_export__says_it_is_being_prepared(web, org, settings, tmp_path):
    settings.SILTA_EXPORT_DIR = str(tmp_path)
    export = ExportFile.objects.create(
        user=org.koto_supervisor, kind="cap", format="xlsx", language="en", created_at=clock.now()
    )
    page = web(org.koto_supervisor).get(reverse("web:export-download", args=[export.pk]))
    assert page.status_code == 200
    assert "still being prepared" in page.content.decode()
