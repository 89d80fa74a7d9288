"""Admin for the access log (read-only)."""

from __future__ import annotations

from django.contrib import admin

from audit.models import AccessLog
from web.admin.base import AccessLoggedAdmin, ReadOnlyAdmin


@admin.register(AccessLog)
class AccessLogAdmin(AccessLoggedAdmin, ReadOnlyAdmin):
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
    list_filter = ["outcome", "action", "purpose"]
    search_fields = ["=client__id", "client__last_name", "actor__username"]
    date_hierarchy = "created_at"

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_module_permission(self, request):
        return request.user.is_superuser

    def subject_of(self, obj):
        return obj.client_id, obj.case_id
