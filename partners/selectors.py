"""Reads of the partnership handbook. The handbook holds no client data; a home-base
suggestion reads the client's postal code, which the caller has already access-logged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from cases.models import Case, PostalArea

from .enums import ServiceKind
from .models import HomeBase, PartnerOrganisation, code_pattern, split_codes


def partners_search(
    *,
    region_id: int | None = None,
    language: str = "",
    kind: str = "",
    text: str = "",
) -> QuerySet[PartnerOrganisation]:
    """Active organisations in a region (any district of it), serving a language (ISO
    639-3) and offering a kind of service; `text` matches the name or the services."""
    found = PartnerOrganisation.objects.filter(is_active=True).select_related("region")
    if region_id:
        found = found.filter(region_id=region_id)
    if language:
        found = found.filter(languages__regex=code_pattern(language.lower()))
    if kind:
        found = found.filter(service_kinds__regex=code_pattern(kind))
    if text.strip():
        words = text.split()
        for word in words:
            found = found.filter(Q(name__icontains=word) | Q(services__icontains=word))
    return found.order_by("name")


@dataclass
class Suggestion:
    organisation: PartnerOrganisation
    same_district: bool
    matching_kinds: list[str] = field(default_factory=list)


@dataclass
class Suggestions:
    """Partners near the client's address: the postal area's region and major district."""

    postal_area: PostalArea | None
    language: str
    needs: list[str]
    items: list[Suggestion] = field(default_factory=list)


def home_base_suggestions(case: Case, *, needs: Iterable[str] = (), limit: int = 10) -> Suggestions:
    """Active partners in the region of the client's postal code (its own major district
    first, then those serving the whole region or another district) that serve the
    client's language, those offering a kind of service the client needs before the
    rest. A residents' house is always a need: a home base is a place to return to.
    Without a routable postal code there is nothing to suggest."""
    client = case.client
    needs_list = list(dict.fromkeys([ServiceKind.RESIDENTS_HOUSE.value, *needs]))
    area = PostalArea.objects.filter(postal_code=client.postal_code).first()
    result = Suggestions(postal_area=area, language=client.language, needs=needs_list)
    if area is None or not client.language:
        return result
    candidates = PartnerOrganisation.objects.filter(
        is_active=True,
        region_id=area.region_id,
        languages__regex=code_pattern(client.language.lower()),
    ).filter(Q(district="") | Q(district=area.suurpiiri))
    for organisation in candidates:
        kinds = split_codes(organisation.service_kinds)
        result.items.append(
            Suggestion(
                organisation=organisation,
                same_district=organisation.district == area.suurpiiri,
                matching_kinds=[kind for kind in needs_list if kind in kinds],
            )
        )
    result.items.sort(
        key=lambda s: (not s.same_district, -len(s.matching_kinds), s.organisation.name)
    )
    result.items = result.items[:limit]
    return result


def home_base_of(case: Case) -> HomeBase | None:
    return HomeBase.objects.filter(case=case).select_related("organisation").first()
