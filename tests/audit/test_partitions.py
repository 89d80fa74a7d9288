"""The access log partitioned by month (audit/partitions.py, migration 0005): every partition
is as append-only as the log, months are made ahead, months past the retention period are
archived with their rows, and the client's report is a PDF for the client's supervisor."""

# ruff: noqa: S608 -- the SQL names only this module's own table names

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from audit import db_roles, partitions
from audit.access import (
    PURPOSE_BOOKING,
    PURPOSE_CASE_MANAGEMENT,
    PURPOSE_CLIENT_NOTICE,
    log_access,
)
from audit.models import AccessLog, AccessOutcome
from audit.report import client_report_pdf, client_rows
from core import clock
from tests import database
from tests.factories import open_case

pytestmark = pytest.mark.django_db
MUST_BE_OWNER = "must be owner of (table|relation)"


def month_name(day: dt.date) -> str:
    return f"audit_accesslog_{day:%Y_%m}"


def current_partition() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')")
        return f"audit_accesslog_{cursor.fetchone()[0]}"


def test_the_log_is_partitioned_by_month_with_the_months_ahead_made():
    assert partitions.is_partitioned()
    names = [name for name, _month in partitions.months()]
    first = dt.datetime.now(dt.UTC).date().replace(day=1)
    ahead = [first]
    for _ in range(partitions.MONTHS_AHEAD):
        ahead.append((ahead[-1] + dt.timedelta(days=32)).replace(day=1))
    assert {month_name(day) for day in ahead} <= set(names)
    assert "audit_accesslog_default" in db_roles.log_partitions(connection)


def test_a_row_lands_in_its_months_partition_and_every_partition_has_the_triggers(org):
    case = open_case(org)
    log_access(user=org.caseworker, action="view", subjects=[(case.client_id, case.pk)])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM audit_accesslog WHERE case_id = %s", [case.pk]
        )
        assert cursor.fetchone()[0] == current_partition()
        cursor.execute(
            """
            SELECT c.relname::text, array_agg(f.proname::text ORDER BY f.proname)
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_trigger g ON g.tgrelid = c.oid AND g.tgenabled <> 'D'
            JOIN pg_proc f ON f.oid = g.tgfoid
                AND f.proname IN ('silta_database_time', 'silta_refuse_change')
            WHERE i.inhparent = 'audit_accesslog'::regclass GROUP BY 1
            """
        )
        triggers = dict(cursor.fetchall())
    assert set(triggers) == set(db_roles.log_partitions(connection))
    assert {tuple(names) for names in triggers.values()} == {
        ("silta_database_time", "silta_refuse_change")
    }


def refused(statement: str, params=None, *, match: str) -> None:
    with (
        pytest.raises(DatabaseError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)


def test_the_apps_role_can_do_nothing_to_a_partition(org):
    """The app writes and reads through the log; a partition named directly refuses it
    everything, and the owner's privileges (DROP, DETACH, DISABLE TRIGGER) it never has."""
    case = open_case(org)
    log_access(user=org.caseworker, action="view", subjects=[(case.client_id, case.pk)])
    row = AccessLog.objects.get(case=case)
    part = current_partition()
    for statement, match in [
        (f"SELECT * FROM {part}", "permission denied"),
        (f"UPDATE {part} SET action = 'rewritten' WHERE id = %s", "permission denied"),
        (f"DELETE FROM {part} WHERE id = %s", "permission denied"),
        (f"TRUNCATE {part}", "permission denied"),
        (
            f"INSERT INTO {part} (actor_id, actor_role, actor_team, action, purpose, outcome, "
            "request_id, created_at) VALUES (%s, '', '', 'x', 'y', 'allowed', '', "
            "now() - interval '1 day')",
            "permission denied",
        ),
        (f"DROP TABLE {part}", MUST_BE_OWNER),
        (f"ALTER TABLE {part} DISABLE TRIGGER ALL", MUST_BE_OWNER),
        (f"ALTER TABLE audit_accesslog DETACH PARTITION {part}", MUST_BE_OWNER),
        ("ALTER TABLE audit_accesslog DETACH PARTITION audit_accesslog_default", MUST_BE_OWNER),
        (
            "CREATE TABLE silta_attack PARTITION OF audit_accesslog "
            "FOR VALUES FROM ('1990-01-01') TO ('1990-02-01')",
            "permission denied",
        ),
    ]:
        params = [row.actor_id if "INSERT" in statement else row.pk] if "%s" in statement else None
        refused(statement, params, match=match)
    assert db_roles.privilege_problems(connection, settings.SILTA_DATABASE_APP["USER"]) == []
    # Back-dating through the log lands nowhere either: the trigger refuses it.
    refused(
        "INSERT INTO audit_accesslog (actor_id, actor_role, actor_team, action, purpose, "
        "outcome, request_id, created_at) VALUES (%s, '', '', 'x', 'y', 'allowed', '', "
        "now() - interval '40 days')",
        [row.actor_id],
        match="created_at is the database's time",
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_even_the_owner_is_refused_update_and_delete_on_a_partition(org):
    import psycopg

    case = open_case(org)
    log_access(user=org.caseworker, action="view", subjects=[(case.client_id, case.pk)])
    part = current_partition()
    with database.owner_connection() as conn:
        for statement in (f"UPDATE {part} SET action = 'x'", f"DELETE FROM {part}"):
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(statement)


def test_the_first_kept_month_counts_whole_months_back():
    assert partitions.first_kept_month(dt.date(2026, 11, 30), 144) == dt.date(2014, 11, 1)
    assert partitions.first_kept_month(dt.date(2026, 1, 1), 1) == dt.date(2025, 12, 1)
    assert partitions.first_kept_month(dt.date(2026, 1, 31), 13) == dt.date(2024, 12, 1)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_month_past_retention_is_archived_with_its_rows_not_deleted(org, owner_sql):
    """The command detaches the month into audit_archive: the rows are all there, out of
    the app's reach, and the log goes on answering for the months it keeps."""
    case = open_case(org)
    old = "audit_accesslog_2012_01"
    owner_sql(
        f"CREATE TABLE {old} PARTITION OF audit_accesslog "
        "FOR VALUES FROM ('2012-01-01 00:00+00') TO ('2012-02-01 00:00+00')",
        undo_with=f"DROP TABLE IF EXISTS {old}; DROP TABLE IF EXISTS audit_archive.{old}",
    )
    # A row of 2012, as it was written then (the owner, skipping the time trigger once).
    owner_sql(
        "BEGIN; SET LOCAL session_replication_role = replica; "
        "INSERT INTO audit_accesslog (actor_id, actor_role, actor_team, action, purpose, "
        f"outcome, request_id, client_id, created_at) VALUES ({org.caseworker.pk}, '', '', "
        f"'view', 'p', 'allowed', '', {case.client_id}, '2012-01-15 10:00+00'); COMMIT"
    )
    assert AccessLog.objects.filter(created_at__year=2012).count() == 1
    call_command("accesslog_partitions", verbosity=0)
    assert AccessLog.objects.filter(created_at__year=2012).count() == 0
    assert old not in [name for name, _ in partitions.months()]
    with database.owner_connection() as conn:
        assert conn.execute(f"SELECT count(*) FROM audit_archive.{old}").fetchone()[0] == 1
    refused(f"SELECT * FROM audit_archive.{old}", match="permission denied for schema")


def test_the_retention_period_is_a_setting(settings):
    settings.SILTA_ACCESS_LOG_RETENTION_MONTHS = 36
    assert partitions.retention_months() == 36


# The client's own report ----------------------------------------------------------------


def signed_in(client, user):
    client.force_login(user)
    return client


def test_a_supervisor_gets_the_clients_log_as_a_pdf_and_the_making_is_logged(org, client):
    case = open_case(org)
    log_access(user=org.caseworker, action="view", subjects=[(case.client_id, case.pk)])
    url = reverse("web:client-access-report", args=[case.client_id])
    response = signed_in(client, org.koto_supervisor).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    made = AccessLog.objects.get(actor=org.koto_supervisor, action="access_report")
    assert (made.client_id, made.outcome) == (case.client_id, AccessOutcome.ALLOWED)
    # The report lists every row about the client, its own making included.
    actions = [row["action"] for row in client_rows(case.client_id)]
    assert "view" in actions and actions[-1] == "access_report"


def test_the_report_is_refused_to_a_caseworker_and_to_another_teams_supervisor(org, client):
    case = open_case(org)
    url = reverse("web:client-access-report", args=[case.client_id])
    assert signed_in(client, org.caseworker).get(url).status_code == 403
    assert signed_in(client, org.outsider).get(url).status_code == 404
    denied = AccessLog.objects.get(actor=org.outsider, action="access_report")
    assert (denied.client_id, denied.outcome) == (case.client_id, AccessOutcome.DENIED)


def test_the_report_reads_only_the_clients_rows_since_a_time(org):
    case = open_case(org)
    log_access(user=org.caseworker, action="view", subjects=[(case.client_id, case.pk)])
    assert len(client_rows(case.client_id)) >= 1
    later = clock.now() + dt.timedelta(days=1)
    assert client_rows(case.client_id, since=later) == []


def pdf_text(pdf: bytes) -> str:
    """The PDF's text, its wrapped lines joined (a label may wrap in its column)."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


# What the rows below record, as codes; none of them may reach the client's report.
REPORTED = [
    ("web_read", PURPOSE_CASE_MANAGEMENT),
    ("web_list", PURPOSE_CASE_MANAGEMENT),
    ("api_list", PURPOSE_CASE_MANAGEMENT),
    ("admin_view", PURPOSE_CASE_MANAGEMENT),
    ("export", PURPOSE_CASE_MANAGEMENT),
    ("task_booking_send", PURPOSE_BOOKING),
    ("task_client_sms_reminder", PURPOSE_CLIENT_NOTICE),
]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "fi",
            [
                "Asiakkaan Şükrü Đặng käyttöloki",
                "Vastuutyöntekijä",
                "Koto-tiimi 2",
                "Avasi asiakkaan tiedot",
                "Näki asiakkaan listassa rajapinnan kautta",
                "Avasi asiakkaan tiedot pääkäyttäjänä",
                "Vei asiakkaan tiedot tiedostoon",
                "Silta lähetti siirtotapaamisen ajanvarauksen ajanvarausjärjestelmään",
                "Silta lähetti asiakkaalle tekstiviestin siirtotapaamisesta",
                "Asiakastyö",
                "Siirtotapaamisen ajanvaraus",
                "Ilmoitus asiakkaalle",
                "Laatinut Esi Henkilö 1.12.2026 klo 10.00",
                "Sallittu",
            ],
        ),
        (
            "sv",
            [
                "Ansvarig arbetstagare",
                "Öppnade klientens uppgifter",
                "Klientarbete",
                "Meddelande till klienten",
            ],
        ),
        (
            "en",
            [
                "Caseworker",
                "Opened the client's data",
                "Saw the client in a list through the interface",
                "Case work",
                "Booking the handover meeting",
            ],
        ),
    ],
)
def test_the_report_says_who_did_what_and_why_in_words_never_in_codes(org, language, words):
    """The report is handed to the client: each row's role, team, action and purpose are
    written out in the reader's language, and a name in Turkish or Vietnamese letters is
    drawn (the embedded font), as a supervisor can hand it over."""
    case = open_case(org)
    for action, purpose in REPORTED:
        log_access(
            user=org.caseworker,
            action=action,
            purpose=purpose,
            subjects=[(case.client_id, case.pk)],
        )
    with translation.override(language):
        pdf = client_report_pdf(
            client_name="Şükrü Đặng",
            client_id=case.client_id,
            made_by="Esi Henkilö",
            now=dt.datetime(2026, 12, 1, 10, 0, tzinfo=clock.tz()),
            team_names={org.koto.code: org.koto.name},
        )
    text = pdf_text(pdf)
    for word in words:
        assert word in text, (language, word)
    codes = {code for row in REPORTED for code in row} | {"caseworker", org.koto.code}
    assert not [code for code in codes if code in text], language
    fonts = {
        str(font["/BaseFont"])
        for page in PdfReader(io.BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].get_object().values()
    }
    assert fonts and all("DejaVuSans" in name for name in fonts), fonts


def test_markup_in_a_name_is_printed_as_typed_not_read(org):
    case = open_case(org)
    pdf = client_report_pdf(
        client_name="Anna <b>& Co",
        client_id=case.client_id,
        made_by="A & B <i>",
        now=clock.now(),
    )
    text = pdf_text(pdf)
    assert "Anna <b>& Co" in text and "A & B <i>" in text
