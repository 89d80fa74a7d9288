"""The partnership handbook (Kumppanuuskäsikirja): partner organisations by region,
language and kind of service, for every worker of a team. The handbook holds no client
data, so the search itself writes no access-log rows."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import Region
from cases.roles import roles_of
from core.languages import language_choices
from partners.enums import ServiceKind
from partners.models import PartnerOrganisation, split_codes
from partners.selectors import partners_search
from web.forms import SiltaForm
from web.labels import region_name

from .common import page_of


def served_languages() -> list[str]:
    codes: set[str] = set()
    for value in PartnerOrganisation.objects.filter(is_active=True).values_list(
        "languages", flat=True
    ):
        codes.update(split_codes(value))
    return sorted(codes)


class PartnerSearchForm(SiltaForm):
    region = forms.ChoiceField(label=gettext_lazy("Region"), required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language served"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind of service"), required=False)
    q = forms.CharField(label=gettext_lazy("Name or service"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        anything = [("", _("Any"))]
        self.fields["region"].choices = anything + [
            (str(region.pk), region_name(region)) for region in Region.objects.order_by("code")
        ]
        self.fields["language"].choices = anything + language_choices(served_languages())
        self.fields["kind"].choices = anything + list(ServiceKind.choices)


@login_required
def partner_directory(request):
    if not roles_of(request).memberships:
        raise PermissionDenied(_("The partnership handbook is for the teams' workers."))
    form = PartnerSearchForm(request.GET or None)
    found = partners_search()
    if form.is_valid():
        data = form.cleaned_data
        found = partners_search(
            region_id=int(data["region"]) if data["region"] else None,
            language=data["language"],
            kind=data["kind"],
            text=data["q"],
        )
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(
        request,
        "web/partners.html",
        {"form": form, "page": page_of(request, found)},
        status=status,
    )
