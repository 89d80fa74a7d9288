"""The caseload search over 100,000 clients, against a raw indexed query in the same run.

The page: GET /cases/?q=... as a caseworker of the team that holds every case, through
the whole stack (session, scope, the search's parsing, the count for the pages, 25 rows,
one access-log row per client shown, the template). The baseline: a raw cursor fetching
the same 25 rows with the same indexes (the trigram index on the folded name, the unique
index on the identity code), and nothing else. Median of interleaved runs; the ratio is
page / raw.

Usage: make bench (or: scripts/with-postgres.sh scripts/with-redis.sh
       .venv/bin/python bench/search.py [CLIENTS])
"""

from __future__ import annotations

import sys

from common import interleaved, report, setup_django

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000

FIRST = [
    "Päivi",
    "Aino",
    "Ahmed",
    "Amina",
    "Jyrki",
    "Sara",
    "Hodan",
    "Mikael",
    "Leila",
    "Omar",
    "Maryam",
    "Yusuf",
    "Helmi",
    "Väinö",
    "Fatima",
    "Ali",
    "Kerttu",
    "Abdi",
    "Noor",
    "Eero",
    "Zahra",
    "Hassan",
    "Ilona",
    "Tuomas",
    "Layla",
    "Karim",
    "Sanna",
    "Bilal",
    "Aaro",
    "Hiba",
]
LAST = [
    "Mäkinen",
    "Virtanen",
    "Hämäläinen",
    "Korhonen",
    "Nieminen",
    "Mäkelä",
    "Järvinen",
    "Lehtonen",
    "Heikkinen",
    "Koskinen",
    "Mohamed",
    "Hussein",
    "Ahmadi",
    "Karimi",
    "Osman",
    "Jääskeläinen",
    "Räsänen",
    "Laaksonen",
    "Salonen",
    "Söderberg",
    "Rahimi",
    "Yusuf",
    "Abdullahi",
    "Haddad",
    "Nguyen",
    "Kallio",
    "Väisänen",
    "Hakala",
    "Öhman",
    "Åberg",
    "Saarinen",
    "Ylönen",
    "Pääkkönen",
    "Törmä",
    "Karjalainen",
    "Ali",
    "Farah",
    "Omar",
    "Hassan",
    "Nurmi",
]
NAME_QUERY = "paivi makinen"  # typed without the dots
CODE = "010594Y123W"


def load(connection):
    from django.contrib.auth import get_user_model

    from cases.enums import Role, TeamKind
    from cases.models import SEARCH_FOLD_FROM, SEARCH_FOLD_TO, Client, Membership, Region, Team

    region = Region.objects.get(code="pohjoinen")
    koto = Team.objects.create(
        code="koto2", name="Koto 2", kind=TeamKind.IMMIGRATION_UNIT, region=region
    )
    User = get_user_model()
    workers = []
    for i in range(50):
        user = User.objects.create(username=f"worker{i}")
        Membership.objects.create(user=user, team=koto, role=Role.CASEWORKER)
        workers.append(user.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO cases_client (first_name, last_name, date_of_birth, language,
                interpreter_needed, street_address, postal_code, post_office,
                housing_situation, children_count, family_reunification_pending,
                reunited_family, family_situation_stable, is_ppt, created_at, updated_at,
                search_name)
            SELECT f, l, DATE '1960-01-01' + (g %% 20000), 'ara', true, '', '00700', '',
                'settled', 0, false, false, false, false, now(), now(),
                translate(lower(f || ' ' || l), %s, %s)
            FROM generate_series(1, %s) g,
                LATERAL (SELECT (%s::text[])[1 + g %% %s] AS f,
                                (%s::text[])[1 + (g / %s) %% %s] AS l) names
            """,
            [
                SEARCH_FOLD_FROM,
                SEARCH_FOLD_TO,
                CLIENTS,
                FIRST,
                len(FIRST),
                LAST,
                len(FIRST),
                len(LAST),
            ],
        )
        cursor.execute(
            """
            INSERT INTO cases_case (client_id, team_id, responsible_worker_id, state,
                integration_started_on, review_due_on, ppt_coordinator, closure_reason,
                closure_text, created_at)
            SELECT c.id, %s, (%s::bigint[])[1 + c.id %% 50], 'active',
                DATE '2025-01-01' + (c.id %% 700)::int, DATE '2027-01-01' + (c.id %% 700)::int,
                '', '', '', now()
            FROM cases_client c
            """,
            [koto.pk, workers],
        )
    one = Client.objects.order_by("pk").first()
    Client.objects.filter(pk=one.pk).update(personal_identity_code=CODE, date_of_birth="1994-05-01")
    with connection.cursor() as cursor:
        for table in ("cases_client", "cases_case"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    # Whether the fold in SQL matches the fold in Python (the query's), for every name.
    from cases.models import search_form

    sample = Client.objects.filter(first_name="Päivi", last_name="Mäkinen").first()
    assert sample.search_name == search_form("Päivi Mäkinen"), sample.search_name
    return User.objects.get(pk=workers[0]), koto


def bench_search(connection, caseworker, team, query, raw_sql, params):
    from django.test import Client

    from audit.models import AccessLog

    browser = Client(HTTP_HOST="localhost")
    browser.force_login(caseworker)
    url = "/cases/"
    first = browser.get(url, {"q": query})
    assert first.status_code == 200, first.status_code
    shown = AccessLog.objects.filter(actor=caseworker, action="web_search").count()
    assert shown >= 1, "the search page showed no client"

    def page():
        response = browser.get(url, {"q": query})
        assert response.status_code == 200

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(raw_sql, params)
            rows = cursor.fetchall()
        assert rows

    return interleaved(raw, page, repeat=21), shown


def explain(connection, sql, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return " / ".join(row[0].strip() for row in cursor.fetchall()[:4])


def main():
    setup_django("silta_bench_search")
    from django.conf import settings
    from django.db import connection

    # The pages' static links without `collectstatic` (as in the tests).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    connection.set_autocommit(True)
    caseworker, team = load(connection)
    select = (
        "SELECT c.id, cl.first_name, cl.last_name, cl.date_of_birth, c.state "
        "FROM cases_case c JOIN cases_client cl ON cl.id = c.client_id "
        "WHERE c.team_id = %s AND {where} ORDER BY cl.last_name, c.id LIMIT 25"
    )
    words = NAME_QUERY.split()
    name_sql = select.format(where=" AND ".join(["cl.search_name LIKE %s"] * len(words)))
    name_params = [team.pk, *[f"%{w}%" for w in words]]
    code_sql = select.format(where="cl.personal_identity_code = %s")
    code_params = [team.pk, CODE]
    (raw_name, page_name), shown_name = bench_search(
        connection, caseworker, team, NAME_QUERY, name_sql, name_params
    )
    (raw_code, page_code), _shown = bench_search(
        connection, caseworker, team, CODE.lower(), code_sql, code_params
    )
    lines = [
        f"clients: {CLIENTS:,} (one case each, all in the searching caseworker's team)",
        f"name search '{NAME_QUERY}' (no dots): raw indexed query {raw_name * 1000:.2f} ms, "
        f"search page {page_name * 1000:.2f} ms, ratio {page_name / raw_name:.1f}x",
        f"identity code search (lower case typed): raw {raw_code * 1000:.2f} ms, "
        f"search page {page_code * 1000:.2f} ms, ratio {page_code / raw_code:.1f}x",
        f"access-log rows of the first name search: {shown_name}",
        f"raw name plan: {explain(connection, name_sql, name_params)}",
    ]
    report("search", lines)


if __name__ == "__main__":
    main()
