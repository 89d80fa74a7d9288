"""The OpenAPI document is the API's contract (docs/api/openapi-v1.yaml):

- it is what the code generates, validated with no warning;
- it is one document whatever the fetcher's language;
- it changes only in ways that do not break a client, unless the break is declared
  (docs/api/breaking-changes.yaml, announced in docs/api/CHANGELOG.md): Atlassian's
  openapi-diff (pinned in package.json) compares it with the last published document.

A deliberate change regenerates the copy, on PostgreSQL as the suite runs (the integer
ranges in a schema come from the database backend):

    manage.py spectacular --validate --fail-on-warn --file docs/api/openapi-v1.yaml
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from rest_framework.test import APIClient

API_DOCS = Path(settings.BASE_DIR) / "docs" / "api"
OPENAPI_DIFF = Path(settings.BASE_DIR) / "node_modules" / ".bin" / "openapi-diff"


def test_schema__is_what_the_code_generates_and_validates_without_warnings():
    generated = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generated.returncode == 0, generated.stderr
    committed = (API_DOCS / "openapi-v1.yaml").read_text(encoding="utf-8")
    assert generated.stdout == committed, (
        "the API schema changed: if on purpose, regenerate docs/api/openapi-v1.yaml "
        "(see this module's docstring) and say so in docs/api/CHANGELOG.md"
    )


@pytest.mark.django_db
def test_schema__served_identically_whatever_the_language():
    served = {}
    for language in ("fi", "sv", "en"):
        for query in ("", f"?lang={language}"):
            response = APIClient().get(f"/api/v1/schema/{query}", HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200
            served[language, query] = response.content
    assert len(set(served.values())) == 1
    # ... and it is the committed contract, byte for byte.
    assert served["fi", ""] == (API_DOCS / "openapi-v1.yaml").read_bytes()


def _discriminated_as_any_of(node):
    """A `oneOf` with a discriminator as `anyOf`: the discriminator's values already make
    its branches exclusive, so a client sees the same contract, while openapi-diff's
    comparison of a `oneOf` (each branch against the others' negation) grows exponentially
    with the branches' properties: over 30 minutes for the transfer's two disclosures,
    about 20 seconds so."""
    if isinstance(node, dict):
        if "oneOf" in node and "discriminator" in node:
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _discriminated_as_any_of(value)
    elif isinstance(node, list):
        for value in node:
            _discriminated_as_any_of(value)
    return node


def _breaking(base: Path, current: Path, out: Path) -> set[tuple[str, str]]:
    compared = []
    for document in (base, current):
        copy = out.parent / f"compared-{document.name}"
        loaded = _discriminated_as_any_of(yaml.safe_load(document.read_text()))
        copy.write_text(yaml.safe_dump(loaded, sort_keys=False, allow_unicode=True))
        compared.append(str(copy))
    # Into a file, not a pipe: Node exits before a pipe takes all of a large report.
    with out.open("w") as stdout:
        result = subprocess.run(  # noqa: S603 - the pinned tool, our own files
            [str(OPENAPI_DIFF), *compared],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    output = out.read_text()
    report, _end = json.JSONDecoder().raw_decode(output, output.index("{"))
    assert result.returncode in (0, 1), result.stderr
    found = set()
    for difference in report.get("breakingDifferences", []):
        details = difference.get("sourceSpecEntityDetails") or difference.get(
            "destinationSpecEntityDetails"
        )
        found.add((difference["code"], details[0]["location"]))
    return found


def test_schema__breaks_no_client_without_declaring_it(tmp_path):
    found = _breaking(
        API_DOCS / "openapi-v1.baseline.yaml", API_DOCS / "openapi-v1.yaml", tmp_path / "diff"
    )
    declared = {
        (entry["code"], entry["location"])
        for entry in yaml.safe_load((API_DOCS / "breaking-changes.yaml").read_text())["declared"]
        or []
    }
    undeclared = found - declared
    assert not undeclared, (
        "breaking changes not declared in docs/api/breaking-changes.yaml: "
        + "; ".join(f"{code} at {location}" for code, location in sorted(undeclared))
    )
    stale = declared - found
    assert not stale, f"declared breaking changes that no longer happen: {sorted(stale)}"


def test_every_error_the_handler_can_answer__is_declared_in_the_contract():
    from api.errors import error_table

    document = yaml.safe_load((API_DOCS / "openapi-v1.yaml").read_text())
    declared = {
        (int(status), line.split("`")[1])
        for operations in document["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict) and "responses" in operation
        for status, response in operation["responses"].items()
        if int(status) >= 400
        for line in response["description"].splitlines()
        if line.startswith("- `")
    }
    table = {(kind.status, kind.code) for kind in error_table()}
    # 405 and 406 are the framework's answers to a request outside the contract.
    assert table - declared == {(405, "method_not_allowed"), (406, "not_acceptable")}
    assert declared <= table
