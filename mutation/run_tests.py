"""The test command cosmic-ray runs for each mutant (see mutation/run.py).

Every run starts from a fresh copy of the migrated template database, so a transactional
test that empties the tables cannot leave the next mutant's run without reference data,
and `--reuse-db` only saves the migrations. Usage: run_tests.py TEST_PATH...
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

# Printed when the run could not test the mutant at all (no database, a test path that
# does not exist): cosmic-ray counts every non-zero exit as "killed", so mutation/run.py
# looks for this marker and fails the run instead of counting it.
INFRA_FAILURE = "MUTATION-INFRA-FAILURE"


def main(paths: list[str]) -> int:
    url = os.environ["DATABASE_URL"]  # postgres://user@host:port/<template>
    template = urlsplit(url).path.lstrip("/")
    test_db = f"test_{template}"  # the name pytest-django gives the test database
    try:
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(test_db))
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(test_db), sql.Identifier(template)
                )
            )
    except psycopg.Error as exc:
        print(f"{INFRA_FAILURE}: could not copy the template database: {exc}", flush=True)
        return 97
    missing = [p for p in paths if not os.path.exists(p.split("::")[0])]
    if missing:
        print(f"{INFRA_FAILURE}: no such test path: {' '.join(missing)}", flush=True)
        return 97
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # only pytest-django: faster
    args = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    args += ["-p", "pytest_django.plugin", "-p", "mutation.pytest_order", "--reuse-db", *paths]
    code = subprocess.run(args, env=env, check=False).returncode  # noqa: S603
    if code in (4, 5):  # pytest's usage error, or no test collected: nothing was tested
        print(f"{INFRA_FAILURE}: pytest exited {code}", flush=True)
        return 97
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
