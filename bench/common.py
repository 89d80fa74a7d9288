"""Shared set-up for benchmarks and drills: Django on the throwaway PostgreSQL (and Redis)
that `make bench` / `make drills` start, a migrated database of the bench's own."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ["DJANGO_READ_DOT_ENV"] = "0"


def setup_django(database: str, *, app_role: str | None = None) -> None:
    """Point Django at a fresh database of this name on the bench server and migrate it.

    With `app_role`, Silta runs as that limited role as in production (README, "Database
    roles"): DATABASE_URL names it and DATABASE_OWNER_URL the server's owner, as whom
    `migrate` creates the role if it is missing and grants its privileges. Processes the
    caller starts inherit both."""
    from urllib.parse import urlsplit

    import psycopg

    url = os.environ["DATABASE_URL"]
    base = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    os.environ["DATABASE_URL"] = f"{base}/{database}"
    if app_role:
        parts = urlsplit(base)
        host = parts.netloc.rsplit("@", 1)[-1]
        os.environ["DATABASE_OWNER_URL"] = f"{base}/{database}"
        os.environ["DATABASE_URL"] = f"{parts.scheme}://{app_role}@{host}/{database}"

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def kept_or_fresh_database(database: str, *, reuse: bool) -> bool:
    """For the profilers: with `reuse`, the database of this name kept from an earlier run
    (migrated to today's schema) if there is one; else a fresh one (`setup_django`). True
    when it is fresh and must be loaded."""
    import psycopg

    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        kept = found.fetchone() is not None
    if not (reuse and kept):
        setup_django(database)
        return True
    import django
    from django.core.management import call_command

    os.environ["DATABASE_URL"] = f"{base}/{database}"
    django.setup()
    call_command("migrate", verbosity=0)
    return False


def timed(fn, *, repeat: int = 5, before=None) -> float:
    """Median wall time of `fn` over `repeat` runs; `before` runs untimed before each."""
    times = []
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(baseline, candidate, *, repeat: int = 7, before=None) -> tuple[float, float]:
    """Median times of two functions run alternately, so drift (table bloat, caches, other
    load) falls on both alike."""
    pairs = []
    for _ in range(repeat):
        pairs.append(
            (timed(baseline, repeat=1, before=before), timed(candidate, repeat=1, before=before))
        )
    return (statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs))


def report(name: str, lines: list[str]) -> None:
    text = "\n".join([f"# {name}", *lines, ""])
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"{name}.txt").write_text(text, encoding="utf-8")


@contextlib.contextmanager
def signed_in_clients(today: str, supervisor, worker):
    """The pages benches' two clients, on `today` at 10:00 Helsinki time, the clock
    ticking: the web's signed in as `supervisor`, the API's with a token of `worker`. As
    the tests do, pages are served without collectstatic's manifest."""
    import time_machine
    from django.conf import settings
    from django.test import Client, override_settings
    from knox.models import AuthToken

    plain_static = override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    )
    with plain_static, time_machine.travel(f"{today} 10:00 +02:00", tick=True):
        web = Client(HTTP_HOST="localhost")
        web.force_login(supervisor)
        api = Client(
            HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=worker)[1]}",
            HTTP_HOST="localhost",
        )
        yield web, api
