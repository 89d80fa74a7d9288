"""Admin for the access log and the disclosure log (both read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.access import PURPOSES
from audit.models import AccessLog, DisclosureLog
from audit.report import basis_choices, basis_label, disclosed_labels
from web.admin.base import AccessLoggedAdmin, LargeLogAdmin, ReadOnlyAdmin


class PurposeFilter(admin.SimpleListFilter):
    """The purposes Silta writes, as fixed choices (not the log's distinct values, which
    would read the whole log on every page)."""

    title = _("purpose")
    parameter_name = "purpose"

    def lookups(self, request, model_admin):
        return [(purpose, purpose) for purpose in PURPOSES]

    def queryset(self, request, queryset):
        return queryset.filter(purpose=self.value()) if self.value() else queryset


class BasisFilter(admin.SimpleListFilter):
    """The legal bases the apps write, as fixed choices."""

    title = _("basis")
    parameter_name = "basis"

    def lookups(self, request, model_admin):
        return basis_choices()

    def queryset(self, request, queryset):
        return queryset.filter(basis=self.value()) if self.value() else queryset


@admin.register(AccessLog)
class AccessLogAdmin(LargeLogAdmin, AccessLoggedAdmin, ReadOnlyAdmin):
    """The report: who accessed client X, when, and why (administrators only). It names
    the clients, so reading it is itself a read of their data and is logged like one."""

    list_display = [
        "created_at",
        "actor",
        "actor_role",
        "actor_team",
        "client",
        "case",
        "action",
        "purpose",
        "outcome",
    ]
    list_select_related = ["actor", "client", "case"]
    list_filter = [("created_at", admin.DateFieldListFilter), "outcome", PurposeFilter]
    search_fields = ["=client__id"]  # turns the search box on; LargeLogAdmin searches

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_module_permission(self, request):
        return request.user.is_superuser

    def subject_of(self, obj):
        return obj.client_id, obj.case_id


@admin.register(DisclosureLog)
class DisclosureLogAdmin(LargeLogAdmin, AccessLoggedAdmin, ReadOnlyAdmin):
    """The disclosure log (luovutusloki): client data disclosed outside Silta, to whom,
    what, on what basis and why (administrators only). Append-only in the database; here
    it is only read. It names the clients, so reading it is logged like the access log."""

    list_display = [
        "created_at",
        "actor",
        "client",
        "case",
        "recipient",
        "disclosed_names",
        "basis_name",
        "purpose",
        "reference",
    ]
    list_select_related = ["actor", "client", "case"]
    list_filter = [("created_at", admin.DateFieldListFilter), BasisFilter]
    search_fields = ["=client__id"]  # turns the search box on; LargeLogAdmin searches
    fields = (
        "created_at",
        "actor",
        "client",
        "case",
        "recipient",
        "disclosed_names",
        "basis_name",
        "purpose",
        "reference",
        "request_id",
    )
    readonly_fields = fields

    @admin.display(description=_("data disclosed"))
    def disclosed_names(self, obj):
        return ", ".join(disclosed_labels(obj.disclosed))

    @admin.display(description=_("basis"))
    def basis_name(self, obj):
        return basis_label(obj.basis)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_module_permission(self, request):
        return request.user.is_superuser

    def subject_of(self, obj):
        return obj.client_id, obj.case_id
