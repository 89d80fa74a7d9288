import pytest
from django.db import connection

from tests.factories import make_org


@pytest.fixture(autouse=True)
def _suite_runs_on_postgresql(request):
    """The suite's promise: real PostgreSQL, never SQLite standing in for it."""
    if "django_db_setup" in request.fixturenames:
        assert connection.vendor == "postgresql", "run the suite with `make test`"


@pytest.fixture
def org(db):
    return make_org()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for production logins, not for test fixtures.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # The manifest storage needs `collectstatic`; tests render admin pages without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
