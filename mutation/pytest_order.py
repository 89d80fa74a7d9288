"""A pytest plugin for the mutation runs (mutation/run_tests.py loads it): the tests that
use no database run first, then pytest-django's own order (database tests, then
transactional ones). With `-x`, a mutant of a pure rule is then killed by its quick unit
tests before any database test starts."""

from __future__ import annotations

import pytest

DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


def _uses_database(item: pytest.Item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return item.get_closest_marker("django_db") is not None or bool(DATABASE_FIXTURES & fixtures)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_uses_database)  # stable: each group keeps pytest-django's order
