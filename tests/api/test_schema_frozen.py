"""The API contract stays put: the OpenAPI schema equals the committed copy, in Finnish
(the default) and in English. A change that alters a URL, a field or an error code fails
here; a deliberate change regenerates the copies:

    manage.py spectacular --lang fi --file tests/api/schema/openapi-v1.fi.yaml
    manage.py spectacular --lang en --file tests/api/schema/openapi-v1.en.yaml

The copies are generated against PostgreSQL, as the suite runs and production serves: the
integer ranges in a schema come from the database backend (SQLite's differ). Each schema
is generated in a process of its own: drf-spectacular caches parts of a schema
per process, so a second language generated in the same process is not what a fresh server
serves.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

SCHEMA_DIR = Path(__file__).parent / "schema"


@pytest.mark.parametrize("language", ["fi", "en"])
def test_schema__equals_the_committed_copy(language):
    generated = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", "spectacular", "--lang", language],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    committed = (SCHEMA_DIR / f"openapi-v1.{language}.yaml").read_text(encoding="utf-8")
    assert generated == committed, (
        f"the {language} API schema changed; if on purpose, regenerate the committed copy"
    )
