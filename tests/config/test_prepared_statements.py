"""PostgreSQL prepares what a connection runs more often than DATABASE_PREPARE_THRESHOLD (5
by default): the hot paths' statements are planned once per connection, not per request."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F

from cases.models import Team

pytestmark = pytest.mark.django_db


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_query_run_a_sixth_time_is_prepared_on_the_server_with_its_parameters_bound():
    def run(code: str) -> None:  # a statement no other test runs (its text is the key)
        list(Team.objects.filter(code=code).annotate(probe=F("pk")).values_list("probe"))

    for code in ["koto1", "koto2", "x", "y", "z"]:
        run(code)
    assert not [s for s in _prepared() if '"probe"' in s]
    run("w")  # the sixth time
    prepared = [s for s in _prepared() if '"probe"' in s]
    assert len(prepared) == 1
    # Bound on the server ($1), not written into the text: one plan whatever the code.
    assert "$1" in prepared[0] and "koto1" not in prepared[0]
