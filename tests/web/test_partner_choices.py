"""The partner-organisation selects of the home base and the referral forms: nothing
chosen first, the suggested organisations in their order, then the others by name (the
home base's within the region, the referral's only those with an e-mail address)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.utils import translation

from cases.models import Region
from partners.models import PartnerOrganisation
from web.views.partners import HomeBaseForm, ReferralForm

pytestmark = pytest.mark.django_db


def partner(name: str, region: str, email: str = "x@example.org") -> PartnerOrganisation:
    return PartnerOrganisation.objects.create(
        name=name,
        region=Region.objects.get(code=region),
        service_kinds="leisure",
        languages="fin",
        email=email,
    )


def test_partner_choices__suggested_first_then_the_rest_by_name(org):
    suggested = partner("Zeta-talo", "ita")
    partner("Beta-kerho", "ita")
    partner("Alfa-piste", "ita", email="")
    partner("Lännen kerho", "lansi")
    suggestions = [SimpleNamespace(organisation=suggested)]
    region = Region.objects.get(code="ita")
    with translation.override("en"):
        home = HomeBaseForm(suggestions=suggestions, region_id=region.pk)
        referral = ReferralForm(suggestions=suggestions)
        home_choices = home.fields["organisation"].choices
        referral_choices = referral.fields["organisation"].choices

    def shown(choices):
        return [(str(label), [name for _pk, name in group]) for label, group in choices[1:]]

    assert home_choices[0][0] == "" and referral_choices[0][0] == ""
    assert shown(home_choices) == [
        ("Suggested", ["Zeta-talo"]),
        ("Other organisations of the region", ["Alfa-piste", "Beta-kerho"]),
    ]
    assert shown(referral_choices) == [
        ("Suggested", ["Zeta-talo"]),
        ("All organisations in the handbook", ["Beta-kerho", "Lännen kerho"]),
    ]
