"""Admin for the access log and the disclosure log (both read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.labels import action_label, purpose_choices, purpose_label, role_label
from audit.models import AccessLog, DisclosureLog
from audit.report import basis_choices, basis_label, disclosed_labels
from core import memo
from web import labels
from web.admin.base import AccessLoggedAdmin, LargeLogAdmin, ReadOnlyAdmin


class FixedChoicesFilter(admin.SimpleListFilter):
    """A column's values as fixed choices (not the log's distinct values, which would read
    the whole log on every page); the column is the parameter's name."""

    def lookups(self, request, model_admin):
        return self.choices_of()

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.parameter_name: value}) if value else queryset


class PurposeFilter(FixedChoicesFilter):
    """The purposes Silta writes."""

    title = _("purpose")
    parameter_name = "purpose"
    choices_of = staticmethod(purpose_choices)


class BasisFilter(FixedChoicesFilter):
    """The legal bases the apps write."""

    title = _("basis")
    parameter_name = "basis"
    choices_of = staticmethod(basis_choices)


class ClientLogAdmin(LargeLogAdmin, AccessLoggedAdmin, ReadOnlyAdmin):
    """A log of reads and disclosures of client data: superusers only, read-only, each
    row about a client and maybe a case (its own read is logged for them)."""

    list_select_related = ["actor", "client", "case"]
    search_fields = ["=client__id"]  # turns the search box on; LargeLogAdmin searches

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_module_permission(self, request):
        return request.user.is_superuser

    def subject_of(self, obj):
        return obj.client_id, obj.case_id


@admin.register(AccessLog)
class AccessLogAdmin(ClientLogAdmin):
    """The report: who accessed client X, when, and why (administrators only). It names
    the clients, so reading it is itself a read of their data and is logged like one."""

    list_display = [
        "created_at",
        "actor",
        "role_name",
        "team_name",
        "client",
        "case",
        "action_name",
        "purpose_name",
        "outcome",
    ]
    list_filter = [("created_at", admin.DateFieldListFilter), "outcome", PurposeFilter]
    # The codes in words, as the client's report shows them; the action's code is kept
    # beside its words on the entry's page.
    fields = (
        "created_at",
        "actor",
        "role_name",
        "team_name",
        "client",
        "case",
        "action_name",
        "action_code",
        "purpose_name",
        "outcome",
        "request_id",
    )
    readonly_fields = fields

    @admin.display(description=_("actor's role"))
    def role_name(self, obj):
        return role_label(obj.actor_role)

    @admin.display(description=_("actor's team"))
    def team_name(self, obj):
        # The teams' and partners' names, read once a request (the row keeps the code; a
        # team no longer there is shown by it).
        names = memo.remembered(("actor team names",), labels.actor_team_names)
        return names.get(obj.actor_team, obj.actor_team)

    @admin.display(description=_("action"))
    def action_name(self, obj):
        return action_label(obj.action)

    @admin.display(description=_("action code"))
    def action_code(self, obj):
        return obj.action

    @admin.display(description=_("purpose"))
    def purpose_name(self, obj):
        return purpose_label(obj.purpose)


@admin.register(DisclosureLog)
class DisclosureLogAdmin(ClientLogAdmin):
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
    list_filter = [("created_at", admin.DateFieldListFilter), BasisFilter]
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
