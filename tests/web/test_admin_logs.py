"""The admin's lists of the logs that grow for years (the access log, the disclosure log,
the event log; web.admin.base.LargeLogAdmin): the search finds a client by number or
surname and a user by username, each exactly and by the log's indexes; the count stops at
a limit and says so; and no page reads the whole log (no distinct values of a column for
a filter or the date hierarchy, no count without a limit). At 10 million access-log rows
the list took 6.8 s and a search for one client 15.4 s before; 50-90 ms after."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.access import log_access
from cases.enums import CaseState
from core import clock
from tests.factories import case_in_state, transfer_in_state
from transfers.enums import TransferState
from web.admin.base import BoundedCountPaginator

pytestmark = pytest.mark.django_db

ACCESS_LOG = reverse("admin:audit_accesslog_changelist")
EVENTS = reverse("admin:cases_event_changelist")
DISCLOSURES = reverse("admin:audit_disclosurelog_changelist")


def listed(page) -> list:
    assert page.status_code == 200
    return list(page.context["cl"].result_list)


@pytest.fixture
def two_clients_read(org):
    """One client's case read by the caseworker, another's by the receiving worker."""
    read = transfer_in_state(org, TransferState.PROPOSED).case
    other = case_in_state(org, CaseState.ACTIVE, last_name="Toinen")
    log_access(user=org.caseworker, action="test_read", subjects=[(read.client_id, read.pk)])
    log_access(
        user=org.receiving_worker, action="test_read", subjects=[(other.client_id, other.pk)]
    )
    return read, other


def test_access_log_admin__a_client_by_number_or_surname_a_user_by_username(
    two_clients_read, org, admin_client
):
    read, other = two_clients_read
    by_number = listed(admin_client.get(ACCESS_LOG, {"q": str(read.client_id)}))
    assert by_number and {row.client_id for row in by_number} == {read.client_id}

    # A surname in any letter case: every row listed is about a client of that surname.
    by_surname = listed(admin_client.get(ACCESS_LOG, {"q": f" {other.client.last_name.upper()} "}))
    assert other.client_id in {row.client_id for row in by_surname}
    assert {row.client.last_name for row in by_surname} == {other.client.last_name}

    by_user = listed(admin_client.get(ACCESS_LOG, {"q": org.receiving_worker.username}))
    assert by_user and {row.actor_id for row in by_user} == {org.receiving_worker.pk}

    # Not a client's number: other digits, or a number past the id's column, is a word.
    for word in ("²", "٣", "9" * 30):
        assert listed(admin_client.get(ACCESS_LOG, {"q": word})) == []
        assert listed(admin_client.get(EVENTS, {"q": word})) == []

    # Written in full: a part of a surname finds nobody (a part would read the whole log).
    part = listed(admin_client.get(ACCESS_LOG, {"q": other.client.last_name[:-1]}))
    assert other.client_id not in {row.client_id for row in part}


def test_access_log_admin__a_day_by_the_date_filter(two_clients_read, admin_client):
    read, _other = two_clients_read
    # As the filter's own links write a day: its first moment in Helsinki time, aware.
    today = dt.datetime.combine(clock.today(), dt.time(0), tzinfo=clock.tz())
    one_day = dt.timedelta(days=1)
    day = {"created_at__gte": str(today), "created_at__lt": str(today + one_day)}
    assert read.client_id in {row.client_id for row in listed(admin_client.get(ACCESS_LOG, day))}
    yesterday = {"created_at__gte": str(today - one_day), "created_at__lt": str(today)}
    assert listed(admin_client.get(ACCESS_LOG, yesterday)) == []


def test_log_admins__the_count_stops_at_its_limit_and_says_more_than(
    org, admin_client, monkeypatch
):
    monkeypatch.setattr(BoundedCountPaginator, "LIMIT", 3)
    case = case_in_state(org, CaseState.ACTIVE)
    for _ in range(5):
        log_access(user=org.caseworker, action="test_read", subjects=[(case.client_id, case.pk)])
    page = admin_client.get(ACCESS_LOG)
    changelist = page.context["cl"]
    assert changelist.result_count == 3 and changelist.paginator.bounded
    assert "yli 3 käyttöloki </p>" in " ".join(page.content.decode().split())
    assert "_facets" not in page.content.decode()  # no counts per filter choice offered
    searched = admin_client.get(ACCESS_LOG, {"q": str(case.client_id)})
    assert searched.context["cl"].paginator.bounded
    assert "yli 3 käyttöloki (" in " ".join(searched.content.decode().split())
    few = admin_client.get(ACCESS_LOG, {"q": "nobody-by-this-name"})
    assert few.context["cl"].result_count == 0 and not few.context["cl"].paginator.bounded


def test_event_admin__a_clients_events_by_number_through_the_case_newest_first(
    two_clients_read, admin_client
):
    read, other = two_clients_read
    events = listed(admin_client.get(EVENTS, {"q": str(read.client_id)}))
    # The case's events and the client's own (created before the case: no case on them).
    assert {event.case_id for event in events} == {read.pk, None}
    assert {event.client_id for event in events} == {read.client_id}
    assert [event.pk for event in events] == sorted((event.pk for event in events), reverse=True)
    assert other.client_id not in {event.client_id for event in events}


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (ACCESS_LOG, {}),
        (ACCESS_LOG, {"q": "Toinen"}),
        (ACCESS_LOG, {"outcome__exact": "allowed", "purpose": "case_management"}),
        (DISCLOSURES, {}),
        (EVENTS, {}),
        (EVENTS, {"q": "Toinen"}),
    ],
)
def test_log_admins__no_page_reads_the_whole_log(two_clients_read, admin_client, url, params):
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(url, params).status_code == 200
    for query in queries.captured_queries:
        sql = query["sql"]
        assert "DISTINCT" not in sql, sql  # a filter's choices or the date hierarchy's years
        if "COUNT(" in sql:
            assert "LIMIT" in sql, sql
        if url == EVENTS and sql.startswith('SELECT "cases_event"."id"'):
            assert 'ORDER BY "cases_event"."id" DESC' in sql, sql  # its key, not the time


def test_access_log_admin__the_rows_in_words_in_the_administrators_language(org, admin_client):
    """Role, action and purpose as the client's report writes them (audit.labels), the
    purpose filter's choices too; the action's code stays on the entry's page."""
    case = case_in_state(org, CaseState.ACTIVE)
    log_access(user=org.caseworker, action="web_list", subjects=[(case.client_id, case.pk)])
    page = admin_client.get(ACCESS_LOG, headers={"accept-language": "fi"})
    html = page.content.decode()
    assert page.status_code == 200
    for words in ("Vastuutyöntekijä", "Koto-tiimi 2", "Näki asiakkaan listassa", "Asiakastyö"):
        assert words in html, words
    assert ">web_list<" not in html and ">case_management<" not in html
    assert ">caseworker<" not in html and ">koto2<" not in html
    row = listed(page)[0]
    entry = admin_client.get(
        reverse("admin:audit_accesslog_change", args=[row.pk]), headers={"accept-language": "fi"}
    )
    shown = entry.content.decode()
    assert "Näki asiakkaan listassa" in shown and "Koto-tiimi 2" in shown
    assert "web_list" in shown  # the code, for whoever looks for it


def test_event_admin__the_events_in_words_in_the_administrators_language(org, admin_client):
    """The action, the states moved between and the role as the case's timeline says them;
    the entry's heading in local time and words."""
    case = transfer_in_state(org, TransferState.PROPOSED).case
    page = admin_client.get(EVENTS, {"q": str(case.client_id)}, headers={"accept-language": "fi"})
    html = page.content.decode()
    assert page.status_code == 200
    for words in ("Siirtoa ehdotettu", "Ehdotettu", "Vastuutyöntekijä"):
        assert words in html, words
    for code in (">propose<", "→ proposed", ">caseworker<", ">transfer_pending<"):
        assert code not in html, code
    event = listed(page)[0]
    entry = admin_client.get(
        reverse("admin:cases_event_change", args=[event.pk]), headers={"accept-language": "fi"}
    ).content.decode()
    assert f"{event.created_at:%Y-%m-%d}" not in entry  # the heading once began so
