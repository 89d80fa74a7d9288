"""What every admin shares: read-only admins and the access-logged admin."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.access import log_access, log_denied

admin.site.site_header = "Silta"
admin.site.site_title = "Silta"
admin.site.index_title = _("From the Immigration Unit to regional social work")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AccessLoggedAdmin(admin.ModelAdmin):
    """Reads of client data write access-log rows before the page is shown (fail closed:
    if the rows cannot be written, the request fails and shows nothing). An attempt on an
    object outside the user's scope is logged as denied."""

    def subject_of(self, obj) -> tuple[int | None, int | None]:
        """(client id, case id) of a listed or shown object."""
        raise NotImplementedError

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            log_access(
                user=request.user,
                action="admin_list",
                subjects=[self.subject_of(obj) for obj in changelist.result_list],
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        shown = getattr(response, "context_data", {}).get("original")
        if shown is not None:
            log_access(
                user=request.user,
                action="admin_change" if request.method == "POST" else "admin_view",
                subjects=[self.subject_of(shown)],
            )
        return response

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            log_denied(
                user=request.user,
                model=self.model,
                pk=object_id,
                action="admin_view",
                subject_of=self.subject_of,
            )
        return obj
