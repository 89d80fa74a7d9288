"""The partnership handbook: search by region, language and kind of service; the page
for every worker of a team; the import from CSV and XLSX with a preview, row-level
errors naming the row and the column, and nothing imported while any row is bad."""

from __future__ import annotations

import io

import pytest
import tablib
from django.contrib.auth import get_user_model
from django.urls import reverse

from cases.models import Region
from partners.models import PartnerOrganisation
from partners.resources import COLUMNS, PartnerOrganisationResource
from partners.selectors import partners_search
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def partner(name: str, region: str = "pohjoinen", **fields) -> PartnerOrganisation:
    values = {
        "district": "",
        "service_kinds": "residents_house",
        "languages": "fin,ara",
        "email": "kumppani@example.org",
    }
    values.update(fields)
    found = PartnerOrganisation(name=name, region=Region.objects.get(code=region), **values)
    found.full_clean()
    found.save()
    return found


@pytest.fixture
def handbook():
    return {
        "kulmakivi": partner(
            "Asukastalo Kulmakivi",
            district="Koillinen",
            service_kinds="residents_house, language",
            languages="som ara FIN",
        ),
        "tyopolku": partner("Työpolku ry", service_kinds="study_work", languages="fin,ukr,rus"),
        "laituri": partner("Kallion asukastalo Laituri", region="etela", languages="fin,som"),
        "closed": partner("Lopettanut yhdistys", languages="som", is_active=False),
    }


def test_partner__codes_are_stored_sorted_and_lower_case(handbook):
    assert handbook["kulmakivi"].languages == "ara,fin,som"
    assert handbook["kulmakivi"].service_kinds == "language,residents_house"


def test_partner__district_outside_the_region__named_error():
    bad = PartnerOrganisation(
        name="X", region=Region.objects.get(code="etela"), district="Koillinen",
        service_kinds="residents_house", languages="fin",
    )  # fmt: skip
    with pytest.raises(Exception) as error:
        bad.full_clean()
    assert "district" in error.value.message_dict


def test_search__by_region_language_and_kind(handbook):
    pohjoinen = Region.objects.get(code="pohjoinen")
    assert list(partners_search(region_id=pohjoinen.pk)) == [
        handbook["kulmakivi"], handbook["tyopolku"]
    ]  # fmt: skip
    assert list(partners_search(language="som")) == [handbook["kulmakivi"], handbook["laituri"]]
    assert list(partners_search(language="ara", kind="language")) == [handbook["kulmakivi"]]
    assert list(partners_search(kind="study_work", region_id=pohjoinen.pk)) == [
        handbook["tyopolku"]
    ]
    # a code is matched whole: "ar" is not "ara"
    assert list(partners_search(language="ar")) == []
    assert list(partners_search(text="kallion")) == [handbook["laituri"]]


@pytest.mark.parametrize(
    "who", ["caseworker", "koto_supervisor", "receiving_worker", "front_desk", "outsider"]
)
def test_page__every_worker_of_a_team_searches(client, org, handbook, who):
    client.force_login(getattr(org, who))
    page = client.get(reverse("web:partners"), {"language": "som", "kind": "residents_house"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Asukastalo Kulmakivi" in text and "Kallion asukastalo Laituri" in text
    assert "Työpolku ry" not in text and "Lopettanut yhdistys" not in text
    assert reverse("web:partners") in text  # in the header's navigation
    assert "Kumppanuuskäsikirja" in text


def test_page__no_team_403_and_anonymous_to_login(client, handbook):
    assert client.get(reverse("web:partners")).status_code == 302
    client.force_login(UserFactory())
    assert client.get(reverse("web:partners")).status_code == 403


def test_page__unknown_choice_shown_beside_the_field(client, org, handbook):
    client.force_login(org.caseworker)
    page = client.get(reverse("web:partners"), {"language": "xxx"})
    assert page.status_code == 400
    assert 'aria-invalid="true"' in page.content.decode()


# Import ---------------------------------------------------------------------------------

GOOD = {
    "name": "Uusi asukastalo",
    "region": "ita",
    "district": "Itäinen",
    "service_kinds": "residents_house,leisure",
    "services": "Kahvila ja neuvonta",
    "languages": "fin,ara",
    "opening_hours": "ma–pe 9–16",
    "street_address": "Uudenkatu 1",
    "postal_code": "00930",
    "contact_name": "Ohjaaja",
    "email": "uusi@example.org",
    "phone": "09 555 0000",
    "website": "https://uusi.example.org/",
    "is_active": "1",
}


def dataset(*rows: dict) -> tablib.Dataset:
    data = tablib.Dataset(headers=list(COLUMNS))
    for row in rows:
        data.append([row.get(column, "") for column in COLUMNS])
    return data


def test_import__good_rows_all_imported():
    second = GOOD | {"name": "Toinen kerho", "region": "lansi", "district": ""}
    result = PartnerOrganisationResource().import_data(dataset(GOOD, second), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert sorted(PartnerOrganisation.objects.values_list("name", flat=True)) == [
        "Toinen kerho", "Uusi asukastalo"
    ]  # fmt: skip


def test_import__a_bad_row__nothing_imported_and_row_and_column_named():
    bad = GOOD | {"name": "Huono rivi", "languages": "fin,xyz", "region": "nowhere"}
    result = PartnerOrganisationResource().import_data(
        dataset(GOOD, bad, GOOD | {"name": "Kolmas"}), dry_run=False
    )
    assert result.has_validation_errors()
    [invalid] = result.invalid_rows
    assert invalid.number == 2
    errors = invalid.field_specific_errors
    assert set(errors) == {"languages", "region"}
    assert "xyz" in " ".join(errors["languages"])
    assert "nowhere" in " ".join(errors["region"])
    assert not PartnerOrganisation.objects.exists()


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "pw-12345"))
    return client


def _upload(admin_client, content: bytes, name: str, fmt: str):
    url = reverse("admin:partners_partnerorganisation_import")
    upload = io.BytesIO(content)
    upload.name = name
    return admin_client.post(
        url,
        {"resource": "0", "format": fmt, "import_file": upload},
    )


def _format_index(admin_client, label: str) -> str:
    page = admin_client.get(reverse("admin:partners_partnerorganisation_import")).content.decode()
    import re

    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', page)
    return next(value for value, text in options if text.strip().lower() == label)


def test_admin_import__csv_with_a_bad_row__names_row_and_column_and_imports_nothing(
    admin_client,
):
    bad = GOOD | {"name": "Huono rivi", "languages": "fin,xyz"}
    content = dataset(GOOD, bad).export("csv").encode()
    page = _upload(admin_client, content, "kumppanit.csv", _format_index(admin_client, "csv"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "xyz" in text and "languages" in text
    assert "confirm" not in text.lower() or 'name="import_file_name"' not in text
    assert not PartnerOrganisation.objects.exists()


def test_admin_import__xlsx_preview_then_confirm_imports(admin_client):
    content = dataset(GOOD).export("xlsx")
    page = _upload(admin_client, content, "kumppanit.xlsx", _format_index(admin_client, "xlsx"))
    text = page.content.decode()
    assert "Uusi asukastalo" in text  # the preview
    assert not PartnerOrganisation.objects.exists()  # nothing yet
    import re

    form = dict(re.findall(r'name="(import_file_name|original_file_name|format|resource)"'
                           r'\s+value="([^"]*)"', text))  # fmt: skip
    assert "import_file_name" in form, text[:3000]
    confirmed = admin_client.post(
        reverse("admin:partners_partnerorganisation_process_import"), form
    )
    assert confirmed.status_code == 302
    assert PartnerOrganisation.objects.get().region.code == "ita"
