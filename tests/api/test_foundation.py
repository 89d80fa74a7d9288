"""API v1 foundations: deny by default, tokens, problem+json errors, the schema, and the
reference data (regions, teams, the routing table)."""

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from cases.models import PostalArea
from tests.factories import make_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def token_for(user, **options):
    out = io.StringIO()
    call_command("issue_api_token", user.username, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue().strip()


@pytest.mark.parametrize("path", ["/api/v1/regions/", "/api/v1/teams/", "/api/v1/postal-areas/"])
def test_api__anonymous__401_problem_json(api, path):
    response = api.get(path)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"


def test_api__schema_and_docs_are_public_and_describe_v1(api):
    schema = api.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/postal-areas/" in schema.json()["paths"]
    docs = api.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()  # Swagger UI served from here, not a CDN


def test_api__token_reads_reference_data(api):
    org = make_org()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(org.caseworker)}")
    regions = api.get("/api/v1/regions/").json()
    assert [r["code"] for r in regions["results"]] == ["etela", "ita", "lansi", "pohjoinen"]
    teams = api.get("/api/v1/teams/?kind=youth").json()["results"]
    assert [(t["code"], t["region"], t["max_client_age"]) for t in teams] == [
        ("pohjoinen-nuoret", "pohjoinen", 30)
    ]
    area = api.get("/api/v1/postal-areas/?postal_code=00700").json()["results"]
    assert area[0]["region"] == "pohjoinen"


def test_api__routing_table_writable_by_administrators_only(api, django_user_model):
    org = make_org()
    api.force_authenticate(org.koto_supervisor)

    pk = PostalArea.objects.get(postal_code="00800").pk
    refused = api.patch(f"/api/v1/postal-areas/{pk}/", {"region": "etela"}, format="json")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    admin = django_user_model.objects.create_superuser("root", password="pw")
    api.force_authenticate(admin)
    bad = api.patch(
        f"/api/v1/postal-areas/{pk}/", {"region": "mars"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid" and "region" in bad.json()["errors"]
    ok = api.patch(f"/api/v1/postal-areas/{pk}/", {"region": "etela"}, format="json")
    assert ok.status_code == 200
    assert PostalArea.objects.get(pk=pk).region.code == "etela"


def test_api__unknown_id__404_problem_json(api):
    org = make_org()
    api.force_authenticate(org.caseworker)
    response = api.get("/api/v1/teams/999999/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_api__token_command_refuses_a_second_token_without_rotate():
    org = make_org()
    first = token_for(org.caseworker)
    with pytest.raises(CommandError, match="already has a token"):
        call_command("issue_api_token", org.caseworker.username, stderr=io.StringIO())
    assert token_for(org.caseworker, rotate=True) != first
