"""Admin for the partnership handbook (Kumppanuuskäsikirja): the organisations, kept by
hand or imported from CSV or XLSX (django-import-export: a preview first, each bad row's
errors named by row and column, and nothing imported while any row is bad). The handbook
holds no client data, so nothing here is access-logged."""

from __future__ import annotations

from django.contrib import admin
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats

from partners.models import PartnerOrganisation
from partners.resources import PartnerOrganisationResource
from web.admin.base import HTTPS_URLS


@admin.register(PartnerOrganisation)
class PartnerOrganisationAdmin(ImportExportModelAdmin):
    resource_classes = [PartnerOrganisationResource]
    formats = [base_formats.CSV, base_formats.XLSX]
    list_display = ["name", "region", "district", "service_kinds", "languages", "is_active"]
    list_filter = ["region", "is_active"]
    search_fields = ["name", "services", "district"]
    # The organisation's link, typed without a scheme, is read as https.
    formfield_overrides = HTTPS_URLS
