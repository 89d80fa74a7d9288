from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin_actions import service_action
from notifications import services
from notifications.models import (
    Notification,
    NotificationPreference,
    OutboxMessage,
    ReminderPolicy,
    TeamChannel,
)
from web.admin.base import HTTPS_URLS, ReadOnlyAdmin
from web.admin.widgets import SafeAutocomplete


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The inbox: each user sees their own notifications."""

    list_display = ["created_at", "kind", "reference", "on_date", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    actions = [
        service_action(
            name="mark_read",
            label=_("Mark as read"),
            run=lambda user, n: services.notification_mark_read(user=user, notification=n),
        )
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(recipient=request.user)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "channel",
        "key",
        "status",
        "attempts",
        "available_at",
        "last_error",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["key"]
    actions = [
        service_action(
            name="retry",
            label=_("Send again"),
            run=lambda user, message: services.outbox_retry(message=message),
        )
    ]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(SafeAutocomplete, admin.ModelAdmin):
    list_display = ["user", "language", "email", "email_digest"]
    autocomplete_fields = ["user"]


@admin.register(TeamChannel)
class TeamChannelAdmin(admin.ModelAdmin):
    list_display = ["team", "enabled"]
    formfield_overrides = HTTPS_URLS


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(admin.ModelAdmin):
    list_display = ["kind", "offsets", "enabled"]
    list_editable = ["offsets", "enabled"]
