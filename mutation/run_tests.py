"""The test command cosmic-ray runs for each mutant (see mutation/run.py).

Every run starts from a fresh copy of the migrated template database, so a transactional
test that empties the tables cannot leave the next mutant's run without reference data,
and `--reuse-db` only saves the migrations. Usage: run_tests.py TEST_PATH...

Only the tests that run the mutated line are run (as mutmut and PIT do): mutation/run.py
records, in the unmutated baseline run, which test ran which line of the module (coverage's
per-test contexts) and names that map in MUTATION_COVERAGE_MAP. A test that never runs a
line cannot tell its mutant from the original, so leaving it out changes no outcome, only
the time. A line run at import (a decorator, a default value) or by no test at all, or a
selection pytest cannot collect, falls back to every test given.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

# Printed when the run could not test the mutant at all (no database, a test path that
# does not exist): cosmic-ray counts every non-zero exit as "killed", so mutation/run.py
# looks for this marker and fails the run instead of counting it.
INFRA_FAILURE = "MUTATION-INFRA-FAILURE"
# Set by mutation/run.py for the baseline run: record which test runs which line.
COVERAGE_OUT = "MUTATION_COVERAGE_OUT"
COVERAGE_MAP = "MUTATION_COVERAGE_MAP"


def changed_lines(before: str, after: str) -> set[int]:
    """The lines of `before` (1-based) that differ in `after`."""
    lines: set[int] = set()
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag != "equal":
            lines.update(range(i1 + 1, i2 + 1) if i2 > i1 else (i1, i1 + 1))
    return lines


def covering_tests(mapping: dict, lines: set[int]) -> list[str] | None:
    """The node ids of the tests that ran any of `lines` unmutated, or None for all tests
    (a line run at import or by no test)."""
    tests: set[str] = set()
    for line in lines:
        ran_by = mapping["lines"].get(str(line))
        if not ran_by or "" in ran_by:
            return None
        tests.update(ran_by)
    return sorted(tests)


def selected(paths: list[str]) -> list[str]:
    mapping_file = os.environ.get(COVERAGE_MAP)
    if not mapping_file:
        return paths
    mapping = json.loads(Path(mapping_file).read_text())
    module = Path(mapping["module"])
    tests = covering_tests(mapping, changed_lines(mapping["source"], module.read_text()))
    return tests or paths


def copy_template_database() -> bool:
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
        return False
    return True


def pytest(tests: list[str]) -> int:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # only pytest-django: faster
    args = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    args += ["-p", "pytest_django.plugin", "-p", "mutation.pytest_order", "--reuse-db"]
    if out := os.environ.get(COVERAGE_OUT):
        env["COVERAGE_FILE"] = out
        module = os.environ["MUTATION_MODULE"]
        args += ["-p", "pytest_cov.plugin", f"--cov={Path(module).parent}", "--cov-context=test"]
        args += ["--cov-report=", "--no-cov-on-fail"]
    return subprocess.run([*args, *tests], env=env, check=False).returncode  # noqa: S603


def main(paths: list[str]) -> int:
    if not copy_template_database():
        return 97
    missing = [p for p in paths if not os.path.exists(p.split("::")[0])]
    if missing:
        print(f"{INFRA_FAILURE}: no such test path: {' '.join(missing)}", flush=True)
        return 97
    tests = selected(paths)
    code = pytest(tests)
    if code in (4, 5) and tests != paths:  # the selection could not be collected: run all
        print(f"selection of {len(tests)} tests not collected (pytest {code}); all run", flush=True)
        if not copy_template_database():
            return 97
        code = pytest(paths)
    if code in (4, 5):  # pytest's usage error, or no test collected: nothing was tested
        print(f"{INFRA_FAILURE}: pytest exited {code}", flush=True)
        return 97
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
